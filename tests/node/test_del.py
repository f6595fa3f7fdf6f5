"""DEL: everything ADD made goes away, and DEL never fails for what is already gone."""

from __future__ import annotations

from tests.node import netns as nstools
from tests.node.conftest import Node, Subnet


def test_del_leaves_no_trace(node: Node) -> None:
    """After DEL of the subnet's only pod: no veth, no pod interface, no bridge, no state file."""
    subnet = Subnet()
    node.allocated_pod("gone", subnet, 10)
    ns = node.netns()
    host = node.add("gone", ns)["interfaces"][0]["name"]
    assert node.state_files()

    status, out = node.cni("DEL", netns=ns, pod="gone")
    assert (status, out) == (0, None)
    assert not nstools.link_exists(host)
    assert not nstools.link_exists("eth0", netns=ns)
    assert not nstools.link_exists(subnet.bridge)
    assert node.state_files() == []


def test_del_keeps_the_bridge_while_other_pods_use_it(node: Node) -> None:
    """The subnet's bridge stays, with its gateway, until its last pod is deleted."""
    subnet = Subnet()
    node.allocated_pod("a", subnet, 10)
    node.allocated_pod("b", subnet, 11)
    ns_a, ns_b = node.netns(), node.netns()
    node.add("a", ns_a)
    node.add("b", ns_b)
    assert node.cni("DEL", netns=ns_a, pod="a")[0] == 0
    assert nstools.link_exists(subnet.bridge)
    assert nstools.ping(ns_b, subnet.gateway)
    assert node.cni("DEL", netns=ns_b, pod="b")[0] == 0
    assert not nstools.link_exists(subnet.bridge)


def test_del_is_idempotent(node: Node) -> None:
    """DEL twice, and DEL of a container never added, both succeed."""
    subnet = Subnet()
    node.allocated_pod("twice", subnet, 10)
    ns = node.netns()
    node.add("twice", ns)
    assert node.cni("DEL", netns=ns, pod="twice") == (0, None)
    assert node.cni("DEL", netns=ns, pod="twice") == (0, None)
    assert node.cni("DEL", netns=ns, pod="never", container="never-added") == (0, None)


def test_del_with_the_namespace_gone_succeeds(node: Node) -> None:
    """DEL after the runtime removed the namespace (or with no CNI_NETNS) cleans the host side."""
    subnet = Subnet()
    node.allocated_pod("ns-gone", subnet, 10)
    ns = node.netns()
    host = node.add("ns-gone", ns)["interfaces"][0]["name"]
    nstools.ip("netns", "del", ns)
    assert node.cni("DEL", netns=None, pod="ns-gone") == (0, None)
    assert not nstools.link_exists(host)
    assert not nstools.link_exists(subnet.bridge)
    assert node.state_files() == []


def test_del_without_state_file_still_removes_the_veth(node: Node) -> None:
    """A lost state file does not strand the veth: its name derives from container and ifname."""
    subnet = Subnet()
    node.allocated_pod("amnesia", subnet, 10)
    ns = node.netns()
    host = node.add("amnesia", ns)["interfaces"][0]["name"]
    for path in node.state_files():
        path.unlink()
    assert node.cni("DEL", netns=ns, pod="amnesia") == (0, None)
    assert not nstools.link_exists(host)
    assert not nstools.link_exists("eth0", netns=ns)


def test_del_works_without_the_api_server(node: Node) -> None:
    """DEL needs only the state file: it succeeds after the pod is gone from the API."""
    subnet = Subnet()
    node.allocated_pod("offline", subnet, 10)
    ns = node.netns()
    node.add("offline", ns)
    node.delete_pod("offline")
    node.sim.configure(error_rate=1.0)
    try:
        assert node.cni("DEL", netns=ns, pod="offline") == (0, None)
    finally:
        node.sim.configure(error_rate=0.0)
    assert not nstools.link_exists("eth0", netns=ns)
