"""Convergence: the NB made to match the desired state; ovnctl's leftovers go, others' rows stay."""

from __future__ import annotations

from ovnctl.ovn import OvnNorthbound
from ovnctl.ovn.sandbox import NbSandbox
from tests.ovn.conftest import port, row, switch, switch_ports

PORTS = [port(f"p{i}", f"10.16.0.{10 + i}") for i in range(5)]


async def seed(northbound: OvnNorthbound) -> None:
    await northbound.ensure_subnet(switch())
    for spec in PORTS:
        await northbound.ensure_port(spec)


async def test_converged_nb_is_left_alone(northbound: OvnNorthbound) -> None:
    """Converging an NB that already matches changes nothing."""
    await seed(northbound)
    report = await northbound.converge([switch()], PORTS)
    assert not report.changed
    assert report.foreign == report.orphans == report.kept == ()


async def test_empty_nb_is_built(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """On an empty NB converge creates the switch, router link and every port."""
    report = await northbound.converge([switch()], PORTS)
    assert report.switches_created == ("ovn-default",)
    assert report.ports_created == tuple(sorted(p.name for p in PORTS))
    assert switch_ports(sandbox, "ovn-default") == {p.name for p in PORTS} | {
        "ovn-default-ovn-cluster"
    }


async def test_port_deleted_by_hand_is_recreated(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """A port removed with ovn-nbctl comes back with its addresses."""
    await seed(northbound)
    sandbox.nbctl("lsp-del", "p1.default")
    report = await northbound.converge([switch()], PORTS)
    assert report.ports_created == ("p1.default",)
    lsp = row(sandbox, "Logical_Switch_Port", "p1.default")
    assert lsp is not None
    assert lsp["addresses"] == [PORTS[1].addresses]


async def test_switch_deleted_by_hand_is_recreated(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """A switch removed with ovn-nbctl (taking its ports) comes back with all of them."""
    await seed(northbound)
    sandbox.nbctl("ls-del", "ovn-default")
    report = await northbound.converge([switch()], PORTS)
    assert report.switches_created == ("ovn-default",)
    assert report.ports_created == tuple(sorted(p.name for p in PORTS))
    assert len(switch_ports(sandbox, "ovn-default")) == len(PORTS) + 1


async def test_port_changed_by_hand_is_restored(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """Addresses edited by hand are put back to what the IPAM says."""
    await seed(northbound)
    sandbox.nbctl("lsp-set-addresses", "p2.default", "0e:00:00:00:99:99 10.16.9.9")
    report = await northbound.converge([switch()], PORTS)
    assert report.ports_updated == ("p2.default",)
    lsp = row(sandbox, "Logical_Switch_Port", "p2.default")
    assert lsp is not None
    assert lsp["addresses"] == [PORTS[2].addresses]


async def test_stale_owned_port_is_removed(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """A port ovnctl wrote that nothing wants any more (a crash before delete) is removed."""
    await seed(northbound)
    report = await northbound.converge([switch()], PORTS[:3])
    assert report.ports_deleted == ("p3.default", "p4.default")
    assert row(sandbox, "Logical_Switch_Port", "p3.default") is None
    assert row(sandbox, "Logical_Switch_Port", "p0.default") is not None


async def test_stale_owned_switch_is_removed(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """A switch of a deleted subnet goes with its ports and its router port."""
    await seed(northbound)
    await northbound.ensure_subnet(switch("gone", "10.99.0.0/16", "10.99.0.1"))
    await northbound.ensure_port(port("x", "10.99.0.5", switch="gone"))
    report = await northbound.converge([switch()], PORTS)
    assert report.switches_deleted == ("gone",)
    assert report.ports_deleted == ("x.default",)
    assert row(sandbox, "Logical_Switch", "gone") is None
    assert row(sandbox, "Logical_Router_Port", "ovn-cluster-gone") is None
    assert row(sandbox, "Logical_Switch_Port", "gone-ovn-cluster") is None
    assert row(sandbox, "Logical_Router_Port", "ovn-cluster-ovn-default") is not None


async def test_foreign_rows_are_untouched(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """Switches, ports and router ports without ovnctl's vendor key survive convergence."""
    await seed(northbound)
    sandbox.nbctl("ls-add", "theirs")
    sandbox.nbctl("lsp-add", "theirs", "their-port")
    sandbox.nbctl("lsp-add", "ovn-default", "their-port-on-ours")
    sandbox.nbctl("lrp-add", "ovn-cluster", "their-lrp", "0e:11:11:11:11:11", "192.168.0.1/24")
    sandbox.nbctl(
        "ls-add",
        "kube-ovn",
        "--",
        "set",
        "Logical_Switch",
        "kube-ovn",
        "external_ids:vendor=kube-ovn",
    )
    report = await northbound.converge([switch()], PORTS)
    assert not report.changed
    for table, name in (
        ("Logical_Switch", "theirs"),
        ("Logical_Switch", "kube-ovn"),
        ("Logical_Switch_Port", "their-port"),
        ("Logical_Switch_Port", "their-port-on-ours"),
        ("Logical_Router_Port", "their-lrp"),
    ):
        assert row(sandbox, table, name) is not None, name


async def test_desired_name_taken_by_foreign_row_is_reported(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """A desired port whose name a foreign row holds is reported and left as it is."""
    await seed(northbound)
    sandbox.nbctl("lsp-del", "p0.default")
    sandbox.nbctl("lsp-add", "ovn-default", "p0.default")
    report = await northbound.converge([switch()], PORTS)
    assert report.foreign == ("p0.default",)
    lsp = row(sandbox, "Logical_Switch_Port", "p0.default")
    assert lsp is not None
    assert lsp["addresses"] == []


async def test_stale_switch_with_foreign_ports_is_kept(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """An unwanted ovnctl switch still holding someone else's port is kept; ovnctl's ports go."""
    await seed(northbound)
    await northbound.ensure_subnet(switch("gone", "10.99.0.0/16", "10.99.0.1"))
    await northbound.ensure_port(port("x", "10.99.0.5", switch="gone"))
    sandbox.nbctl("lsp-add", "gone", "their-port")
    report = await northbound.converge([switch()], PORTS)
    assert report.kept == ("gone",)
    assert report.ports_deleted == ("x.default",)
    assert switch_ports(sandbox, "gone") == {"their-port", "gone-ovn-cluster"}


async def test_port_without_switch_is_an_orphan(northbound: OvnNorthbound) -> None:
    """A desired port on a switch that is neither desired nor present is reported, not written."""
    await seed(northbound)
    report = await northbound.converge([switch()], [*PORTS, port("y", "10.5.0.5", switch="nope")])
    assert report.orphans == ("y.default",)
    assert not report.changed


async def test_many_ports_converge_in_batches(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """Ports beyond one batch are converged over several transactions, all of them."""
    northbound.batch_size = 7
    specs = [port(f"b{i}", f"10.16.1.{i + 1}", mac=f"0e:00:00:01:00:{i:02x}") for i in range(30)]
    report = await northbound.converge([switch()], specs)
    assert len(report.ports_created) == 30
    assert report.transactions == 1 + 5 + 1  # switches, ceil(30 / 7) port batches, removals
    assert len(switch_ports(sandbox, "ovn-default")) == 31
