"""The ``ip_pool`` pod annotation: a list of IPs, dual-stack pairs, or IPPool names."""

from __future__ import annotations

from ovnctl.k8s.resources import PODS
from tests.controller import probes
from tests.controller.objects import create_all, kube_ovn_nad, pod, subnet
from tests.controller.test_ippool import ippool

IP = "ovn.kubernetes.io/ip_address"
POOL = "ovn.kubernetes.io/ip_pool"


async def test_list_gives_each_replica_a_free_entry_and_waits_when_all_used(
    start_controller, kube
) -> None:
    """Replicas sharing a list each take a free entry; one too many waits, never shares."""
    await create_all(kube, subnet("ovn-default", "10.16.0.0/24", default=True))
    await start_controller()
    listed = {POOL: "10.16.0.50, 10.16.0.51"}
    await create_all(kube, *(pod(f"r{i}", annotations=listed) for i in range(3)))
    got = {}
    for name in ("r0", "r1"):
        got[name] = (await probes.allocated(kube, name, "ovn"))[IP]
    assert sorted(got.values()) == ["10.16.0.50", "10.16.0.51"]
    event = await probes.warning(kube, "r2", "IPPoolExhausted")
    assert POOL in event["message"]
    await kube.delete(PODS, name="r0", namespace="default")
    assert (await probes.allocated(kube, "r2", "ovn"))[IP] == got["r0"]


async def test_dual_stack_pairs_are_taken_whole(start_controller, kube) -> None:
    """';' separates pairs; a pod gets both addresses of one pair."""
    await create_all(kube, subnet("ovn-default", "10.16.0.0/24,fd00:10:16::/120", default=True))
    await start_controller()
    pairs = {POOL: "10.16.0.60,fd00:10:16::60;10.16.0.61,fd00:10:16::61"}
    await create_all(kube, pod("d0", annotations=pairs), pod("d1", annotations=pairs))
    a = (await probes.allocated(kube, "d0", "ovn"))[IP]
    b = (await probes.allocated(kube, "d1", "ovn"))[IP]
    assert {a, b} == {"10.16.0.60,fd00:10:16::60", "10.16.0.61,fd00:10:16::61"}


async def test_pool_name_on_a_pod_and_a_provider(start_controller, kube) -> None:
    """An IPPool name picks that pool (and its subnet), per provider; unknown names wait."""
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/24", default=True),
        kube_ovn_nad("attachnet"),
        subnet("attach", "172.17.0.0/24", provider="attachnet.default.ovn"),
        ippool("attach-pool", "attach", ["172.17.0.100/31"]),
    )
    await start_controller()
    annotations = {
        "attachnet.default.ovn.kubernetes.io/ip_pool": "attach-pool",
        POOL: "later",
    }
    await create_all(kube, pod("named", networks="attachnet", annotations=annotations))
    event = await probes.warning(kube, "named", "IPPoolNotFound")
    assert "'later'" in event["message"]
    await create_all(kube, ippool("later", "ovn-default", ["10.16.0.77"]))
    got = await probes.allocated(kube, "named", "ovn", "attachnet.default.ovn")
    assert got[IP] == "10.16.0.77"
    assert got["attachnet.default.ovn.kubernetes.io/ip_address"] == "172.17.0.100"


async def test_malformed_list_is_an_event_naming_the_entry(start_controller, kube) -> None:
    """A list with a bad entry is refused, naming the annotation and the entry."""
    await create_all(kube, subnet("ovn-default", "10.16.0.0/24", default=True))
    await start_controller()
    await create_all(kube, pod("bad", annotations={POOL: "10.16.0.5,10.16.0.x"}))
    event = await probes.warning(kube, "bad", "InvalidAnnotation")
    assert POOL in event["message"]
    assert "10.16.0.x" in event["message"]
