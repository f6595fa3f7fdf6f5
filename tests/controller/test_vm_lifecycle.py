"""KubeVirt VMs keep their addresses across launcher pods and release them with the VM."""

from __future__ import annotations

from typing import Any

from ovnctl.k8s.resources import IPS, PODS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES
from tests.controller import probes
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, kube_ovn_nad, pod, subnet, virtual_machine

ALLOCATED = "attachnet.default.ovn.kubernetes.io/allocated"
IP = "attachnet.default.ovn.kubernetes.io/ip_address"
MAC = "attachnet.default.ovn.kubernetes.io/mac_address"


async def _annotations(kube, name: str) -> dict[str, str]:
    body = await kube.get(PODS, name=name, namespace="default")
    return dict(body["metadata"].get("annotations") or {})


async def test_vm_address_survives_pods_and_goes_with_the_vm(start_controller, kube) -> None:
    """New launcher pods and a migration target share the VM's IP and MAC; VM deletion frees it."""
    await create_all(
        kube,
        kube_ovn_nad("attachnet"),
        subnet("attach", "172.17.0.0/24", provider="attachnet.default.ovn"),
        virtual_machine("vm1"),
    )
    await start_controller(primary_network=False)
    await create_all(kube, pod("virt-launcher-vm1-aaaaa", networks="attachnet", vm="vm1"))
    first = await eventually(
        lambda: _annotations(kube, "virt-launcher-vm1-aaaaa"), until=lambda a: ALLOCATED in a
    )
    ip = await kube.get(IPS, name="vm1.default.attachnet.default.ovn")
    assert ip["spec"]["podType"] == "VirtualMachine"

    # Live migration: the target runs beside the source with the same address.
    await create_all(
        kube,
        pod(
            "virt-launcher-vm1-bbbbb",
            networks="attachnet",
            vm="vm1",
            node="node2",
            annotations={"kubevirt.io/migrationJobName": "mig1"},
        ),
    )
    target = await eventually(
        lambda: _annotations(kube, "virt-launcher-vm1-bbbbb"), until=lambda a: ALLOCATED in a
    )
    assert (target[IP], target[MAC]) == (first[IP], first[MAC])

    # Both launcher pods gone, VM still there (stopped): the address stays.
    for name in ("virt-launcher-vm1-aaaaa", "virt-launcher-vm1-bbbbb"):
        await kube.delete(PODS, name=name, namespace="default")
    await create_all(kube, pod("virt-launcher-vm1-ccccc", networks="attachnet", vm="vm1"))
    again = await eventually(
        lambda: _annotations(kube, "virt-launcher-vm1-ccccc"), until=lambda a: ALLOCATED in a
    )
    assert (again[IP], again[MAC]) == (first[IP], first[MAC])

    # The VM is deleted and its last pod goes: the address is released.
    await kube.delete(VIRTUAL_MACHINES, name="vm1", namespace="default")
    await kube.delete(PODS, name="virt-launcher-vm1-ccccc", namespace="default")
    await eventually(
        lambda: _exists(kube, "vm1.default.attachnet.default.ovn"), until=lambda found: not found
    )


async def _exists(kube, name: str) -> bool:
    async for page in kube.list_pages(IPS):
        if any(item["metadata"]["name"] == name for item in page):
            return True
    return False


def _vmi(name: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstance",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"domain": {"devices": {}}},
    }


async def _setup(kube) -> None:
    await create_all(
        kube,
        kube_ovn_nad("attachnet"),
        subnet("attach", "172.17.0.0/24", provider="attachnet.default.ovn"),
    )


async def test_standalone_vmi_released_when_vmi_and_pod_go(start_controller, kube) -> None:
    """A VMI without a VM owns the address: kept while either the VMI or its pod exists."""
    await _setup(kube)
    await kube.create(VIRTUAL_MACHINE_INSTANCES, _vmi("vmi1"), namespace="default")
    controller = await start_controller(primary_network=False)
    await create_all(kube, pod("virt-launcher-vmi1-aaaaa", networks="attachnet", vm="vmi1"))
    first = await eventually(
        lambda: _annotations(kube, "virt-launcher-vmi1-aaaaa"), until=lambda a: ALLOCATED in a
    )
    assert first["attachnet.default.ovn.kubernetes.io/virtualmachine"] == "vmi1"
    nic = "vmi1.default.attachnet.default.ovn"

    # The VMI goes first: its pod still runs, so the address stays.
    await kube.delete(VIRTUAL_MACHINE_INSTANCES, name="vmi1", namespace="default")
    await probes.idle(controller, lambda c: not c.kubevirt.vmi_exists("default", "vmi1"))
    assert await _exists(kube, nic)
    await kube.delete(PODS, name="virt-launcher-vmi1-aaaaa", namespace="default")
    await eventually(lambda: _exists(kube, nic), until=lambda found: not found)
    await eventually(lambda: probes.using(kube, "attach"), until=lambda n: n == 0)


async def test_pod_deleted_while_standalone_vmi_exists_keeps_address(
    start_controller, kube
) -> None:
    """Deleting a standalone VMI's pod keeps the address; the next pod gets it again."""
    await _setup(kube)
    await kube.create(VIRTUAL_MACHINE_INSTANCES, _vmi("vmi1"), namespace="default")
    controller = await start_controller(primary_network=False)
    await create_all(kube, pod("virt-launcher-vmi1-aaaaa", networks="attachnet", vm="vmi1"))
    first = await eventually(
        lambda: _annotations(kube, "virt-launcher-vmi1-aaaaa"), until=lambda a: ALLOCATED in a
    )
    await kube.delete(PODS, name="virt-launcher-vmi1-aaaaa", namespace="default")
    await probes.idle(
        controller, lambda c: c.pods.get("default", "virt-launcher-vmi1-aaaaa") is None
    )
    assert await _exists(kube, "vmi1.default.attachnet.default.ovn")
    await create_all(kube, pod("other", networks="attachnet"))
    other = await eventually(lambda: _annotations(kube, "other"), until=lambda a: ALLOCATED in a)
    assert other[IP] != first[IP]
    await create_all(kube, pod("virt-launcher-vmi1-bbbbb", networks="attachnet", vm="vmi1"))
    again = await eventually(
        lambda: _annotations(kube, "virt-launcher-vmi1-bbbbb"), until=lambda a: ALLOCATED in a
    )
    assert (again[IP], again[MAC]) == (first[IP], first[MAC])


async def test_stopped_vm_keeps_address_across_restart(sim, kube) -> None:
    """A VM with no pod keeps its IP and MAC through a controller restart."""
    await _setup(kube)
    await create_all(kube, virtual_machine("vm1"))
    async with probes.Restartable(sim, primary_network=False) as controller:
        running = await controller.start()
        await create_all(kube, pod("virt-launcher-vm1-aaaaa", networks="attachnet", vm="vm1"))
        first = await eventually(
            lambda: _annotations(kube, "virt-launcher-vm1-aaaaa"), until=lambda a: ALLOCATED in a
        )
        await kube.delete(PODS, name="virt-launcher-vm1-aaaaa", namespace="default")  # stopped
        await probes.idle(
            running, lambda c: c.pods.get("default", "virt-launcher-vm1-aaaaa") is None
        )
        await controller.stop()

        await controller.start()
        # Another pod asks first: it must not be handed the stopped VM's address.
        await create_all(kube, pod("other", networks="attachnet"))
        other = await eventually(
            lambda: _annotations(kube, "other"), until=lambda a: ALLOCATED in a
        )
        assert other[IP] != first[IP]
        await create_all(kube, pod("virt-launcher-vm1-bbbbb", networks="attachnet", vm="vm1"))
        again = await eventually(
            lambda: _annotations(kube, "virt-launcher-vm1-bbbbb"), until=lambda a: ALLOCATED in a
        )
        assert (again[IP], again[MAC]) == (first[IP], first[MAC])
        assert await _exists(kube, "vm1.default.attachnet.default.ovn")


async def test_vm_deleted_while_pod_terminating_keeps_address(start_controller, kube) -> None:
    """The VM goes while its pod is still terminating: the address stays until the pod is gone."""
    await _setup(kube)
    await create_all(kube, virtual_machine("vm1"))
    controller = await start_controller(primary_network=False)
    launcher = pod("virt-launcher-vm1-aaaaa", networks="attachnet", vm="vm1")
    launcher["metadata"]["finalizers"] = ["test.ovnctl/hold"]
    await create_all(kube, launcher)
    await eventually(
        lambda: _annotations(kube, "virt-launcher-vm1-aaaaa"), until=lambda a: ALLOCATED in a
    )
    await kube.delete(PODS, name="virt-launcher-vm1-aaaaa", namespace="default")  # terminating
    await kube.delete(VIRTUAL_MACHINES, name="vm1", namespace="default")

    def seen(c: Any) -> bool:
        record = c.pods.get("default", "virt-launcher-vm1-aaaaa")
        return not c.kubevirt.vm_exists("default", "vm1") and record is not None and record.deleting

    await probes.idle(controller, seen)
    nic = "vm1.default.attachnet.default.ovn"
    assert await _exists(kube, nic)
    assert await probes.using(kube, "attach") == 1

    await kube.patch(
        PODS,
        name="virt-launcher-vm1-aaaaa",
        namespace="default",
        body={"metadata": {"finalizers": None}},
    )
    await eventually(lambda: _exists(kube, nic), until=lambda found: not found)
    await eventually(lambda: probes.using(kube, "attach"), until=lambda n: n == 0)


async def test_migration_target_takes_over_node_when_source_goes(start_controller, kube) -> None:
    """During a migration the IP object stays on the source's node; after it, the target's."""
    await _setup(kube)
    await create_all(kube, virtual_machine("vm1"))
    controller = await start_controller(primary_network=False)
    await create_all(kube, pod("virt-launcher-vm1-src", networks="attachnet", vm="vm1"))
    source = await eventually(
        lambda: _annotations(kube, "virt-launcher-vm1-src"), until=lambda a: ALLOCATED in a
    )
    await create_all(
        kube,
        pod(
            "virt-launcher-vm1-dst",
            networks="attachnet",
            vm="vm1",
            node="node2",
            annotations={"kubevirt.io/migrationJobName": "mig1"},
        ),
    )
    target = await eventually(
        lambda: _annotations(kube, "virt-launcher-vm1-dst"), until=lambda a: ALLOCATED in a
    )
    assert (target[IP], target[MAC]) == (source[IP], source[MAC])
    nic = "vm1.default.attachnet.default.ovn"
    ip = await kube.get(IPS, name=nic)
    assert ip["spec"]["nodeName"] == "node1"
    await kube.delete(PODS, name="virt-launcher-vm1-src", namespace="default")
    await eventually(
        lambda: kube.get(IPS, name=nic), until=lambda body: body["spec"]["nodeName"] == "node2"
    )
    await eventually(lambda: probes.using(kube, "attach"), until=lambda n: n == 1)
    await probes.idle(controller, lambda c: c.pods.get("default", "virt-launcher-vm1-src") is None)
    assert await probes.using(kube, "attach") == 1
    assert await _exists(kube, nic)
