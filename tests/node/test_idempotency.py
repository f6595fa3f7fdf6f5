"""Repeated ADD and DEL converge on one interface (or none), and a broken ADD is redone."""

from __future__ import annotations

from tests.node import netns as nstools
from tests.node.conftest import Node, Subnet


def test_repeated_add_returns_the_same_result(node: Node) -> None:
    """ADD twice for one container and interface: same result, one veth, one state file."""
    subnet = Subnet()
    node.allocated_pod("again", subnet, 10)
    ns = node.netns()
    first = node.add("again", ns)
    second = node.add("again", ns)
    assert first == second
    assert len(node.state_files()) == 1
    assert nstools.addresses(ns, "eth0") == {f"{subnet.ip(10)}/24"}
    veths = [
        link["ifname"]
        for link in nstools.ip_json("link", "show", "master", subnet.bridge)
        if link["ifname"].startswith("ov")
    ]
    assert veths == [first["interfaces"][0]["name"]]


def test_add_repairs_a_damaged_interface(node: Node) -> None:
    """An ADD repeated after the address was removed rebuilds the interface."""
    subnet = Subnet()
    node.allocated_pod("repair", subnet, 11)
    ns = node.netns()
    node.add("repair", ns)
    nstools.ip("addr", "flush", "dev", "eth0", netns=ns)
    node.add("repair", ns)
    assert nstools.addresses(ns, "eth0") == {f"{subnet.ip(11)}/24"}
    assert node.cni("CHECK", netns=ns, pod="repair") == (0, None)


def test_add_del_add_cycles(node: Node) -> None:
    """ADD, DEL, ADD, DEL, DEL leaves a working pod in between and nothing at the end."""
    subnet = Subnet()
    node.allocated_pod("cycle", subnet, 12)
    ns = node.netns()
    for _ in range(2):
        node.add("cycle", ns)
        assert nstools.ping(ns, subnet.gateway)
        assert node.cni("DEL", netns=ns, pod="cycle") == (0, None)
    assert node.cni("DEL", netns=ns, pod="cycle") == (0, None)
    assert not nstools.link_exists("eth0", netns=ns)
    assert not nstools.link_exists(subnet.bridge)
