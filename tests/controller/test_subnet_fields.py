"""Subnets using each field docs/subnets.md documents reach Ready with Kube-OVN's status."""

from __future__ import annotations

from typing import Any

import pytest

from ovnctl.k8s.resources import SUBNETS
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, kube_ovn_nad, macvlan_nad, subnet
from tests.controller.subnet_checks import (
    condition,
    settled,
    wait_event,
    wait_ready,
    warning_events,
)

EMPTY_V6 = {"v6availableIPs": 0, "v6usingIPs": 0, "v6availableIPrange": "", "v6usingIPrange": ""}
EMPTY_V4 = {"v4availableIPs": 0, "v4usingIPs": 0, "v4availableIPrange": "", "v4usingIPrange": ""}


def usage(status: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in status.items() if k.startswith(("v4", "v6"))}


async def test_ipv4(start_controller, kube) -> None:
    """An IPv4 /24 without options: gateway .1 reserved, .2-.254 available."""
    await start_controller()
    await create_all(kube, subnet("v4", "10.16.0.0/24"))
    body = await wait_ready(kube, "v4")
    assert usage(body["status"]) == {
        "v4availableIPs": 253,
        "v4usingIPs": 0,
        "v4availableIPrange": "10.16.0.2-10.16.0.254",
        "v4usingIPrange": "",
        **EMPTY_V6,
    }


async def test_ipv6(start_controller, kube) -> None:
    """An IPv6 /120: no broadcast in v6, so the last address is available."""
    await start_controller()
    await create_all(kube, subnet("v6", "fd00:10:16::/120"))
    body = await wait_ready(kube, "v6")
    assert usage(body["status"]) == {
        **EMPTY_V4,
        "v6availableIPs": 254,
        "v6usingIPs": 0,
        "v6availableIPrange": "fd00:10:16::2-fd00:10:16::ff",
        "v6usingIPrange": "",
    }


@pytest.mark.parametrize("cidr", ["10.17.0.0/24,fd00:10:17::/120", "fd00:10:17::/120,10.17.0.0/24"])
async def test_dual_stack_either_order(start_controller, kube, cidr) -> None:
    """Dual-stack counts both families, whichever is written first."""
    await start_controller()
    await create_all(kube, subnet("dual", cidr, protocol="Dual"))
    body = await wait_ready(kube, "dual")
    assert usage(body["status"]) == {
        "v4availableIPs": 253,
        "v4usingIPs": 0,
        "v4availableIPrange": "10.17.0.2-10.17.0.254",
        "v4usingIPrange": "",
        "v6availableIPs": 254,
        "v6usingIPs": 0,
        "v6availableIPrange": "fd00:10:17::2-fd00:10:17::ff",
        "v6usingIPrange": "",
    }


async def test_explicit_gateway(start_controller, kube) -> None:
    """An explicit gateway is reserved instead of the first address."""
    await start_controller()
    await create_all(kube, subnet("gw", "10.18.0.0/24", gateway="10.18.0.254"))
    body = await wait_ready(kube, "gw")
    assert body["status"]["v4availableIPs"] == 253
    assert body["status"]["v4availableIPrange"] == "10.18.0.1-10.18.0.253"


async def test_exclude_ips_singles_and_ranges(start_controller, kube) -> None:
    """A /24 with its gateway and 'x.2..x.10' has 244 available (docs/subnets.md); singles too."""
    await start_controller()
    await create_all(
        kube,
        subnet("ex", "10.19.0.0/24", excludeIps=["10.19.0.2..10.19.0.10"]),
        subnet("ex2", "10.20.0.0/24", excludeIps=["10.20.0.2..10.20.0.10", "10.20.0.100"]),
    )
    body = await wait_ready(kube, "ex")
    assert body["status"]["v4availableIPs"] == 244
    assert body["status"]["v4availableIPrange"] == "10.19.0.11-10.19.0.254"
    assert body["status"]["v4usingIPs"] == 0
    body = await wait_ready(kube, "ex2")
    assert body["status"]["v4availableIPs"] == 243
    assert body["status"]["v4availableIPrange"] == "10.20.0.11-10.20.0.99,10.20.0.101-10.20.0.254"


async def test_exclude_ips_outside_cidr_warns(start_controller, kube) -> None:
    """Entries outside the CIDR are ignored or clipped with a warning; the subnet serves."""
    await start_controller()
    await create_all(
        kube, subnet("clip", "10.16.0.0/24", excludeIps=["10.99.0.1", "10.16.0.250..10.17.0.5"])
    )
    body = await wait_ready(kube, "clip")
    assert body["status"]["v4availableIPs"] == 248
    assert body["status"]["v4availableIPrange"] == "10.16.0.2-10.16.0.249"
    validated = condition(body, "Validated")
    assert validated["status"] == "True"
    assert "10.99.0.1" in validated["message"]
    await wait_event(kube, "clip", "SpecWarning")
    messages = [e["message"] for e in await warning_events(kube, "clip")]
    assert any("'10.99.0.1' lies outside CIDR 10.16.0.0/24" in m for m in messages)
    assert any("'10.16.0.250..10.17.0.5' clipped" in m for m in messages)


async def test_provider_with_kube_ovn_nad(start_controller, kube) -> None:
    """A subnet for '<nad>.<ns>.ovn' is Ready when its NAD has a kube-ovn plugin."""
    await start_controller()
    await create_all(
        kube,
        kube_ovn_nad("attachnet"),
        subnet("attach", "172.17.0.0/24", provider="attachnet.default.ovn"),
    )
    body = await wait_ready(kube, "attach")
    assert body["status"]["v4availableIPs"] == 253
    assert not await warning_events(kube, "attach")


async def test_provider_with_ipam_only_nad(start_controller, kube) -> None:
    """A subnet for '<nad>.<ns>' is Ready when its NAD uses kube-ovn only as IPAM (macvlan)."""
    await start_controller()
    await create_all(
        kube,
        macvlan_nad("macvlan"),
        subnet("mac", "172.18.0.0/24", provider="macvlan.default"),
    )
    body = await wait_ready(kube, "mac")
    assert body["status"]["v4availableIPs"] == 253


async def test_namespaces_default_and_protocol(start_controller, kube) -> None:
    """namespaces, default and a matching protocol are accepted and kept as written."""
    controller = await start_controller()
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/16", default=True, protocol="IPv4"),
        subnet("team-a", "10.66.0.0/16", namespaces=["team-a", "team-a-staging"]),
        subnet("six", "fd00:66::/112", protocol="IPv6"),
    )
    for name in ("ovn-default", "team-a", "six"):
        await wait_ready(kube, name)
    assert (await kube.get(SUBNETS, name="ovn-default"))["spec"]["default"] is True
    subnets = controller.subnets
    assert subnets is not None
    assert subnets.default_names() == ["ovn-default"]
    assert subnets.names_for_namespace("team-a-staging") == ["team-a"]


async def test_ignored_fields_preserved(start_controller, kube) -> None:
    """vpc, vlan, natOutgoing, private, allowSubnets, gatewayType stay in the object."""
    await start_controller()
    ignored = {
        "vpc": "ovn-cluster",
        "natOutgoing": True,
        "private": True,
        "allowSubnets": ["10.0.0.0/8"],
        "gatewayType": "distributed",
    }
    await create_all(kube, subnet("ign", "10.21.0.0/24", **ignored))
    body = await wait_ready(kube, "ign")
    for key, value in ignored.items():
        assert body["spec"][key] == value


async def test_conditions_shape(start_controller, kube) -> None:
    """Validated, Ready and Error carry reason, message, times and observedGeneration."""
    await start_controller()
    await create_all(kube, subnet("cond", "10.22.0.0/24"))
    body = await wait_ready(kube, "cond")
    generation = body["metadata"]["generation"]
    by_type = {c["type"]: c for c in body["status"]["conditions"]}
    assert set(by_type) == {"Validated", "Ready", "Error"}
    assert (by_type["Validated"]["status"], by_type["Validated"]["reason"]) == (
        "True",
        "ValidationPassed",
    )
    assert (by_type["Ready"]["status"], by_type["Ready"]["reason"]) == ("True", "SubnetReady")
    assert (by_type["Error"]["status"], by_type["Error"]["reason"]) == ("False", "NoError")
    for c in by_type.values():
        assert c["observedGeneration"] == generation
        assert c["lastUpdateTime"]
        assert c["lastTransitionTime"]
        assert "message" in c


async def test_spec_update_is_applied(start_controller, kube) -> None:
    """Changing excludeIps updates the counts and the conditions' observedGeneration."""
    await start_controller()
    await create_all(kube, subnet("upd", "10.23.0.0/24"))
    before = await wait_ready(kube, "upd")
    await kube.patch(SUBNETS, name="upd", body={"spec": {"excludeIps": ["10.23.0.2..10.23.0.10"]}})
    after = await eventually(
        lambda: kube.get(SUBNETS, name="upd"),
        until=lambda s: (
            s["status"]["v4availableIPs"] == 244
            and condition(s, "Ready")["observedGeneration"] == s["metadata"]["generation"]
        ),
    )
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    # Still Ready: the transition time did not move.
    assert (
        condition(after, "Ready")["lastTransitionTime"]
        == condition(before, "Ready")["lastTransitionTime"]
    )


async def test_no_status_write_when_nothing_changed(sim, start_controller, kube) -> None:
    """A label change (no spec change) reconciles without patching status again."""
    controller = await start_controller()
    await create_all(kube, subnet("quiet", "10.24.0.0/24"))
    body = await wait_ready(kube, "quiet")
    await settled(controller, "quiet", body["metadata"]["resourceVersion"])
    sim.reset_request_log()
    patched = await kube.patch(SUBNETS, name="quiet", body={"metadata": {"labels": {"a": "b"}}})
    await settled(controller, "quiet", patched["metadata"]["resourceVersion"])
    writes = [
        e
        for e in sim.request_log.entries
        if e.resource == "subnets" and e.verb in {"patch", "update"} and e.name == "quiet"
    ]
    # Only the test's own label patch.
    assert [(e.verb, e.subresource) for e in writes] == [("patch", None)]
    assert (await kube.get(SUBNETS, name="quiet"))["status"] == body["status"]


async def test_one_status_write_on_creation(sim, start_controller, kube) -> None:
    """A new subnet gets its finalizer and then exactly one status write."""
    controller = await start_controller()
    sim.reset_request_log()
    await create_all(kube, subnet("once", "10.25.0.0/24"))
    body = await wait_ready(kube, "once")
    await settled(controller, "once", body["metadata"]["resourceVersion"])
    writes = [
        (e.verb, e.subresource)
        for e in sim.request_log.entries
        if e.resource == "subnets" and e.verb == "patch" and e.name == "once"
    ]
    assert writes == [("patch", None), ("patch", "status")]
