"""IPPools: namespaces served from a pool's ranges, status, and every refusal as a condition."""

from __future__ import annotations

from typing import Any

from ovnctl.k8s.resources import IPPOOLS, PODS, SUBNETS
from tests.controller import probes
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, pod, subnet

IP = "ovn.kubernetes.io/ip_address"


def ippool(name: str, subnet_name: str, ips: list[str], *namespaces: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"subnet": subnet_name, "ips": ips}
    if namespaces:
        spec["namespaces"] = list(namespaces)
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "IPPool",
        "metadata": {"name": name},
        "spec": spec,
    }


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


async def condition(kube, name: str, type_: str = "Ready") -> dict[str, Any]:
    body = await kube.get(IPPOOLS, name=name)
    for c in (body.get("status") or {}).get("conditions", []):
        if c["type"] == type_:
            return dict(c)
    return {}


async def refused(kube, name: str, reason: str) -> dict[str, Any]:
    """Wait until the pool is Ready=False with ``reason``; the condition."""
    return await eventually(
        lambda: condition(kube, name),
        until=lambda c: c.get("status") == "False" and c.get("reason") == reason,
    )


async def test_pool_serves_two_namespaces_and_reports_usage(start_controller, kube) -> None:
    """Pods of both listed namespaces take pool addresses; others don't; status counts."""
    await create_all(
        kube,
        namespace("a"),
        namespace("b"),
        subnet("ovn-default", "10.16.0.0/24", default=True),
        ippool("tenants", "ovn-default", ["10.16.0.100..10.16.0.101", "10.16.0.200"], "a", "b"),
    )
    await start_controller()
    await create_all(kube, pod("p1", "a"), pod("p2", "b"), pod("plain", "default"))
    got = {}
    for name, ns in (("p1", "a"), ("p2", "b"), ("plain", "default")):
        got[name] = (await probes.allocated(kube, name, "ovn", namespace=ns))[IP]
    assert {got["p1"], got["p2"]} == {"10.16.0.100", "10.16.0.101"}
    assert got["plain"] == "10.16.0.2"
    status = await eventually(
        lambda: kube.get(IPPOOLS, name="tenants"),
        until=lambda b: (b.get("status") or {}).get("v4UsingIPs") == 2,
    )
    assert status["status"]["v4AvailableIPs"] == 1
    assert status["status"]["v4AvailableIPRange"] == "10.16.0.200"
    assert status["status"]["v4UsingIPRange"] == "10.16.0.100-10.16.0.101"
    assert (await condition(kube, "tenants"))["status"] == "True"

    # The last address goes to p3; p4 finds the pool full, waits, and gets p1's address.
    await create_all(kube, pod("p3", "a"), pod("p4", "b"))
    assert (await probes.allocated(kube, "p3", "ovn", namespace="a"))[IP] == "10.16.0.200"
    event = await probes.warning(kube, "p4", "IPPoolExhausted", namespace="b")
    assert "IPPool 'tenants'" in event["message"]
    await kube.delete(PODS, name="p1", namespace="a")
    assert (await probes.allocated(kube, "p4", "ovn", namespace="b"))[IP] == got["p1"]


async def test_pool_errors_are_conditions_and_pods_wait(start_controller, kube) -> None:
    """Overlap, outside the subnet, inside excludeIps and a changed subnet are refused."""
    await create_all(
        kube,
        namespace("c"),
        subnet("ovn-default", "10.16.0.0/24", default=True, excludeIps=["10.16.0.50..10.16.0.60"]),
        subnet("other", "10.17.0.0/24"),
        ippool("first", "ovn-default", ["10.16.0.10..10.16.0.20"]),
    )
    await start_controller()
    await eventually(lambda: condition(kube, "first"), until=lambda c: c.get("status") == "True")
    await create_all(
        kube,
        ippool("second", "ovn-default", ["10.16.0.15..10.16.0.30"], "c"),
        ippool("outside", "ovn-default", ["10.16.1.0/30"]),
        ippool("excluded", "ovn-default", ["10.16.0.55"]),
        ippool("malformed", "ovn-default", ["10.16.0.300"]),
    )
    overlap = await refused(kube, "second", "OverlappingPools")
    assert "10.16.0.15-10.16.0.20" in overlap["message"]
    assert "'first'" in overlap["message"]
    outside = await refused(kube, "outside", "IPOutsideSubnet")
    assert "spec.ips[0]: 10.16.1.0/30 is outside subnet 'ovn-default'" in outside["message"]
    assert "10.16.0.55" in (await refused(kube, "excluded", "IPInExcludeIps"))["message"]
    assert "10.16.0.300" in (await refused(kube, "malformed", "InvalidSpec"))["message"]

    # A pod of the refused pool's namespace waits instead of taking any other address.
    await create_all(kube, pod("waiter", "c"))
    await probes.warning(kube, "waiter", "IPPoolNotReady", namespace="c")
    assert probes.key("ovn", "allocated") not in await probes.annotations_of(kube, "waiter", "c")
    # Fixing the pool lets it through.
    await kube.patch(IPPOOLS, name="second", body={"spec": {"ips": ["10.16.0.25..10.16.0.30"]}})
    assert (await probes.allocated(kube, "waiter", "ovn", namespace="c"))[IP] == "10.16.0.25"

    # spec.subnet is immutable: the embedded server runs no CEL, the controller refuses it.
    await kube.patch(IPPOOLS, name="first", body={"spec": {"subnet": "other"}})
    immutable = await refused(kube, "first", "SubnetImmutable")
    assert "'ovn-default'" in immutable["message"]
    assert "'other'" in immutable["message"]


async def test_pool_follows_its_subnet(start_controller, kube) -> None:
    """A pool of a missing subnet is refused, and serves once the subnet exists."""
    await start_controller()
    await create_all(kube, ippool("early", "late", ["10.18.0.10"]))
    await refused(kube, "early", "SubnetNotFound")
    await create_all(kube, subnet("late", "10.18.0.0/24"))
    await eventually(lambda: condition(kube, "early"), until=lambda c: c.get("status") == "True")
    assert await kube.get(SUBNETS, name="late")


async def test_namespace_annotation_names_its_pools(start_controller, kube) -> None:
    """``ovn.kubernetes.io/ip_pool`` on a namespace binds it to the pools it names."""
    annotated = namespace("tenant")
    annotated["metadata"]["annotations"] = {"ovn.kubernetes.io/ip_pool": "by-annotation"}
    await create_all(
        kube,
        annotated,
        subnet("ovn-default", "10.16.0.0/24", default=True),
        ippool("by-annotation", "ovn-default", ["10.16.0.240/30"]),
    )
    await start_controller()
    await create_all(kube, pod("t1", "tenant"))
    assert (await probes.allocated(kube, "t1", "ovn", namespace="tenant"))[IP] == "10.16.0.240"
