"""NICs as logical switch ports: addresses, port security, owner, updates, deletion."""

from __future__ import annotations

import pytest

from ovnctl.ovn import (
    Change,
    ForeignObjectError,
    MissingSwitchError,
    OvnNorthbound,
    OwnerKind,
    PortSpec,
)
from ovnctl.ovn.sandbox import NbSandbox
from tests.ovn.conftest import port, row, switch, switch_ports


async def test_pod_port_addresses_and_port_security(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """A pod's port is named like its IP object, with "MAC IP" addresses and port security."""
    await northbound.ensure_subnet(switch())
    spec = port("web-0", "10.16.0.5", mac="0E:00:00:00:00:05")
    assert await northbound.ensure_port(spec) is Change.CREATED
    lsp = row(sandbox, "Logical_Switch_Port", "web-0.default")
    assert lsp is not None
    assert lsp["addresses"] == ["0e:00:00:00:00:05 10.16.0.5"]
    assert lsp["port_security"] == ["0e:00:00:00:00:05 10.16.0.5"]
    assert lsp["external_ids"] == {
        "vendor": "ovnctl",
        "ls": "ovn-default",
        "pod": "default/web-0",
        "owner_kind": "pod",
        "owner_namespace": "default",
        "owner_name": "web-0",
        "provider": "ovn",
    }
    assert "web-0.default" in switch_ports(sandbox, "ovn-default")


async def test_dual_stack_port_lists_ipv4_then_ipv6(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """A dual-stack NIC's addresses are "MAC IPv4 IPv6" whatever the allocation's order."""
    await northbound.ensure_subnet(
        switch(cidr="fd00:10:16::/64,10.16.0.0/16", gateway="fd00:10:16::1,10.16.0.1")
    )
    spec = port("db", "fd00:10:16::7", "10.16.0.7", mac="0e:00:00:00:00:07")
    await northbound.ensure_port(spec)
    lsp = row(sandbox, "Logical_Switch_Port", "db.default")
    assert lsp is not None
    assert lsp["addresses"] == ["0e:00:00:00:00:07 10.16.0.7 fd00:10:16::7"]
    assert lsp["port_security"] == lsp["addresses"]


async def test_attachment_port_on_its_provider_subnet(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """A Multus attachment's port is <owner>.<ns>.<provider> on the provider's switch."""
    await northbound.ensure_subnet(switch("attach", "172.17.0.0/24", "172.17.0.1"))
    spec = port("web-0", "172.17.0.9", switch="attach", provider="attachnet.default.ovn")
    await northbound.ensure_port(spec)
    lsp = row(sandbox, "Logical_Switch_Port", "web-0.default.attachnet.default.ovn")
    assert lsp is not None
    assert lsp["external_ids"]["provider"] == "attachnet.default.ovn"
    assert switch_ports(sandbox, "attach") == {
        "attach-ovn-cluster",
        "web-0.default.attachnet.default.ovn",
    }


async def test_ensure_again_is_unchanged(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """Re-ensuring the same port writes nothing; the row keeps its uuid."""
    await northbound.ensure_subnet(switch())
    await northbound.ensure_port(port("a", "10.16.0.5"))
    before = row(sandbox, "Logical_Switch_Port", "a.default")
    assert await northbound.ensure_port(port("a", "10.16.0.5")) is Change.UNCHANGED
    assert row(sandbox, "Logical_Switch_Port", "a.default") == before


async def test_changed_address_updates_the_same_row(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """A new IP or MAC for the same NIC rewrites addresses and port security in place."""
    await northbound.ensure_subnet(switch())
    await northbound.ensure_port(port("a", "10.16.0.5", mac="0e:00:00:00:00:05"))
    before = row(sandbox, "Logical_Switch_Port", "a.default")
    new = port("a", "10.16.0.6", mac="0e:00:00:00:00:06")
    assert await northbound.ensure_port(new) is Change.UPDATED
    lsp = row(sandbox, "Logical_Switch_Port", "a.default")
    assert lsp is not None
    assert before is not None
    assert lsp["_uuid"] == before["_uuid"]
    assert lsp["addresses"] == ["0e:00:00:00:00:06 10.16.0.6"]
    assert lsp["port_security"] == ["0e:00:00:00:00:06 10.16.0.6"]


async def test_port_moves_when_its_subnet_changes(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """A NIC re-allocated in another subnet leaves the old switch for the new one."""
    await northbound.ensure_subnet(switch())
    await northbound.ensure_subnet(switch("blue", "10.20.0.0/16", "10.20.0.1"))
    await northbound.ensure_port(port("a", "10.16.0.5"))
    assert await northbound.ensure_port(port("a", "10.20.0.5", switch="blue")) is Change.UPDATED
    assert "a.default" not in switch_ports(sandbox, "ovn-default")
    assert "a.default" in switch_ports(sandbox, "blue")
    lsp = row(sandbox, "Logical_Switch_Port", "a.default")
    assert lsp is not None
    assert lsp["external_ids"]["ls"] == "blue"


async def test_missing_switch_is_retryable(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """A port whose subnet has no switch yet raises MissingSwitchError and writes nothing."""
    with pytest.raises(MissingSwitchError):
        await northbound.ensure_port(port("a", "10.16.0.5"))
    assert row(sandbox, "Logical_Switch_Port", "a.default") is None


async def test_delete_port(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """Deleting a port removes it from its switch; deleting it again is UNCHANGED."""
    await northbound.ensure_subnet(switch())
    await northbound.ensure_port(port("a", "10.16.0.5"))
    await northbound.ensure_port(port("b", "10.16.0.6"))
    assert await northbound.delete_port("a.default") is Change.DELETED
    assert row(sandbox, "Logical_Switch_Port", "a.default") is None
    assert switch_ports(sandbox, "ovn-default") == {"b.default", "ovn-default-ovn-cluster"}
    assert await northbound.delete_port("a.default") is Change.UNCHANGED


async def test_foreign_port_is_refused(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """A port of the same name without ovnctl's vendor key is neither rewritten nor deleted."""
    await northbound.ensure_subnet(switch())
    sandbox.nbctl("lsp-add", "ovn-default", "a.default")
    await northbound.ping()
    with pytest.raises(ForeignObjectError):
        await northbound.ensure_port(port("a", "10.16.0.5"))
    with pytest.raises(ForeignObjectError):
        await northbound.delete_port("a.default")
    lsp = row(sandbox, "Logical_Switch_Port", "a.default")
    assert lsp is not None
    assert lsp["addresses"] == []


async def test_other_writers_external_ids_survive(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """external_ids keys ovnctl does not manage are kept when a port is updated."""
    await northbound.ensure_subnet(switch())
    await northbound.ensure_port(port("a", "10.16.0.5"))
    sandbox.nbctl("set", "Logical_Switch_Port", "a.default", "external_ids:team=blue")
    await northbound.ping()
    await northbound.ensure_port(port("a", "10.16.0.9"))
    lsp = row(sandbox, "Logical_Switch_Port", "a.default")
    assert lsp is not None
    assert lsp["external_ids"]["team"] == "blue"
    assert lsp["external_ids"]["vendor"] == "ovnctl"


def test_spec_rejects_two_addresses_of_one_family() -> None:
    """A PortSpec with two IPv4 addresses is refused before any NB call."""
    with pytest.raises(ValueError, match="more than one address"):
        PortSpec(
            name="a.default",
            switch="ovn-default",
            mac="0e:00:00:00:00:01",
            ips=("10.16.0.5", "10.16.0.6"),
            owner_kind=OwnerKind.POD,
            owner_namespace="default",
            owner_name="a",
        )
