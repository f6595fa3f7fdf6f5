"""KeyRouter alone: which keys each watched change or reconcile outcome enqueues.

The router feeds real rate-limiting queues on a fake clock; caches are fed from
dicts before each event is reported, as the informers do. (The default-subnet
race has its own unit tests in ``tests/controller/test_default_subnet_order.py``.)
"""

from __future__ import annotations

from typing import Any

from ovnctl.controller.routing import STATUS_COALESCE_SECONDS
from ovnctl.reconcilers.waiting import nad_topic, nic_topic, provider_topic, subnet_topic
from tests.controller.objects import kube_ovn_nad, macvlan_nad, pod, subnet
from tests.reconcilers.factories import Rig, Routed, make_pod_reconciler, make_router
from tests.reconcilers.fakes import stamp


def put_subnet(rig: Rig, routed: Routed, body: dict[str, Any]) -> None:
    rig.caches.put(body)
    routed.router.subnet_changed(body["metadata"]["name"])


def nothing() -> dict[str, set[Any]]:
    return {"subnets": set(), "pods": set(), "vms": set()}


async def test_status_write_enqueues_nothing(rig: Rig) -> None:
    """A Subnet event that changes only status (our own write) queues no key."""
    routed = make_router(rig)
    body = stamp(subnet("s1", "10.16.0.0/24"))
    put_subnet(rig, routed, body)
    await routed.drain()
    version = rig.spec_changes
    body["status"] = {"v4usingIPs": 3}
    body["metadata"]["resourceVersion"] = "2"
    put_subnet(rig, routed, body)
    assert await routed.drain() == nothing()
    assert rig.spec_changes == version


async def test_new_subnet_enqueues_itself_and_the_refused(rig: Rig) -> None:
    """A subnet seen first is queued with the refused subnets, not with its rivals."""
    rig.refused.add("loser")
    rig.rivals["s1"] = {"rival"}
    routed = make_router(rig)
    put_subnet(rig, routed, stamp(subnet("s1", "10.16.0.0/24")))
    assert (await routed.drain())["subnets"] == {"s1", "loser"}


async def test_spec_change_enqueues_rivals_and_refused(rig: Rig) -> None:
    """A spec change of a known subnet also queues its rivals and the refused subnets."""
    routed = make_router(rig)
    body = stamp(subnet("s1", "10.16.0.0/24"))
    put_subnet(rig, routed, body)
    await routed.drain()
    rig.refused.add("loser")
    rig.rivals["s1"] = {"rival"}
    version = rig.spec_changes
    body["spec"]["excludeIps"] = ["10.16.0.9"]
    body["metadata"]["generation"] = 2
    put_subnet(rig, routed, body)
    assert (await routed.drain())["subnets"] == {"s1", "rival", "loser"}
    assert rig.spec_changes == version + 1


async def test_finalizer_change_enqueues_only_the_subnet(rig: Rig) -> None:
    """A change of finalizers alone queues that subnet only; no verdict of another changes."""
    routed = make_router(rig)
    body = stamp(subnet("s1", "10.16.0.0/24"))
    put_subnet(rig, routed, body)
    await routed.drain()
    rig.refused.add("loser")
    rig.rivals["s1"] = {"rival"}
    version = rig.spec_changes
    body["metadata"]["finalizers"] = ["kubeovn.io/ovnctl"]
    put_subnet(rig, routed, body)
    assert (await routed.drain())["subnets"] == {"s1"}
    assert rig.spec_changes == version


async def test_deleted_subnet_is_queued_with_the_refused(rig: Rig) -> None:
    """A subnet gone from the cache is queued (to drop it) with the refused ones."""
    routed = make_router(rig)
    put_subnet(rig, routed, stamp(subnet("s1", "10.16.0.0/24")))
    await routed.drain()
    rig.refused.add("loser")
    rig.caches.delete("Subnet", "s1")
    routed.router.subnet_changed("s1")
    assert (await routed.drain())["subnets"] == {"s1", "loser"}


async def test_default_spec_change_enqueues_the_other_defaults(rig: Rig) -> None:
    """A spec change of a default subnet queues every default (only one may be default)."""
    routed = make_router(rig)
    first = stamp(subnet("d1", "10.16.0.0/24", default=True))
    put_subnet(rig, routed, first)
    put_subnet(rig, routed, stamp(subnet("d2", "10.17.0.0/24", default=True)))
    await routed.drain()
    first["metadata"]["generation"] = 2
    first["spec"]["excludeIps"] = ["10.16.0.9"]
    put_subnet(rig, routed, first)
    assert (await routed.drain())["subnets"] == {"d1", "d2"}


async def test_nad_change_wakes_its_waiters_and_queues_its_subnets(rig: Rig) -> None:
    """A NAD change wakes pods waiting on it or its providers and queues the providers' subnets."""
    routed = make_router(rig)
    rig.add(kube_ovn_nad("net-a"), macvlan_nad("net-a", "other"))
    put_subnet(rig, routed, stamp(subnet("sub-a", "172.17.0.0/24", provider="net-a.default.ovn")))
    put_subnet(rig, routed, stamp(subnet("sub-mv", "172.18.0.0/24", provider="net-a.default")))
    put_subnet(rig, routed, stamp(subnet("unrelated", "172.19.0.0/24", provider="x.default.ovn")))
    await routed.drain()
    rig.waits.wait(("default", "p-nad"), [nad_topic("default", "net-a")])
    rig.waits.wait(("default", "p-prov"), [provider_topic("net-a.default.ovn")])
    rig.waits.wait(("default", "p-other"), [nad_topic("other", "net-a")])
    routed.router.nad_changed("default", "net-a")
    queued = await routed.drain()
    assert queued["pods"] == {("default", "p-nad"), ("default", "p-prov")}
    assert queued["subnets"] == {"sub-a", "sub-mv"}
    assert ("default", "p-other") in rig.waits


async def test_pod_change_enqueues_the_pod(rig: Rig) -> None:
    """A plain pod's change queues that pod only."""
    routed = make_router(rig)
    rig.add(pod("p1"))
    routed.router.pod_changed("default", "p1", vm=None)
    assert await routed.drain() == {**nothing(), "pods": {("default", "p1")}}


async def test_launcher_pod_change_enqueues_its_vm_and_sibling(rig: Rig) -> None:
    """A launcher pod's change queues the VM and the VM's other launcher pod (migration)."""
    routed = make_router(rig)
    rig.add(pod("src", vm="vm1"), pod("dst", vm="vm1"), pod("other", vm="vm2"))
    routed.router.pod_changed("default", "dst", vm="vm1")
    queued = await routed.drain()
    assert queued["pods"] == {("default", "dst"), ("default", "src")}
    assert queued["vms"] == {("default", "vm1")}


async def test_vm_change_enqueues_the_vm(rig: Rig) -> None:
    """A VM or VMI change queues the VM key."""
    routed = make_router(rig)
    routed.router.vm_changed("default", "vm1")
    assert await routed.drain() == {**nothing(), "vms": {("default", "vm1")}}


async def test_echo_of_own_patch_enqueues_nothing(rig: Rig) -> None:
    """The watch echo of the pod reconciler's own patch queues neither the pod nor its VM."""
    rig.add_subnet(subnet("ovn-default", "10.16.0.0/24", default=True))
    rig.add(pod("src", vm="vm1"))
    reconcile = make_pod_reconciler(rig)
    routed = make_router(rig)
    await reconcile(("default", "src"))
    rig.echo("default", "src")
    routed.router.pod_changed("default", "src", vm="vm1")
    assert await routed.drain() == nothing()
    # The next change is a real one.
    routed.router.pod_changed("default", "src", vm="vm1")
    assert (await routed.drain())["pods"] == {("default", "src")}


async def test_usage_change_refreshes_status_later_and_wakes_now(rig: Rig) -> None:
    """Taken or freed addresses wake the subnet's waiters now and queue its status coalesced."""
    routed = make_router(rig)
    rig.waits.wait(("default", "p1"), [subnet_topic("s1")])
    routed.router.usage_changed("s1")
    routed.router.usage_changed("s1")
    queued = await routed.drain()
    assert queued["pods"] == {("default", "p1")}
    assert queued["subnets"] == set()
    assert routed.subnets.delayed() == ("s1",)
    rig.clock.step(STATUS_COALESCE_SECONDS)
    assert routed.subnets.queued() == ("s1",)


async def test_serving_subnet_wakes_its_and_its_provider_s_waiters(rig: Rig) -> None:
    """A subnet found Ready wakes pods waiting on it and on its provider."""
    routed = make_router(rig)
    put_subnet(rig, routed, stamp(subnet("sub-a", "172.17.0.0/24", provider="a.default.ovn")))
    await routed.drain()
    rig.waits.wait(("default", "p1"), [subnet_topic("sub-a")])
    rig.waits.wait(("default", "p2"), [provider_topic("a.default.ovn")])
    rig.waits.wait(("default", "p3"), [provider_topic("ovn")])
    routed.router.subnet_serving("sub-a")
    assert (await routed.drain())["pods"] == {("default", "p1"), ("default", "p2")}


async def test_wake_requeues_a_nic_s_waiters(rig: Rig) -> None:
    """A NIC's release ending wakes the pods that waited for it."""
    routed = make_router(rig)
    rig.waits.wait(("default", "p1"), [nic_topic("p1.default")])
    routed.router.wake(nic_topic("p1.default"))
    assert (await routed.drain())["pods"] == {("default", "p1")}
    assert ("default", "p1") not in rig.waits
