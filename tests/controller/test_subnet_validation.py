"""Each validation rule: its conditions, a message naming field and value, a Warning Event."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ovnctl.k8s.resources import NADS, SUBNETS
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, kube_ovn_nad, macvlan_nad, subnet
from tests.controller.subnet_checks import (
    condition,
    gone,
    wait_condition,
    wait_event,
    wait_ready,
    warning_events,
)


def nad(name: str, config: Any, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"config": config if isinstance(config, str) else json.dumps(config)},
    }


async def assert_refused(kube, name: str, *, validated: bool, reason: str, says: list[str]) -> None:
    """Ready False and Error True with ``reason``; Validated as given; an Event saying it all."""
    body = await wait_condition(kube, name, "Ready", "False", reason)
    ready, error, valid = (condition(body, t) for t in ("Ready", "Error", "Validated"))
    assert (error["status"], error["reason"]) == ("True", reason)
    assert valid["status"] == ("True" if validated else "False")
    if not validated:
        assert valid["reason"] == reason
    for part in says:
        assert part in ready["message"], ready["message"]
        assert part in error["message"]
    event = await wait_event(kube, name, reason)
    for part in says:
        assert part in event["message"], event["message"]
    assert event["involvedObject"]["kind"] == "Subnet"
    assert event["involvedObject"]["uid"] == body["metadata"]["uid"]


INVALID = [
    pytest.param({"cidrBlock": "10.16.0.0/33"}, ["spec.cidrBlock", "10.16.0.0/33"], id="cidr"),
    pytest.param(
        {"cidrBlock": "10.16.0.0/24", "protocol": "IPv6"},
        ["spec.protocol", "'IPv6'", "IPv4"],
        id="protocol-disagrees",
    ),
    pytest.param(
        {"cidrBlock": "10.16.0.0/24", "gateway": "10.17.0.1"},
        ["spec.gateway", "10.17.0.1", "outside"],
        id="gateway-outside",
    ),
    pytest.param(
        {"cidrBlock": "10.16.0.0/24", "excludeIps": ["10.16.0.2..10.16.0.3..10.16.0.4"]},
        ["spec.excludeIps[0]", "10.16.0.2..10.16.0.3..10.16.0.4", "3 parts"],
        id="exclude-three-parts",
    ),
    pytest.param(
        {"cidrBlock": "10.16.0.0/24", "excludeIps": ["10.16.0.300"]},
        ["spec.excludeIps[0]", "10.16.0.300", "not a valid IP"],
        id="exclude-invalid-ip",
    ),
    pytest.param(
        {"cidrBlock": "10.16.0.0/24", "excludeIps": ["fd00::1"]},
        ["spec.excludeIps[0]", "fd00::1", "IPv6"],
        id="exclude-wrong-family",
    ),
    pytest.param(
        {"cidrBlock": "10.16.0.0/24", "excludeIps": ["10.16.0.9", "10.16.0.20..10.16.0.10"]},
        ["spec.excludeIps[1]", "10.16.0.20..10.16.0.10", "starts after it ends"],
        id="exclude-start-after-end",
    ),
    pytest.param(
        {"cidrBlock": "10.16.0.0/24", "provider": "net1"},
        ["spec.provider", "'net1'", "not a valid provider"],
        id="provider-syntax",
    ),
]


@pytest.mark.parametrize(("spec", "says"), INVALID)
async def test_invalid_spec(start_controller, kube, spec, says) -> None:
    """An invalid spec is InvalidSpec (Validated, Ready False; Error True) with an Event."""
    await start_controller()
    await create_all(kube, {**subnet("bad", ""), "spec": spec})
    await assert_refused(kube, "bad", validated=False, reason="InvalidSpec", says=says)
    body = await kube.get(SUBNETS, name="bad")
    assert body["status"]["v4availableIPs"] == 0


async def test_invalid_spec_recovers_when_fixed(start_controller, kube) -> None:
    """Fixing the spec makes the subnet Ready; the Error condition flips back."""
    await start_controller()
    await create_all(kube, subnet("fixme", "10.16.0.0/24", gateway="10.17.0.1"))
    await wait_condition(kube, "fixme", "Validated", "False", "InvalidSpec")
    await kube.patch(SUBNETS, name="fixme", body={"spec": {"gateway": "10.16.0.1"}})
    body = await wait_ready(kube, "fixme")
    assert condition(body, "Error")["status"] == "False"
    assert condition(body, "Validated")["reason"] == "ValidationPassed"


async def test_overlap_refuses_the_newer_subnet(start_controller, kube) -> None:
    """The newer of two overlapping subnets of one provider is refused; the older serves on."""
    await start_controller()
    # Named so that name order and age disagree: age decides.
    await create_all(kube, subnet("zz-old", "10.16.0.0/16"))
    await wait_ready(kube, "zz-old")
    await create_all(kube, subnet("aa-new", "10.16.5.0/24"))
    await assert_refused(
        kube, "aa-new", validated=False, reason="Overlap", says=["zz-old", "aa-new", "'ovn'"]
    )
    old = await wait_ready(kube, "zz-old")
    assert not await warning_events(kube, "zz-old")
    assert old["status"]["v4availableIPs"] == 65533
    # A different provider may reuse the range.
    await create_all(
        kube,
        kube_ovn_nad("other"),
        subnet("elsewhere", "10.16.0.0/16", provider="other.default.ovn"),
    )
    await wait_ready(kube, "elsewhere")
    # The older one goes: the newer one recovers by itself.
    await kube.delete(SUBNETS, name="zz-old")
    await eventually(lambda: gone(kube, "zz-old"), until=bool)
    body = await wait_ready(kube, "aa-new")
    assert body["status"]["v4availableIPs"] == 253


async def test_two_default_subnets(start_controller, kube) -> None:
    """A second default: true subnet is refused with MultipleDefaults; the first stays."""
    await start_controller()
    await create_all(kube, subnet("zz-first", "10.16.0.0/16", default=True))
    await wait_ready(kube, "zz-first")
    await create_all(kube, subnet("aa-second", "10.17.0.0/16", default=True))
    await assert_refused(
        kube,
        "aa-second",
        validated=False,
        reason="MultipleDefaults",
        says=["zz-first", "aa-second"],
    )
    await wait_ready(kube, "zz-first")
    # Dropping the flag on the newer one resolves it.
    await kube.patch(SUBNETS, name="aa-second", body={"spec": {"default": False}})
    await wait_ready(kube, "aa-second")


async def test_nad_missing_then_created(start_controller, kube) -> None:
    """A provider whose NAD does not exist is NadNotFound; creating the NAD recovers it."""
    await start_controller()
    await create_all(kube, subnet("att", "172.17.0.0/24", provider="attachnet.default.ovn"))
    await assert_refused(
        kube,
        "att",
        validated=True,
        reason="NadNotFound",
        says=["'attachnet.default.ovn'", "default/attachnet", "not found"],
    )
    before = await kube.get(SUBNETS, name="att")
    await create_all(kube, kube_ovn_nad("attachnet"))
    after = await wait_ready(kube, "att")
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    # And deleting the NAD takes it back out of service.
    await kube.delete(NADS, name="attachnet", namespace="default")
    await wait_condition(kube, "att", "Ready", "False", "NadNotFound")


@pytest.mark.parametrize(
    ("config", "says"),
    [
        pytest.param("", ["spec.config", "empty"], id="empty"),
        pytest.param("{not json", ["spec.config", "invalid JSON"], id="invalid-json"),
        pytest.param('["kube-ovn"]', ["spec.config", "JSON object"], id="wrong-shape"),
    ],
)
async def test_nad_malformed_then_fixed(start_controller, kube, config, says) -> None:
    """A NAD with a bad spec.config is NadMalformed; fixing the NAD alone recovers the subnet."""
    await start_controller()
    await create_all(
        kube,
        nad("attachnet", config),
        subnet("att", "172.17.0.0/24", provider="attachnet.default.ovn"),
    )
    await assert_refused(
        kube, "att", validated=True, reason="NadMalformed", says=["default/attachnet", *says]
    )
    before = await kube.get(SUBNETS, name="att")
    fixed = kube_ovn_nad("attachnet")["spec"]
    await kube.patch(NADS, name="attachnet", namespace="default", body={"spec": fixed})
    after = await wait_ready(kube, "att")
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert (
        condition(after, "Ready")["lastTransitionTime"]
        >= (condition(before, "Ready")["lastTransitionTime"])
    )


async def test_nad_not_served(start_controller, kube) -> None:
    """A NAD that is neither kube-ovn nor kube-ovn IPAM (sriov + host-local) is NadNotServed."""
    await start_controller()
    sriov = {"cniVersion": "0.3.1", "type": "sriov", "ipam": {"type": "host-local"}}
    await create_all(
        kube, nad("sriov-net", sriov), subnet("sr", "172.19.0.0/24", provider="sriov-net.default")
    )
    await assert_refused(
        kube,
        "sr",
        validated=True,
        reason="NadNotServed",
        says=["default/sriov-net", "'sriov'", "'host-local'"],
    )


@pytest.mark.parametrize(
    ("make_nad", "provider", "served_as"),
    [
        pytest.param(kube_ovn_nad, "attachnet.default", "attachnet.default.ovn", id="needs-ovn"),
        pytest.param(macvlan_nad, "attachnet.default.ovn", "attachnet.default", id="ipam-only"),
    ],
)
async def test_provider_mismatch(start_controller, kube, make_nad, provider, served_as) -> None:
    """A provider string that disagrees with the NAD's plugin type is ProviderMismatch."""
    await start_controller()
    await create_all(kube, make_nad("attachnet"), subnet("mm", "172.17.0.0/24", provider=provider))
    await assert_refused(
        kube, "mm", validated=True, reason="ProviderMismatch", says=[repr(provider), served_as]
    )


async def test_nad_declared_provider_mismatch_warns(start_controller, kube) -> None:
    """A 'provider' key in the NAD config that disagrees is a warning; the subnet serves."""
    await start_controller()
    await create_all(
        kube,
        kube_ovn_nad("attachnet", provider="wrong.default.ovn"),
        subnet("att", "172.17.0.0/24", provider="attachnet.default.ovn"),
    )
    await wait_ready(kube, "att")
    event = await wait_event(kube, "att", "SpecWarning")
    assert "'wrong.default.ovn'" in event["message"]
    assert "default/attachnet" in event["message"]


async def test_refused_subnet_refuses_nobody(start_controller, kube) -> None:
    """A subnet refused for an overlap does not in turn refuse a third one it overlaps."""
    await start_controller()
    await create_all(kube, subnet("a", "10.16.0.0/24"))
    await wait_ready(kube, "a")
    await create_all(kube, subnet("b", "10.16.0.0/23"))
    await wait_condition(kube, "b", "Validated", "False", "Overlap")
    await create_all(kube, subnet("c", "10.16.1.0/24"))  # overlaps only b
    await wait_ready(kube, "c")
    await wait_ready(kube, "a")
    body = await wait_condition(kube, "b", "Validated", "False", "Overlap")
    assert "'a'" in condition(body, "Ready")["message"]
