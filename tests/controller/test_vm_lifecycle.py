"""KubeVirt VMs keep their addresses across launcher pods and release them with the VM."""

from __future__ import annotations

from ovnctl.k8s.resources import IPS, PODS, VIRTUAL_MACHINES
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
