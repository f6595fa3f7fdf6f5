"""desired_northbound / desired_subset alone: the switches and ports the NB should hold."""

from __future__ import annotations

from ovnctl.ovn import OwnerKind, SwitchSpec
from tests.controller.objects import subnet
from tests.reconcilers.factories import Rig, desired, desired_part

A = "net-a.default.ovn"


def setup(rig: Rig) -> dict[str, SwitchSpec]:
    """Two subnets with switches, one of them no longer in the IPAM (deleted)."""
    rig.add_subnet(subnet("s1", "10.16.0.0/24"))
    rig.add_subnet(subnet("sa", "172.17.0.0/24", provider=A))
    return {
        "s1": SwitchSpec(name="s1", cidr_block="10.16.0.0/24", gateway="10.16.0.1"),
        "sa": SwitchSpec(name="sa", cidr_block="172.17.0.0/24", gateway="172.17.0.1"),
        "gone": SwitchSpec(name="gone", cidr_block="10.99.0.0/24", gateway="10.99.0.1"),
    }


def test_switches_of_subnets_in_the_ipam_only(rig: Rig) -> None:
    """A switch is desired while its subnet is in the IPAM, not after the subnet went."""
    switches, _ = desired(rig, setup(rig))
    assert sorted(s.name for s in switches) == ["s1", "sa"]


def test_one_port_per_recorded_nic(rig: Rig) -> None:
    """Each recorded NIC holding an address on a desired switch has one port, its owner's."""
    switches = setup(rig)
    held = rig.ipam.allocate("s1", "p1.default")
    rig.ledger.record("p1.default", owner=("default", "p1"), is_vm=False)
    rig.ipam.allocate("sa", f"vm1.default.{A}")
    rig.ledger.record(f"vm1.default.{A}", owner=("default", "vm1"), is_vm=True)
    rig.ipam.allocate("s1", "unrecorded")  # no owner known: no port
    _, ports = desired(rig, switches)
    by_name = {p.name: p for p in ports}
    assert sorted(by_name) == ["p1.default", f"vm1.default.{A}"]
    pod_port = by_name["p1.default"]
    assert (pod_port.switch, pod_port.ips, pod_port.mac) == ("s1", held.ips, held.mac)
    assert (pod_port.owner_kind, pod_port.owner_name) == (OwnerKind.POD, "p1")
    vm_port = by_name[f"vm1.default.{A}"]
    assert (vm_port.owner_kind, vm_port.owner_name, vm_port.provider) == (OwnerKind.VM, "vm1", A)
    assert rig.ledger.port("p1.default") == pod_port  # noted: no NB write needed for it later


def test_port_of_a_nic_using_a_vip_address(rig: Rig) -> None:
    """A NIC using a Vip's address has a port named after the NIC with the Vip's address."""
    switches = setup(rig)
    vip = rig.ipam.allocate("s1", "vip:v1", ips="10.16.0.50")
    rig.ledger.record("p1.default", owner=("default", "p1"), is_vm=False)
    rig.ledger.set_ipam_owner("p1.default", "vip:v1")
    _, [port] = desired(rig, switches)
    assert (port.name, port.ips) == ("p1.default", vip.ips)


def test_nic_on_a_subnet_without_switch_has_no_port(rig: Rig) -> None:
    """An address in a subnet with no desired switch (an underlay) needs no port."""
    switches = setup(rig)
    del switches["sa"]
    rig.ipam.allocate("sa", "p1.default")
    rig.ledger.record("p1.default", owner=("default", "p1"), is_vm=False)
    assert desired(rig, switches) == ([switches["s1"]], [])


def test_subset_is_restricted_and_never_revives(rig: Rig) -> None:
    """desired_subset returns only the names asked for, and nothing that should be gone."""
    switches = setup(rig)
    rig.ipam.allocate("s1", "p1.default")
    rig.ledger.record("p1.default", owner=("default", "p1"), is_vm=False)
    rig.ipam.allocate("s1", "p2.default")
    rig.ledger.record("p2.default", owner=("default", "p2"), is_vm=False)
    chosen, ports = desired_part(rig, switches, {"s1", "gone"}, {"p1.default", "released.default"})
    assert [s.name for s in chosen] == ["s1"]
    assert [p.name for p in ports] == ["p1.default"]
