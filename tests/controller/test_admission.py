"""The Subnet admission webhook, reviewed by POSTing AdmissionReviews to Kopf's server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from ovnctl.controller import Controller, ControllerSettings
from ovnctl.k8s.kopf_subnets import WebhookSettings
from ovnctl.k8s.leader import LeaseSettings
from ovnctl.k8s.resources import PODS, SUBNETS
from tests.controller.admission_client import Webhook, free_port
from tests.controller.conftest import ControllerFactory, ControllerThread, eventually
from tests.controller.objects import create_all, kube_ovn_nad, pod, subnet
from tests.controller.subnet_checks import wait_ready

PATH = "/validate-subnet"


@pytest.fixture
async def webhook(start_controller: ControllerFactory) -> AsyncIterator[Webhook]:
    port = free_port()
    await start_controller(
        webhook=WebhookSettings(port=port, addr="127.0.0.1", insecure=True),
    )
    url = f"http://127.0.0.1:{port}{PATH}"
    async with aiohttp.ClientSession() as session:
        hook = Webhook(url, session)

        async def up() -> bool:
            try:
                await hook.review(subnet("probe", "10.250.0.0/24", provider="probe.default"))
            except (aiohttp.ClientError, AssertionError):
                return False
            return True

        await eventually(up, until=bool)
        yield hook


@pytest.mark.parametrize(
    ("spec", "field", "value"),
    [
        ({"cidrBlock": "10.16.0.0/33"}, "spec.cidrBlock", "10.16.0.0/33"),
        ({"cidrBlock": "10.16.0.0/24", "protocol": "IPv6"}, "spec.protocol", "IPv6"),
        ({"cidrBlock": "10.16.0.0/24", "gateway": "10.99.0.1"}, "spec.gateway", "10.99.0.1"),
        (
            {"cidrBlock": "10.16.0.0/24", "excludeIps": ["10.16.0.x"]},
            "spec.excludeIps",
            "10.16.0.x",
        ),
        (
            {"cidrBlock": "10.16.0.0/24", "excludeIps": ["10.16.0.9..10.16.0.2"]},
            "spec.excludeIps",
            "10.16.0.9..10.16.0.2",
        ),
        ({"cidrBlock": "10.16.0.0/24", "provider": "no dots"}, "spec.provider", "no dots"),
    ],
)
async def test_each_spec_rule_is_denied_naming_field_and_value(
    webhook: Webhook, spec: dict[str, Any], field: str, value: str
) -> None:
    """A spec the reconciler would refuse is refused at admission, with field and value."""
    message = await webhook.denial({**subnet("bad", "x"), "spec": spec})
    assert field in message
    assert value in message


async def test_a_valid_subnet_is_admitted_without_warnings(webhook: Webhook) -> None:
    """A good spec of the primary provider: allowed, nothing to warn about."""
    response = await webhook.review(subnet("good", "10.16.0.0/24", gateway="10.16.0.1"))
    assert response["allowed"] is True
    assert not response.get("warnings")


async def test_overlap_within_a_provider_is_denied_but_not_across_providers(
    kube, webhook: Webhook
) -> None:
    """Overlapping a cached subnet of the same provider is refused; another provider's is not."""
    await create_all(kube, subnet("first", "10.16.0.0/16"))
    await wait_ready(kube, "first")
    message = await webhook.denial(subnet("second", "10.16.5.0/24"))
    assert "spec.cidrBlock" in message
    assert "'first'" in message
    assert "overlap" in message
    elsewhere = await webhook.review(subnet("other", "10.16.5.0/24", provider="net.default"))
    assert elsewhere["allowed"] is True


async def test_a_second_default_is_denied(kube, webhook: Webhook) -> None:
    """Only one subnet may have default: true."""
    await create_all(kube, subnet("one", "10.16.0.0/24", default=True))
    await wait_ready(kube, "one")
    message = await webhook.denial(subnet("two", "10.17.0.0/24", default=True))
    assert "spec.default" in message
    assert "(one, two)" in message


async def test_a_missing_nad_is_admitted_with_a_warning(kube, webhook: Webhook) -> None:
    """The NAD may come later: admitted, and the warning names the provider and the NAD."""
    response = await webhook.review(subnet("att", "10.20.0.0/24", provider="attnet.default.ovn"))
    assert response["allowed"] is True
    assert any("attnet" in w and "not found" in w for w in response["warnings"])
    await create_all(kube, kube_ovn_nad("attnet"))
    await eventually(
        lambda: webhook.review(subnet("att", "10.20.0.0/24", provider="attnet.default.ovn")),
        until=lambda response: not response.get("warnings"),
    )


async def test_cidr_and_protocol_are_fixed_while_addresses_are_allocated(
    kube, webhook: Webhook
) -> None:
    """cidrBlock cannot change while a pod holds an address in it; with none, it can."""
    # The pod after the subnet is Ready: a pod seen before any default subnet keeps its
    # primary network to itself (tests/controller/test_networks_forms.py).
    await create_all(kube, subnet("used", "10.16.0.0/24", default=True))
    await wait_ready(kube, "used")
    await create_all(kube, pod("p1"))
    await eventually(
        lambda: kube.get(SUBNETS, name="used"),
        until=lambda body: (body.get("status") or {}).get("v4usingIPs") == 1,
    )
    old = await kube.get(SUBNETS, name="used")
    new = {**old, "spec": {**old["spec"], "cidrBlock": "10.30.0.0/24"}}
    message = await webhook.denial(new, old=old)
    assert "spec.cidrBlock" in message
    assert "10.30.0.0/24" in message
    assert "1 addresses are allocated" in message
    dual = {**old, "spec": {**old["spec"], "cidrBlock": "10.16.0.0/24,fd00::/120"}}
    assert "spec.cidrBlock" in await webhook.denial(dual, old=old)

    await kube.delete(PODS, name="p1", namespace="default")
    await eventually(
        lambda: kube.get(SUBNETS, name="used"),
        until=lambda body: (body.get("status") or {}).get("v4usingIPs") == 0,
    )
    old = await kube.get(SUBNETS, name="used")
    new = {**old, "spec": {**old["spec"], "cidrBlock": "10.30.0.0/24"}}
    assert (await webhook.review(new, old=old))["allowed"] is True


async def test_an_update_that_keeps_the_spec_is_always_admitted(kube, webhook: Webhook) -> None:
    """A refused subnet's finalizer removal must pass, or its deletion would wedge."""
    await create_all(kube, subnet("first", "10.16.0.0/16"))
    await wait_ready(kube, "first")
    clash = subnet("clash", "10.16.1.0/24")
    old = {**clash, "metadata": {**clash["metadata"], "finalizers": ["kubeovn.io/ovnctl"]}}
    response = await webhook.review(clash, old=old)
    assert response["allowed"] is True


async def test_reviews_read_no_api(sim, webhook: Webhook) -> None:
    """A review sends no request to the API server: it reads only the caches."""
    sim.reset_request_log()
    await webhook.review(subnet("x", "10.16.0.0/24", provider="net.default"))
    await asyncio.sleep(0)
    reads = [e for e in sim.request_log.entries if (e.user_agent or "").startswith("kopf/")]
    assert reads == []


def test_controller_without_webhook_settings_registers_no_webhook(sim) -> None:
    """No --webhook-port: no validation handler (Kopf refuses to run one without a server)."""
    controller = Controller(settings=ControllerSettings(kubeconfig=str(sim.kubeconfig_path)))
    try:
        assert not controller.kopf.registry._webhooks.get_all_handlers()
    finally:
        controller.api.close()


async def test_a_denial_is_logged_at_info_not_as_an_error(webhook: Webhook, caplog) -> None:
    """A refused spec is a user's mistake: Kopf's 'failed permanently' ERROR becomes INFO."""
    with caplog.at_level(logging.INFO, logger="kopf"):
        await webhook.denial(subnet("bad", "10.16.0.0/33"))
    denials = [r for r in caplog.records if "spec.cidrBlock" in r.getMessage()]
    assert denials
    assert all(r.levelno == logging.INFO for r in denials)
    assert denials[0].getMessage().startswith("Subnet admission denied: ")


async def test_the_standby_serves_reviews_from_its_warm_caches(
    sim, kube, start_controller: ControllerFactory
) -> None:
    """Both replicas serve: the standby (not leading, IPAM not rebuilt) refuses an overlap
    with a Subnet it only knows from its cache."""
    leader_port, standby_port = free_port(), free_port()

    def settings(identity: str, port: int) -> dict[str, Any]:
        return {
            "leader_election": LeaseSettings(identity=identity, namespace="default"),
            "webhook": WebhookSettings(port=port, addr="127.0.0.1", insecure=True),
        }

    await start_controller(**settings("leader", leader_port))
    await create_all(kube, subnet("first", "10.16.0.0/16"))
    await wait_ready(kube, "first")
    standby = ControllerThread(
        ControllerSettings(kubeconfig=str(sim.kubeconfig_path), **settings("standby", standby_port))
    )
    starting = asyncio.create_task(standby.start())
    try:
        await eventually(
            lambda: asyncio.sleep(0, standby.controller.state), until=lambda s: s == "standby"
        )
        async with aiohttp.ClientSession() as session:
            hook = Webhook(f"http://127.0.0.1:{standby_port}{PATH}", session)

            async def overlap_denied() -> str:
                try:
                    response = await hook.review(subnet("second", "10.16.5.0/24"))
                except (aiohttp.ClientError, AssertionError):
                    return ""
                return "" if response["allowed"] else str(response["status"]["message"])

            message = await eventually(overlap_denied, until=bool)
        assert "'first'" in message
        assert standby.controller.state == "standby"
    finally:
        starting.cancel()
        await asyncio.to_thread(standby.stop)
