"""VmReconciler (with the pod reconciler for launcher pods): a VM's addresses live with the VM.

Launcher pods come and go (restart, live migration); the NICs belong to the
VM and are released only when the VM, its VMI and every launcher pod are gone,
confirmed by targeted GETs.
"""

from __future__ import annotations

import asyncio

from ovnctl.k8s.resources import IPS, PODS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES
from ovnctl.models import MIGRATION_JOB_ANNOTATION
from ovnctl.queue import Done, RequeueAfter
from tests.controller.objects import pod, subnet, virtual_machine, virtual_machine_instance
from tests.reconcilers.factories import Rig, make_pod_reconciler, make_vm_reconciler
from tests.reconcilers.fakes import stamp

VM = ("default", "vm1")
NIC = "vm1.default"
SOURCE = "virt-launcher-vm1-aaaaa"
TARGET = "virt-launcher-vm1-bbbbb"


async def launch(rig: Rig, name: str, **extra: object) -> None:
    """A launcher pod of vm1 appears and is reconciled."""
    body = pod(name, vm="vm1", **extra)  # type: ignore[arg-type]
    rig.add(body)
    await make_pod_reconciler(rig)(("default", name))


def setup_vm(rig: Rig) -> None:
    rig.add_subnet(subnet("ovn-default", "10.16.0.0/24", default=True))
    rig.add(virtual_machine("vm1"))
    rig.writer.seed(VIRTUAL_MACHINES, stamp(virtual_machine("vm1")))


def vm_gone(rig: Rig) -> None:
    """The VM, its VMI and every launcher pod are gone from the server and the caches."""
    rig.caches.delete("VirtualMachine", "vm1", "default")
    rig.caches.delete("VirtualMachineInstance", "vm1", "default")
    rig.writer.remove(VIRTUAL_MACHINES, "vm1", "default")
    rig.writer.remove(VIRTUAL_MACHINE_INSTANCES, "vm1", "default")
    for name in rig.caches.pods.pods_of_vm("default", "vm1"):
        rig.delete_pod("default", name)


async def test_nic_is_the_vm_s_and_named_after_it(rig: Rig) -> None:
    """A launcher pod's NIC is named after the VM and recorded as the VM's, podType VM."""
    setup_vm(rig)
    await launch(rig, SOURCE)
    assert rig.ledger.nics_of_vm(VM) == frozenset({NIC})
    [create] = rig.writer.calls_to("create", IPS)
    assert (create.name, create.body["spec"]["podName"]) == (NIC, "vm1")
    assert create.body["spec"]["podType"] == "VirtualMachine"
    patch = rig.writer.calls_to("patch", PODS)[0].body["metadata"]["annotations"]
    assert patch["ovn.kubernetes.io/virtualmachine"] == "vm1"


async def test_new_launcher_pod_gets_the_same_address_and_mac(rig: Rig) -> None:
    """A VM restarted with a new launcher pod keeps its IP and MAC."""
    setup_vm(rig)
    await launch(rig, SOURCE)
    before = rig.ipam.lookup(NIC)[0]
    rig.delete_pod("default", SOURCE)
    await make_pod_reconciler(rig)(("default", SOURCE))
    assert await make_vm_reconciler(rig)(VM) is Done  # the VM still exists
    await launch(rig, TARGET)
    after = rig.ipam.lookup(NIC)[0]
    assert (after.ips, after.mac) == (before.ips, before.mac)
    assert rig.writer.calls_to("delete", IPS) == []


async def test_finished_launcher_pod_does_not_release(rig: Rig) -> None:
    """A launcher pod that completed leaves the VM's addresses alone."""
    setup_vm(rig)
    await launch(rig, SOURCE)
    rig.add({**pod(SOURCE, vm="vm1"), "status": {"phase": "Succeeded"}})
    await make_pod_reconciler(rig)(("default", SOURCE))
    assert rig.writer.calls_to("delete", IPS) == []
    assert rig.ipam.lookup(NIC) != ()


async def test_migration_target_shares_the_address(rig: Rig) -> None:
    """Source and target pods of a live migration hold the same address at once."""
    setup_vm(rig)
    await launch(rig, SOURCE)
    await launch(rig, TARGET, node="node2")
    [allocation] = rig.ipam.lookup(NIC)
    assert allocation.holders == frozenset({f"default/{SOURCE}", f"default/{TARGET}"})
    patches = rig.writer.calls_to("patch", PODS)
    addresses = {p.body["metadata"]["annotations"]["ovn.kubernetes.io/ip_address"] for p in patches}
    assert len(addresses) == 1


async def test_ip_object_follows_the_vm_after_migration(rig: Rig) -> None:
    """During a migration the IP object stays on the source's node; after it, the target's."""
    setup_vm(rig)
    await launch(rig, SOURCE, node="node1")
    target = pod(TARGET, vm="vm1", node="node2")
    target["metadata"]["annotations"] = {MIGRATION_JOB_ANNOTATION: "job1"}
    rig.add(target)
    reconcile = make_pod_reconciler(rig)
    await reconcile(("default", TARGET))
    assert rig.writer.calls_to("patch", IPS) == []  # still node1: nothing to change
    rig.delete_pod("default", SOURCE)
    await reconcile(("default", TARGET))
    [moved] = rig.writer.calls_to("patch", IPS)
    assert moved.body["spec"]["nodeName"] == "node2"


async def test_ip_object_follows_the_vm_when_the_source_completes(rig: Rig) -> None:
    """A completed (Succeeded) migration source no longer holds the IP object: target's node."""
    setup_vm(rig)
    await launch(rig, SOURCE, node="node1")
    target = pod(TARGET, vm="vm1", node="node2")
    target["metadata"]["annotations"] = {MIGRATION_JOB_ANNOTATION: "job1"}
    rig.add(target)
    reconcile = make_pod_reconciler(rig)
    await reconcile(("default", TARGET))
    rig.add({**pod(SOURCE, vm="vm1", node="node1"), "status": {"phase": "Succeeded"}})
    await reconcile(("default", SOURCE))
    await reconcile(("default", TARGET))
    [moved] = rig.writer.calls_to("patch", IPS)
    assert moved.body["spec"]["nodeName"] == "node2"
    assert rig.writer.calls_to("delete", IPS) == []


async def test_vm_with_a_live_pod_or_object_is_kept_without_a_get(rig: Rig) -> None:
    """While a launcher pod, the VM or the VMI is cached, nothing is released or fetched."""
    setup_vm(rig)
    await launch(rig, SOURCE)
    reconcile = make_vm_reconciler(rig)
    assert await reconcile(VM) is Done  # pod and VM
    rig.delete_pod("default", SOURCE)
    assert await reconcile(VM) is Done  # VM only (stopped)
    rig.caches.delete("VirtualMachine", "vm1", "default")
    rig.add(virtual_machine_instance("vm1"))
    assert await reconcile(VM) is Done  # standalone VMI
    assert rig.writer.calls_to("get") == []
    assert rig.ipam.lookup(NIC) != ()


async def test_vm_gone_is_confirmed_then_released(rig: Rig) -> None:
    """Gone from the caches: GETs of the VM and VMI confirm it, then the NICs are released."""
    setup_vm(rig)
    await launch(rig, SOURCE)
    vm_gone(rig)
    assert await make_vm_reconciler(rig)(VM) is Done
    gets = [(c.plural, c.name) for c in rig.writer.calls_to("get")]
    assert gets == [("virtualmachines", "vm1"), ("virtualmachineinstances", "vm1")]
    assert [c.name for c in rig.writer.calls_to("delete", IPS)] == [NIC]
    assert rig.ipam.lookup(NIC) == ()
    assert rig.ledger.nics_of_vm(VM) == frozenset()


async def test_cache_lag_requeues_instead_of_releasing(rig: Rig) -> None:
    """The cache says gone but the API still has the VM: look again later, release nothing."""
    setup_vm(rig)
    await launch(rig, SOURCE)
    vm_gone(rig)
    rig.writer.seed(VIRTUAL_MACHINES, stamp(virtual_machine("vm1")))
    result = await make_vm_reconciler(rig)(VM)
    assert isinstance(result, RequeueAfter)
    assert rig.writer.calls_to("delete", IPS) == []
    assert rig.ipam.lookup(NIC) != ()


async def test_vm_recreated_during_the_check_keeps_its_nics(rig: Rig) -> None:
    """A VM recreated while its absence is being confirmed keeps the NICs its new pod uses."""
    setup_vm(rig)
    await launch(rig, SOURCE)
    vm_gone(rig)
    held = rig.writer.hold("get", VIRTUAL_MACHINE_INSTANCES)
    check = asyncio.create_task(make_vm_reconciler(rig)(VM))
    await held.entered.wait()
    rig.add(virtual_machine("vm1"), pod(TARGET, vm="vm1"))
    held.release()
    assert await check is Done
    assert rig.writer.calls_to("delete", IPS) == []
    assert rig.ipam.lookup(NIC) != ()


async def test_gone_launcher_pods_stop_holding(rig: Rig) -> None:
    """A launcher pod no longer cached is dropped from the address's holders; the address stays."""
    setup_vm(rig)
    await launch(rig, SOURCE)
    await launch(rig, TARGET)
    rig.delete_pod("default", SOURCE)
    assert await make_vm_reconciler(rig)(VM) is Done
    [allocation] = rig.ipam.lookup(NIC)
    assert allocation.holders == frozenset({f"default/{TARGET}"})


async def test_vm_without_nics_costs_nothing(rig: Rig) -> None:
    """A VM key with nothing recorded returns at once, with no request."""
    assert await make_vm_reconciler(rig)(VM) is Done
    assert rig.writer.calls == []
