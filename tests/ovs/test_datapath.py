"""The agent's OVS datapath: ports on br-int claimed by ovn-controller, DEL, CHECK, node set-up."""

from __future__ import annotations

from ovnctl.cni.errors import CHECK_FAILED, TRY_AGAIN_LATER
from ovnctl.node.naming import host_veth_name
from tests.node import netns as nstools
from tests.node.conftest import Subnet
from tests.ovs.conftest import OvsNode

VM_OWNER = {
    "apiVersion": "kubevirt.io/v1",
    "kind": "VirtualMachineInstance",
    "name": "vm1",
    "uid": "3c1f0d2e-0000-4000-8000-000000000001",
}


def test_agent_configures_the_chassis(ovs_node: OvsNode) -> None:
    """At start the agent wrote system-id, ovn-remote, encap and datapath type, and the bridge."""
    (row,) = ovs_node.stack.vsctl_json("Open_vSwitch")
    ids = dict(row["external_ids"][1])
    assert ids["system-id"] == ovs_node.stack.chassis
    assert ids["ovn-remote"] == ovs_node.stack.sb
    assert ids["ovn-encap-type"] == "geneve"
    assert ids["ovn-encap-ip"] == "127.0.0.1"
    assert ids["ovn-bridge"] == ovs_node.stack.bridge
    assert ids["ovn-bridge-datapath-type"] == "netdev"
    bridge = next(
        b for b in ovs_node.stack.vsctl_json("Bridge") if b["name"] == ovs_node.stack.bridge
    )
    assert (bridge["fail_mode"], bridge["datapath_type"]) == ("secure", "netdev")


def test_pod_and_vm_pod_are_claimed_and_ping_each_other(ovs_node: OvsNode) -> None:
    """ADD returns with the port ovn-installed and tagged; a pod and a VM pod ping through OVN."""
    subnet = Subnet()
    ovs_node.lsp(subnet, "web-1", 10)
    vm_port = ovs_node.lsp(subnet, "virt-launcher-vm1-abcde", 12, owner="vm1")
    ovs_node.allocated_pod("web-1", subnet, 10)
    ovs_node.allocated_pod(
        "virt-launcher-vm1-abcde", subnet, 12, vm_name="vm1", owner=VM_OWNER,
        labels={"vm.kubevirt.io/name": "vm1"},
    )  # fmt: skip
    web, vm = ovs_node.netns(), ovs_node.netns()
    result = ovs_node.add("web-1", web)
    ovs_node.add("virt-launcher-vm1-abcde", vm)

    assert result["routes"] == [{"dst": "0.0.0.0/0", "gw": subnet.gateway}]
    assert ("default", subnet.gateway) in nstools.routes(web)
    iface = ovs_node.interface("c-web-1-eth0")
    assert iface is not None
    assert iface["external_ids"] == {
        "iface-id": "web-1.default",
        "pod_name": "web-1",
        "pod_namespace": "default",
        "ip": subnet.ip(10),
        "vendor": "ovnctl",
        "ovn-installed": "true",
        "ovn-installed-ts": iface["external_ids"]["ovn-installed-ts"],
    }
    vm_iface = ovs_node.interface("c-virt-launcher-vm1-abcde-eth0")
    assert vm_iface is not None
    assert vm_iface["external_ids"]["iface-id"] == vm_port == "vm1.default"
    # No Linux bridge and no gateway address on the node: the gateway is OVN's.
    assert not nstools.link_exists(subnet.bridge)

    assert nstools.ping(web, subnet.ip(12)), "pod cannot reach the VM pod through OVN"
    assert nstools.ping(vm, subnet.ip(10)), "VM pod cannot reach the pod through OVN"


def test_add_times_out_clearly_when_no_logical_port_exists(ovs_node: OvsNode) -> None:
    """Without an NB port ovn-controller never installs it: code 11 naming it, nothing left."""
    subnet = Subnet()
    ovs_node.allocated_pod("orphan", subnet, 20)
    ns = ovs_node.netns()
    status, out = ovs_node.cni("ADD", netns=ns, pod="orphan")
    assert status == 1
    assert out["code"] == TRY_AGAIN_LATER
    assert "'orphan.default'" in out["msg"]
    assert "ovn-installed within 3 s" in out["msg"]
    assert ovs_node.interface("c-orphan-eth0") is None
    assert not nstools.link_exists(host_veth_name(container_id="c-orphan-eth0", ifname="eth0"))
    assert not nstools.link_exists("eth0", netns=ns)
    assert ovs_node.state_files() == []


def test_del_removes_port_and_veth_and_is_idempotent(ovs_node: OvsNode) -> None:
    """DEL leaves no OVS port and no veth; a second DEL, and one without state, succeed."""
    subnet = Subnet()
    ovs_node.lsp(subnet, "gone", 30)
    ovs_node.allocated_pod("gone", subnet, 30)
    ns = ovs_node.netns()
    ovs_node.add("gone", ns)
    host = host_veth_name(container_id="c-gone-eth0", ifname="eth0")
    assert nstools.link_exists(host)
    for _ in range(2):
        status, out = ovs_node.cni("DEL", netns=ns, pod="gone")
        assert (status, out) == (0, None)
        assert ovs_node.interface("c-gone-eth0") is None
        assert not nstools.link_exists(host)
        assert not nstools.link_exists("eth0", netns=ns)
    assert ovs_node.state_files() == []


def test_del_without_state_file_still_removes_the_port(ovs_node: OvsNode) -> None:
    """A lost state file does not strand the OVS port: names are deterministic."""
    subnet = Subnet()
    ovs_node.lsp(subnet, "lost", 31)
    ovs_node.allocated_pod("lost", subnet, 31)
    ns = ovs_node.netns()
    ovs_node.add("lost", ns)
    for path in ovs_node.state_files():
        path.unlink()
    status, _ = ovs_node.cni("DEL", netns="", pod="lost", container="c-lost-eth0")
    assert status == 0
    assert ovs_node.interface("c-lost-eth0") is None


def test_check_verifies_the_ovs_port(ovs_node: OvsNode) -> None:
    """CHECK passes after ADD and lists a hand-removed OVS port."""
    subnet = Subnet()
    ovs_node.lsp(subnet, "checked", 40)
    ovs_node.allocated_pod("checked", subnet, 40)
    ns = ovs_node.netns()
    ovs_node.add("checked", ns)
    assert ovs_node.cni("CHECK", netns=ns, pod="checked") == (0, None)
    port = host_veth_name(container_id="c-checked-eth0", ifname="eth0")
    ovs_node.stack._run("ovs-vsctl", f"--db={ovs_node.stack.ovs}", "del-port", port)
    status, out = ovs_node.cni("CHECK", netns=ns, pod="checked")
    assert status == 1
    assert out["code"] == CHECK_FAILED
    assert f"OVS port {port} is missing" in out["msg"]
