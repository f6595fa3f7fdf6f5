"""KubeVirt VM ports: owned by the VM, kept across its pods, removed when the VM's address goes."""

from __future__ import annotations

import asyncio

from ovnctl.ipam.results import Allocation
from ovnctl.ovn import Change, OvnNorthbound, OwnerKind, PortSpec
from ovnctl.ovn.sandbox import NbSandbox
from tests.ovn.conftest import row, switch


def vm_port() -> PortSpec:
    # The VM's allocation is keyed by the VM (vm1.default), not by a pod.
    allocation = Allocation(
        subnet="ovn-default",
        owner="vm1.default",
        ips=("10.16.0.50",),
        mac="0e:00:00:00:00:50",
        holders=frozenset({"default/virt-launcher-vm1-abcde"}),
    )
    return PortSpec.from_allocation(
        allocation, owner_kind=OwnerKind.VM, owner_namespace="default", owner_name="vm1"
    )


async def test_vm_port_names_the_vm(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """A VM's port is named after the VM and marked owner_kind=vm."""
    await northbound.ensure_subnet(switch())
    assert await northbound.ensure_port(vm_port()) is Change.CREATED
    lsp = row(sandbox, "Logical_Switch_Port", "vm1.default")
    assert lsp is not None
    assert lsp["addresses"] == ["0e:00:00:00:00:50 10.16.0.50"]
    assert lsp["external_ids"]["owner_kind"] == "vm"
    assert lsp["external_ids"]["pod"] == "default/vm1"


async def test_vm_port_kept_across_pod_restart(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """A new virt-launcher pod re-ensuring the VM's port leaves the same row untouched."""
    await northbound.ensure_subnet(switch())
    await northbound.ensure_port(vm_port())
    before = row(sandbox, "Logical_Switch_Port", "vm1.default")
    # The old pod is gone, a new one is allocated the same IP and MAC by the IPAM.
    assert await northbound.ensure_port(vm_port()) is Change.UNCHANGED
    assert row(sandbox, "Logical_Switch_Port", "vm1.default") == before


async def test_vm_port_serves_both_pods_during_migration(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """Source and target pods of a live migration ensure one port, concurrently, with no change."""
    await northbound.ensure_subnet(switch())
    await northbound.ensure_port(vm_port())
    results = await asyncio.gather(
        northbound.ensure_port(vm_port()), northbound.ensure_port(vm_port())
    )
    assert list(results) == [Change.UNCHANGED, Change.UNCHANGED]
    found = sandbox.nbctl(
        "--bare", "--columns=name", "find", "Logical_Switch_Port", "external_ids:owner_kind=vm"
    ).split()
    assert found == ["vm1.default"]


async def test_vm_port_removed_on_release(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """Releasing the VM's address (VM deleted) deletes its port."""
    await northbound.ensure_subnet(switch())
    await northbound.ensure_port(vm_port())
    assert await northbound.delete_port("vm1.default") is Change.DELETED
    assert row(sandbox, "Logical_Switch_Port", "vm1.default") is None
