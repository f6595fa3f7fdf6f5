"""The IPPool admission webhook, reviewed by POSTing AdmissionReviews to Kopf's server.

Each rule is the IPPool reconciler's own (``check_pool``, ``check_overlaps``,
``subnet_change``): a denial carries the message the pool's condition would.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from ovnctl.caches import IPPoolCache, SubnetCache
from ovnctl.caches.subnets import index_subnet_by_name
from ovnctl.ipam import IPAM
from ovnctl.k8s.kopf_subnets import WebhookSettings
from ovnctl.reconcilers.ippool_admission import IPPoolAdmission
from tests.controller.admission_client import Webhook, free_port
from tests.controller.conftest import ControllerFactory, eventually, stop
from tests.controller.objects import create_all, subnet
from tests.controller.subnet_checks import wait_ready
from tests.controller.test_ippool import condition, ippool, refused

PATH = "/validate-ippool"


@pytest.fixture
async def webhook(start_controller: ControllerFactory, kube) -> AsyncIterator[Webhook]:
    """A controller serving the webhook, with Subnet ``s`` (10.16.0.0/24, excludeIps
    10.16.0.1..10.16.0.10) Ready and IPPool ``first`` (10.16.0.20..10.16.0.29) serving."""
    port = free_port()
    await create_all(
        kube,
        subnet("s", "10.16.0.0/24", excludeIps=["10.16.0.1..10.16.0.10"]),
        ippool("first", "s", ["10.16.0.20..10.16.0.29"]),
    )
    await start_controller(webhook=WebhookSettings(port=port, addr="127.0.0.1", insecure=True))
    await wait_ready(kube, "s")
    await eventually(lambda: condition(kube, "first"), until=lambda c: c.get("status") == "True")
    async with aiohttp.ClientSession() as session:
        hook = Webhook(f"http://127.0.0.1:{port}{PATH}", session, kind="IPPool", resource="ippools")

        async def up() -> bool:
            try:
                await hook.review(ippool("probe", "s", ["10.16.0.200"]))
            except (aiohttp.ClientError, AssertionError):
                return False
            return True

        await eventually(up, until=bool)
        yield hook


@pytest.mark.parametrize(
    ("ips", "message"),
    [
        (
            ["10.16.0.100", "10.17.0.1"],
            "spec.ips[1]: 10.17.0.1 is outside subnet 's' (10.16.0.0/24)",
        ),
        (
            ["10.16.0.100", "10.16.0.101", "10.16.0.5"],
            "spec.ips[2]: 10.16.0.5 is inside the excludeIps of subnet 's'",
        ),
        (
            ["10.16.0.8..10.16.0.12"],
            "spec.ips[0]: 10.16.0.8..10.16.0.12 has 10.16.0.8-10.16.0.10 inside the "
            "excludeIps of subnet 's'",
        ),
        (["fd00::1"], "spec.ips[0]: fd00::1 is IPv6 but subnet 's' is 10.16.0.0/24"),
        (
            ["10.16.0.100", "10.16.0.25..10.16.0.40"],
            "spec.ips[1]: 10.16.0.25..10.16.0.40 has 10.16.0.25-10.16.0.29 also in IPPool 'first'",
        ),
        (["10.16.0.300"], "spec.ips: entry '10.16.0.300' is not an IP address"),
        ([], "spec.ips: [] must list at least one IP"),
    ],
)
async def test_each_rule_is_denied_naming_field_and_value(
    webhook: Webhook, ips: list[str], message: str
) -> None:
    """Outside the subnet, in excludeIps, another family, an overlap, a bad entry: refused."""
    denial = await webhook.denial(ippool("bad", "s", ips))
    assert denial.startswith(f"IPPool 'bad': {message}"), denial


async def test_the_denial_is_the_condition_the_reconciler_writes(kube, webhook: Webhook) -> None:
    """One rule, two places: the webhook's message is the pool's condition message."""
    bad = ippool("excluded", "s", ["10.16.0.100", "10.16.0.5"])
    denial = await webhook.denial(bad)
    await create_all(kube, bad)  # the embedded server calls no webhook: it lands anyway
    written = await refused(kube, "excluded", "IPInExcludeIps")
    assert denial == f"IPPool 'excluded': {written['message']}"


async def test_a_valid_pool_is_admitted_and_a_missing_subnet_warns(webhook: Webhook) -> None:
    """A pool inside its subnet is admitted; one naming no Subnet yet is admitted with a warning."""
    fine = await webhook.review(ippool("fine", "s", ["10.16.0.30..10.16.0.40"]))
    assert fine["allowed"] is True
    assert not fine.get("warnings")
    early = await webhook.review(ippool("early", "later", ["10.18.0.1"]))
    assert early["allowed"] is True
    assert any("spec.subnet: 'later'" in w for w in early["warnings"])


async def test_spec_subnet_cannot_change(kube, webhook: Webhook) -> None:
    """An UPDATE changing spec.subnet is refused, naming both subnets."""
    await create_all(kube, subnet("other", "10.17.0.0/24"))
    old = ippool("first", "s", ["10.16.0.20..10.16.0.29"])
    denial = await webhook.denial(ippool("first", "other", ["10.17.0.20"]), old=old)
    assert denial.startswith("IPPool 'first': spec.subnet: changed from 's' to 'other'"), denial


async def test_an_edit_may_not_take_addresses_of_a_younger_pool(kube, webhook: Webhook) -> None:
    """Growing the older pool into a serving younger one is refused, not left to the reconciler
    (which would take the addresses from the younger pool)."""
    await create_all(kube, ippool("second", "s", ["10.16.0.30..10.16.0.39"]))
    await eventually(lambda: condition(kube, "second"), until=lambda c: c.get("status") == "True")
    old = ippool("first", "s", ["10.16.0.20..10.16.0.29"])
    denial = await webhook.denial(ippool("first", "s", ["10.16.0.20..10.16.0.35"]), old=old)
    assert "spec.ips[0]: 10.16.0.20..10.16.0.35 has 10.16.0.30-10.16.0.35 also in IPPool " in (
        denial
    )
    assert "'second'" in denial


async def test_an_edit_that_keeps_an_old_overlap_is_admitted(kube, webhook: Webhook) -> None:
    """A pool that overlapped before the webhook can still be edited (here: its namespaces,
    then shrunk toward a fix); only addresses it newly shares are refused."""
    await create_all(kube, ippool("late", "s", ["10.16.0.25..10.16.0.35"]))
    await refused(kube, "late", "OverlappingPools")
    old = ippool("late", "s", ["10.16.0.25..10.16.0.35"])
    same_ips = await webhook.review(ippool("late", "s", ["10.16.0.25..10.16.0.35"], "ns"), old=old)
    assert same_ips["allowed"] is True
    shrunk = await webhook.review(ippool("late", "s", ["10.16.0.28..10.16.0.35"]), old=old)
    assert shrunk["allowed"] is True
    grown = await webhook.denial(ippool("late", "s", ["10.16.0.21..10.16.0.35"]), old=old)
    assert "has 10.16.0.21-10.16.0.24 also in IPPool 'first'" in grown


async def test_an_update_that_keeps_the_spec_is_always_admitted(webhook: Webhook) -> None:
    """Labels or a deletion of a refused pool pass: refusing them could only wedge it."""
    bad = ippool("bad", "s", ["10.16.0.5"])
    labelled = {**bad, "metadata": {**bad["metadata"], "labels": {"a": "b"}}}
    assert (await webhook.review(labelled, old=bad))["allowed"] is True


async def test_reviews_read_no_api(sim, webhook: Webhook) -> None:
    """A review sends no request to the API server: it reads only the caches."""
    sim.reset_request_log()
    await webhook.denial(ippool("bad", "s", ["10.16.0.5"]))
    await webhook.review(ippool("fine", "s", ["10.16.0.100"]))
    await asyncio.sleep(0)
    reads = [e for e in sim.request_log.entries if e.verb in ("get", "list")]
    assert reads == []


async def test_ippools_are_listed_and_watched_once_and_not_by_kopf(
    sim, kube, start_controller: ControllerFactory
) -> None:
    """Serving IPPool reviews adds no watch: one LIST and one WATCH per start, ovnctl's."""
    await create_all(
        kube, subnet("s", "10.16.0.0/24"), ippool("first", "s", ["10.16.0.20..10.16.0.29"])
    )
    sim.reset_request_log()
    settings = WebhookSettings(port=free_port(), addr="127.0.0.1", insecure=True)
    controller = await start_controller(webhook=settings)
    assert [h.id for h in controller.kopf.registry._webhooks.get_all_handlers()] == [
        "validate-subnet",
        "validate-ippool",
    ]
    await eventually(lambda: condition(kube, "first"), until=lambda c: c.get("status") == "True")
    await stop(controller)
    await start_controller(webhook=settings)
    await eventually(lambda: condition(kube, "first"), until=lambda c: c.get("status") == "True")
    reads = [
        e
        for e in sim.request_log.entries
        if e.resource == "ippools" and e.verb in ("list", "watch")
    ]
    assert sorted(e.verb for e in reads) == ["list", "list", "watch", "watch"]
    assert not [e for e in reads if (e.user_agent or "").startswith("kopf/")]


async def test_a_denial_is_logged_at_info_not_as_an_error(webhook: Webhook, caplog) -> None:
    """A refused pool is a user's mistake: Kopf's 'failed permanently' ERROR becomes INFO."""
    with caplog.at_level(logging.INFO, logger="kopf"):
        await webhook.denial(ippool("bad", "s", ["10.16.0.5"]))
    denials = [r for r in caplog.records if "spec.ips[0]" in r.getMessage()]
    assert denials
    assert all(r.levelno == logging.INFO for r in denials)
    assert denials[0].getMessage().startswith("IPPool admission denied: ")


def test_a_subnet_the_ipam_lacks_is_checked_from_its_cached_spec() -> None:
    """With the IPAM empty (a standby, before any rebuild) the subnet's cached spec is used:
    excludeIps and the CIDR still refuse, and an unknown subnet only warns."""
    body = subnet("att", "10.40.0.0/24", excludeIps=["10.40.0.1..10.40.0.9"])
    subnets = SubnetCache(
        by_name={"att": [index_subnet_by_name(body)["att"]]},
        by_provider={},
        by_namespace={},
        default={},
    )
    pools = IPPoolCache(by_name={}, by_namespace={})
    admission = IPPoolAdmission(pools=pools, subnets=subnets, ipam=IPAM())
    verdict = admission.review("CREATE", None, ippool("bad", "att", ["10.40.0.100", "10.40.0.5"]))
    assert verdict.denial == (
        "IPPool 'bad': spec.ips[1]: 10.40.0.5 is inside the excludeIps of subnet 'att'"
    )
    outside = admission.review("CREATE", None, ippool("out", "att", ["10.41.0.5"]))
    assert (
        outside.denial
        == "IPPool 'out': spec.ips[0]: 10.41.0.5 is outside subnet 'att' (10.40.0.0/24)"
    )
    unknown = admission.review("CREATE", None, ippool("early", "later", ["10.41.0.5"]))
    assert unknown.denial is None
    assert unknown.warnings
