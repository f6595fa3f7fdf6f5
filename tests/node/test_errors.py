"""Bad input: the spec's error codes, messages naming the value, and nothing left behind."""

from __future__ import annotations

import threading

from ovnctl.cni import errors
from ovnctl.node.naming import host_veth_name
from tests.node import netns as nstools
from tests.node.conftest import Node, Subnet


def _no_leftovers(node: Node, container: str, subnet: Subnet | None = None) -> None:
    assert not nstools.link_exists(host_veth_name(container_id=container, ifname="eth0"))
    if subnet is not None:
        assert not nstools.link_exists(subnet.bridge)
    assert node.state_files() == []


def test_missing_network_namespace(node: Node) -> None:
    """ADD into a namespace that does not exist: code 3, naming the path."""
    subnet = Subnet()
    node.allocated_pod("no-ns", subnet, 10)
    status, out = node.cni("ADD", netns="ovt-does-not-exist", pod="no-ns", container="c1")
    assert status == 1
    assert out["code"] == errors.CONTAINER_UNKNOWN
    assert "/var/run/netns/ovt-does-not-exist does not exist" in out["msg"]
    _no_leftovers(node, "c1", subnet)


def test_unknown_pod(node: Node) -> None:
    """ADD for a pod the API server does not have: code 101 naming the pod."""
    ns = node.netns()
    status, out = node.cni("ADD", netns=ns, pod="ghost", container="c2")
    assert status == 1
    assert out["code"] == errors.POD_UNKNOWN
    assert "default/ghost" in out["msg"]
    _no_leftovers(node, "c2")


def test_pod_of_another_node_is_unknown_here(node: Node) -> None:
    """A pod scheduled to another node is not in this agent's watch: code 101."""
    subnet = Subnet()
    node.allocated_pod("elsewhere", subnet, 10, node="node-b")
    ns = node.netns()
    status, out = node.cni("ADD", netns=ns, pod="elsewhere", container="c3")
    assert (status, out["code"]) == (1, errors.POD_UNKNOWN)
    assert ("default", "elsewhere") not in node.daemon.allocations
    _no_leftovers(node, "c3", subnet)


def test_allocation_timeout(node: Node) -> None:
    """A pod the controller never allocates: code 11 (try again later) naming the provider."""
    node.create_pod("pending")
    ns = node.netns()
    status, out = node.cni("ADD", netns=ns, pod="pending", container="c4")
    assert status == 1
    assert out["code"] == errors.TRY_AGAIN_LATER
    assert "no allocation for provider 'ovn'" in out["msg"]
    assert "ovn.kubernetes.io/allocated" in out["msg"]
    _no_leftovers(node, "c4")


def test_pod_deleted_while_waiting(node: Node) -> None:
    """A pod deleted during the wait ends the wait at once with code 101."""
    node.create_pod("doomed")
    ns = node.netns()
    timer = threading.Timer(0.2, node.delete_pod, args=("doomed",))
    timer.start()
    try:
        status, out = node.cni("ADD", netns=ns, pod="doomed", container="c5")
    finally:
        timer.cancel()
    assert (status, out["code"]) == (1, errors.POD_UNKNOWN)
    assert "was deleted" in out["msg"]


def test_interface_name_clash(node: Node) -> None:
    """An interface already named eth0 in the pod: code 102, it is left alone, nothing added."""
    subnet = Subnet()
    node.allocated_pod("clash", subnet, 10)
    ns = node.netns()
    nstools.ip("link", "add", "eth0", "type", "veth", "peer", "name", "eth0peer", netns=ns)
    status, out = node.cni("ADD", netns=ns, pod="clash", container="c6")
    assert status == 1
    assert out["code"] == errors.IFNAME_CLASH
    assert "'eth0' already exists" in out["msg"]
    assert nstools.ip_json("link", "show", "dev", "eth0", netns=ns)[0]["link_type"] == "ether"
    assert nstools.addresses(ns, "eth0") == set()
    _no_leftovers(node, "c6", subnet)


def test_malformed_allocation(node: Node) -> None:
    """Annotations whose address lies outside the recorded CIDR: code 104, nothing built."""
    subnet = Subnet()
    node.allocated_pod("skewed", subnet, 10)
    node.annotate("skewed", {"ovn.kubernetes.io/ip_address": "192.168.77.5"})
    ns = node.netns()
    status, out = node.cni("ADD", netns=ns, pod="skewed", container="c7")
    assert status == 1
    assert out["code"] == errors.ALLOCATION_INVALID
    assert "192.168.77.5 is not inside cidr" in out["msg"]
    _no_leftovers(node, "c7", subnet)


def test_unparsable_allocation(node: Node) -> None:
    """An allocated pod whose ip_address is not an address: code 104 naming the key."""
    subnet = Subnet()
    node.allocated_pod("garbled", subnet, 10)
    node.annotate("garbled", {"ovn.kubernetes.io/ip_address": "not-an-ip"})
    ns = node.netns()
    status, out = node.cni("ADD", netns=ns, pod="garbled", container="c8")
    assert (status, out["code"]) == (1, errors.ALLOCATION_INVALID)
    assert "ovn.kubernetes.io/ip_address" in out["msg"]
    assert "not-an-ip" in out["msg"]


def test_daemon_without_an_ovs_database_fails_clearly(tmp_path) -> None:
    """--datapath ovs with no ovsdb-server: exit 1 with a message naming the socket, no trace."""
    import subprocess
    import sys

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: k, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\nusers: [{name: u, user: {}}]\n"
    )
    missing = tmp_path / "db.sock"
    done = subprocess.run(
        [sys.executable, "-m", "ovnctl", "daemon", "--node-name", "n1",
         "--kubeconfig", str(kubeconfig), "--socket", str(tmp_path / "d.sock"),
         "--datapath", "ovs", "--ovs-db", f"unix:{missing}"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert f"unix:{missing}" in done.stderr
    assert "--datapath linux-bridge" in done.stderr
    assert "Traceback" not in done.stderr
