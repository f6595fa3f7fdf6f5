"""Planning an interface from an allocation, and naming devices (pure, no root needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ovnctl.cni import errors
from ovnctl.cni.errors import CniError
from ovnctl.cni.protocol import Request
from ovnctl.models import NicAllocation
from ovnctl.node.daemon import DaemonSettings
from ovnctl.node.naming import bridge_name, host_veth_name
from ovnctl.node.ovsdb import ChassisSettings
from ovnctl.node.state import StateStore
from ovnctl.node.wiring import LINUX_BRIDGE, OVS, Route, plan_wiring


def _request(**kw: object) -> Request:
    base: dict[str, object] = {
        "command": "ADD",
        "container_id": "abc123",
        "netns": "/var/run/netns/x",
        "ifname": "eth0",
        "pod_namespace": "default",
        "pod_name": "p",
        "provider": "ovn",
    }
    base.update(kw)
    return Request(**base)  # type: ignore[arg-type]


def _allocation(**kw: object) -> NicAllocation:
    base: dict[str, object] = {
        "provider": "ovn",
        "subnet": "ovn-default",
        "ips": ("10.16.0.5",),
        "mac": "00:00:00:aa:bb:cc",
        "cidr": "10.16.0.0/16",
        "gateway": "10.16.0.1",
        "vm_name": None,
    }
    base.update(kw)
    return NicAllocation(**base)  # type: ignore[arg-type]


def test_primary_network_plan() -> None:
    """Addresses take the subnet's prefix; the bridge holds the gateway; a default route."""
    wiring = plan_wiring(request=_request(), allocation=_allocation())
    assert wiring.addresses == ("10.16.0.5/16",)
    assert wiring.gateways == ("10.16.0.1",)
    assert wiring.bridge_addresses == ("10.16.0.1/16",)
    assert wiring.routes == (Route(dst="0.0.0.0/0", gw="10.16.0.1"),)
    assert wiring.bridge == "ob-ovn-default"
    assert wiring.mtu == 1500
    assert wiring.mac == "00:00:00:aa:bb:cc"


def test_dual_stack_plan_in_either_order() -> None:
    """Dual-stack CIDRs and gateways are matched per family, whatever their order."""
    wiring = plan_wiring(
        request=_request(),
        allocation=_allocation(
            ips=("10.16.0.5", "fd00:10:16::5"),
            cidr="fd00:10:16::/64,10.16.0.0/16",
            gateway="fd00:10:16::1,10.16.0.1",
        ),
    )
    assert wiring.addresses == ("10.16.0.5/16", "fd00:10:16::5/64")
    assert wiring.bridge_addresses == ("10.16.0.1/16", "fd00:10:16::1/64")
    assert set(wiring.routes) == {
        Route(dst="0.0.0.0/0", gw="10.16.0.1"),
        Route(dst="::/0", gw="fd00:10:16::1"),
    }


def test_attachment_has_no_default_route_unless_asked() -> None:
    """A Multus provider gets no default route; default_route: true adds it."""
    request = _request(provider="attachnet.default.ovn", ifname="net1")
    assert plan_wiring(request=request, allocation=_allocation()).routes == ()
    request = _request(provider="attachnet.default.ovn", default_route=True)
    assert plan_wiring(request=request, allocation=_allocation()).routes == (
        Route(dst="0.0.0.0/0", gw="10.16.0.1"),
    )


def test_extra_routes_default_to_the_gateway() -> None:
    """A configured route without gw goes via the family's gateway; with gw, via that."""
    request = _request(
        routes=[{"dst": "10.96.0.0/12"}, {"dst": "192.168.0.0/16", "gw": "10.16.0.254"}]
    )
    routes = plan_wiring(request=request, allocation=_allocation()).routes
    assert Route(dst="10.96.0.0/12", gw="10.16.0.1") in routes
    assert Route(dst="192.168.0.0/16", gw="10.16.0.254") in routes


def test_bad_route_is_invalid_config() -> None:
    """A route whose dst is not a CIDR is code 7 naming the entry."""
    with pytest.raises(CniError) as caught:
        plan_wiring(request=_request(routes=[{"dst": "nowhere"}]), allocation=_allocation())
    assert caught.value.code == errors.INVALID_CONFIG
    assert "nowhere" in caught.value.msg


def test_address_outside_cidr_is_invalid_allocation() -> None:
    """An allocation whose address is outside its CIDR is code 104."""
    with pytest.raises(CniError) as caught:
        plan_wiring(request=_request(), allocation=_allocation(ips=("10.17.0.5",)))
    assert caught.value.code == errors.ALLOCATION_INVALID
    assert "10.17.0.5" in caught.value.msg


def test_missing_mac_is_derived_stably() -> None:
    """Without a recorded MAC the pod gets a stable, locally administered unicast one."""
    first = plan_wiring(request=_request(), allocation=_allocation(mac=None)).mac
    again = plan_wiring(request=_request(), allocation=_allocation(mac=None)).mac
    assert first == again
    assert int(first.split(":")[0], 16) & 0b11 == 0b10


def test_mtu_from_request_wins() -> None:
    """The CNI config's mtu overrides the daemon's default."""
    assert plan_wiring(request=_request(mtu=1400), allocation=_allocation()).mtu == 1400


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=253))
def test_bridge_names_fit_the_kernel(subnet: str) -> None:
    """Every bridge name is at most 15 characters and deterministic."""
    name = bridge_name(subnet)
    assert 0 < len(name) <= 15
    assert name == bridge_name(subnet)
    assert "/" not in name
    assert " " not in name


def test_readable_and_hashed_bridge_names_never_collide() -> None:
    """Short names are readable; long ones hashed under another prefix."""
    assert bridge_name("ovn-default") == "ob-ovn-default"
    long_name = bridge_name("a-very-long-subnet-name")
    assert long_name.startswith("oh-")
    assert len(long_name) == 15


def test_veth_names_depend_on_container_and_ifname() -> None:
    """Host veth names differ per container and per interface."""
    names = {
        host_veth_name(container_id="c1", ifname="eth0"),
        host_veth_name(container_id="c1", ifname="net1"),
        host_veth_name(container_id="c2", ifname="eth0"),
    }
    assert len(names) == 3
    assert all(len(n) <= 15 for n in names)


def test_state_round_trip(tmp_path: Path) -> None:
    """A saved wiring loads back equal; a torn file reads as absent."""
    store = StateStore(directory=tmp_path)
    wiring = plan_wiring(request=_request(), allocation=_allocation())
    store.save(wiring, host_mac="aa:bb:cc:dd:ee:ff")
    assert store.load(container_id="abc123", ifname="eth0") == (wiring, "aa:bb:cc:dd:ee:ff")
    store.path(container_id="abc123", ifname="eth0").write_text("{torn")
    assert store.load(container_id="abc123", ifname="eth0") is None


def test_container_id_must_be_file_safe(tmp_path: Path) -> None:
    """A container id with a slash is rejected with code 4, never used as a path."""
    with pytest.raises(CniError) as caught:
        StateStore(directory=tmp_path).path(container_id="../etc", ifname="eth0")
    assert caught.value.code == errors.INVALID_ENV


def test_ovs_plan_binds_the_logical_switch_port_and_holds_no_gateway() -> None:
    """On OVS the port is the IP object's name, the bridge is br-int, the node holds no gateway."""
    wiring = plan_wiring(request=_request(), allocation=_allocation(), datapath=OVS)
    assert (wiring.datapath, wiring.bridge, wiring.iface_id) == (OVS, "br-int", "p.default")
    assert wiring.bridge_addresses == ()
    assert wiring.routes == (Route("0.0.0.0/0", "10.16.0.1"),)


def test_ovs_plan_names_a_vm_pods_port_after_the_vm() -> None:
    """A virt-launcher pod binds the VM's port, and an attachment its provider's port."""
    vm = plan_wiring(
        request=_request(pod_name="virt-launcher-vm1-abcde"),
        allocation=_allocation(vm_name="vm1"),
        datapath=OVS,
        integration_bridge="br-x",
    )
    assert (vm.iface_id, vm.bridge) == ("vm1.default", "br-x")
    attach = plan_wiring(
        request=_request(provider="net.default.ovn", ifname="net1"),
        allocation=_allocation(provider="net.default.ovn"),
        datapath=OVS,
    )
    assert attach.iface_id == "p.default.net.default.ovn"


def test_state_written_before_ovs_reads_as_linux_bridge(tmp_path: Path) -> None:
    """State files without the datapath fields load as the Linux bridge they describe."""
    store = StateStore(directory=tmp_path)
    wiring = plan_wiring(request=_request(), allocation=_allocation())
    store.save(wiring, host_mac="aa:bb:cc:dd:ee:ff")
    path = store.path(container_id="abc123", ifname="eth0")
    raw = json.loads(path.read_text())
    del raw["wiring"]["datapath"], raw["wiring"]["iface_id"]
    path.write_text(json.dumps(raw))
    loaded = store.load(container_id="abc123", ifname="eth0")
    assert loaded is not None
    assert loaded[0] == wiring
    assert loaded[0].datapath == LINUX_BRIDGE


def test_chassis_settings_write_only_what_is_given() -> None:
    """system-id and ovn-bridge always; remote, encap IP and datapath type only when set."""
    assert ChassisSettings(system_id="n1").external_ids() == {
        "system-id": "n1",
        "ovn-bridge": "br-int",
        "ovn-encap-type": "geneve",
    }
    full = ChassisSettings(
        system_id="n1", ovn_remote="tcp:10.0.0.2:6642", encap_ip="10.0.0.5", datapath_type="netdev"
    ).external_ids()
    assert full["ovn-remote"] == "tcp:10.0.0.2:6642"
    assert full["ovn-encap-ip"] == "10.0.0.5"
    assert full["ovn-bridge-datapath-type"] == "netdev"


def test_auto_datapath_is_ovs_only_where_its_socket_exists(tmp_path: Path) -> None:
    """--datapath auto: OVS when the unix socket exists (or a TCP remote), else the bridge."""
    missing = DaemonSettings(node_name="n", ovs_db=f"unix:{tmp_path / 'db.sock'}")
    assert missing.resolved_datapath() == LINUX_BRIDGE
    (tmp_path / "db.sock").touch()
    assert missing.resolved_datapath() == OVS
    assert DaemonSettings(node_name="n", ovs_db="tcp:127.0.0.1:6640").resolved_datapath() == OVS
    forced = DaemonSettings(node_name="n", datapath=LINUX_BRIDGE, ovs_db="tcp:127.0.0.1:6640")
    assert forced.resolved_datapath() == LINUX_BRIDGE
    assert DaemonSettings(node_name="n1").chassis().system_id == "n1"
