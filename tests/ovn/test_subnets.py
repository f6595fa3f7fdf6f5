"""Subnets as logical switches: create, update, delete, linked to the cluster router."""

from __future__ import annotations

import pytest

from ovnctl.ovn import Change, ForeignObjectError, OvnNorthbound
from ovnctl.ovn.sandbox import NbSandbox
from tests.ovn.conftest import row, switch, switch_ports


async def test_create_writes_switch_with_other_config(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """A new subnet becomes a switch named after it, with subnet, gateway and exclude_ips."""
    spec = switch(exclude=("10.16.0.2..10.16.0.10", "10.16.0.20"))
    assert await northbound.ensure_subnet(spec) is Change.CREATED
    ls = row(sandbox, "Logical_Switch", "ovn-default")
    assert ls is not None
    assert ls["other_config"] == {
        "subnet": "10.16.0.0/16",
        "gateway": "10.16.0.1",
        "exclude_ips": "10.16.0.2..10.16.0.10 10.16.0.20",
    }
    assert ls["external_ids"] == {"vendor": "ovnctl"}


async def test_create_links_switch_to_cluster_router(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """Router ovn-cluster (created, owned) gets port ovn-cluster-<subnet>, peered by the switch."""
    await northbound.ensure_subnet(switch())
    router = row(sandbox, "Logical_Router", "ovn-cluster")
    assert router is not None
    assert router["external_ids"] == {"vendor": "ovnctl"}
    lrp = row(sandbox, "Logical_Router_Port", "ovn-cluster-ovn-default")
    assert lrp is not None
    assert lrp["networks"] == ["10.16.0.1/16"]
    assert lrp["mac"] == switch().router_mac
    assert router["ports"] == [lrp["_uuid"]]
    peer = row(sandbox, "Logical_Switch_Port", "ovn-default-ovn-cluster")
    assert peer is not None
    assert peer["type"] == "router"
    assert peer["addresses"] == ["router"]
    assert peer["options"] == {"router-port": "ovn-cluster-ovn-default"}
    assert switch_ports(sandbox, "ovn-default") == {"ovn-default-ovn-cluster"}


async def test_dual_stack_router_port_holds_both_gateways(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """A dual-stack subnet's router port carries both gateways with their prefix lengths."""
    spec = switch(cidr="fd00:10:16::/64,10.16.0.0/16", gateway="fd00:10:16::1,10.16.0.1")
    await northbound.ensure_subnet(spec)
    lrp = row(sandbox, "Logical_Router_Port", "ovn-cluster-ovn-default")
    assert lrp is not None
    assert sorted(lrp["networks"]) == ["10.16.0.1/16", "fd00:10:16::1/64"]
    ls = row(sandbox, "Logical_Switch", "ovn-default")
    assert ls is not None
    assert ls["other_config"]["subnet"] == "fd00:10:16::/64,10.16.0.0/16"


async def test_ensure_again_is_unchanged(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """Re-ensuring an unchanged subnet writes nothing and keeps the same rows."""
    await northbound.ensure_subnet(switch())
    before = row(sandbox, "Logical_Switch", "ovn-default")
    assert await northbound.ensure_subnet(switch()) is Change.UNCHANGED
    assert row(sandbox, "Logical_Switch", "ovn-default") == before


async def test_update_exclude_ips(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """Changing excludeIps rewrites exclude_ips; emptying it removes the key."""
    await northbound.ensure_subnet(switch(exclude=("10.16.0.2..10.16.0.10",)))
    spec = switch(exclude=("10.16.0.2..10.16.0.30", "10.16.1.1"))
    assert await northbound.ensure_subnet(spec) is Change.UPDATED
    ls = row(sandbox, "Logical_Switch", "ovn-default")
    assert ls is not None
    assert ls["other_config"]["exclude_ips"] == "10.16.0.2..10.16.0.30 10.16.1.1"
    assert await northbound.ensure_subnet(switch()) is Change.UPDATED
    ls = row(sandbox, "Logical_Switch", "ovn-default")
    assert ls is not None
    assert "exclude_ips" not in ls["other_config"]


async def test_update_gateway_moves_router_address(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """Changing the gateway updates other_config and the router port's network, same row."""
    await northbound.ensure_subnet(switch())
    before = row(sandbox, "Logical_Router_Port", "ovn-cluster-ovn-default")
    assert await northbound.ensure_subnet(switch(gateway="10.16.255.254")) is Change.UPDATED
    lrp = row(sandbox, "Logical_Router_Port", "ovn-cluster-ovn-default")
    assert lrp is not None
    assert before is not None
    assert lrp["networks"] == ["10.16.255.254/16"]
    assert lrp["_uuid"] == before["_uuid"]
    ls = row(sandbox, "Logical_Switch", "ovn-default")
    assert ls is not None
    assert ls["other_config"]["gateway"] == "10.16.255.254"


async def test_update_keeps_other_writers_keys(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """other_config keys ovnctl does not manage survive an update."""
    await northbound.ensure_subnet(switch())
    sandbox.nbctl("set", "Logical_Switch", "ovn-default", "other_config:mcast_snoop=true")
    await northbound.ping()
    await northbound.ensure_subnet(switch(gateway="10.16.0.254"))
    ls = row(sandbox, "Logical_Switch", "ovn-default")
    assert ls is not None
    assert ls["other_config"]["mcast_snoop"] == "true"
    assert ls["other_config"]["gateway"] == "10.16.0.254"


async def test_delete_removes_switch_ports_and_router_port(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """Deleting a subnet removes its switch, the switch's ports and its router port."""
    await northbound.ensure_subnet(switch())
    await northbound.ensure_subnet(switch("other", "10.17.0.0/16", "10.17.0.1"))
    assert await northbound.delete_subnet("ovn-default") is Change.DELETED
    assert row(sandbox, "Logical_Switch", "ovn-default") is None
    assert row(sandbox, "Logical_Router_Port", "ovn-cluster-ovn-default") is None
    assert row(sandbox, "Logical_Switch_Port", "ovn-default-ovn-cluster") is None
    assert row(sandbox, "Logical_Switch", "other") is not None
    assert row(sandbox, "Logical_Router_Port", "ovn-cluster-other") is not None
    assert await northbound.delete_subnet("ovn-default") is Change.UNCHANGED


async def test_foreign_switch_is_refused(northbound: OvnNorthbound, sandbox: NbSandbox) -> None:
    """A switch of the same name without ovnctl's vendor key is neither adopted nor deleted."""
    sandbox.nbctl(
        "ls-add",
        "ovn-default",
        "--",
        "set",
        "Logical_Switch",
        "ovn-default",
        "external_ids:vendor=kube-ovn",
    )
    await northbound.ping()
    with pytest.raises(ForeignObjectError):
        await northbound.ensure_subnet(switch())
    with pytest.raises(ForeignObjectError):
        await northbound.delete_subnet("ovn-default")
    ls = row(sandbox, "Logical_Switch", "ovn-default")
    assert ls is not None
    assert ls["other_config"] == {}
    assert row(sandbox, "Logical_Router_Port", "ovn-cluster-ovn-default") is None


async def test_existing_foreign_router_is_used_not_claimed(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """An ovn-cluster router made by someone else is connected to, and its external_ids kept."""
    sandbox.nbctl(
        "lr-add",
        "ovn-cluster",
        "--",
        "set",
        "Logical_Router",
        "ovn-cluster",
        "external_ids:vendor=kube-ovn",
    )
    await northbound.ping()
    await northbound.ensure_subnet(switch())
    routers = [r for r in [row(sandbox, "Logical_Router", "ovn-cluster")] if r]
    assert len(routers) == 1
    assert routers[0]["external_ids"] == {"vendor": "kube-ovn"}
    assert len(routers[0]["ports"]) == 1
