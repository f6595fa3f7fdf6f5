"""CHECK: passes on what ADD built, names what was changed behind its back."""

from __future__ import annotations

from ovnctl.cni import errors
from tests.node import netns as nstools
from tests.node.conftest import Node, Subnet


def _added(node: Node, pod: str, host: int) -> tuple[str, Subnet]:
    subnet = Subnet()
    node.allocated_pod(pod, subnet, host)
    ns = node.netns()
    node.add(pod, ns)
    return ns, subnet


def test_check_passes_after_add(node: Node) -> None:
    """CHECK right after ADD succeeds and prints nothing."""
    ns, _ = _added(node, "fine", 10)
    assert node.cni("CHECK", netns=ns, pod="fine") == (0, None)


def test_check_detects_a_removed_address(node: Node) -> None:
    """Removing the pod's address makes CHECK fail with code 103 naming the address."""
    ns, subnet = _added(node, "tampered", 11)
    nstools.ip("addr", "del", f"{subnet.ip(11)}/24", "dev", "eth0", netns=ns)
    status, out = node.cni("CHECK", netns=ns, pod="tampered")
    assert status == 1
    assert out["code"] == errors.CHECK_FAILED
    assert f"address {subnet.ip(11)}/24 is missing" in out["msg"]


def test_check_detects_a_changed_mac_and_a_missing_route(node: Node) -> None:
    """A changed MAC and a deleted default route are both reported."""
    ns, subnet = _added(node, "rewired", 12)
    nstools.ip("link", "set", "dev", "eth0", "address", "0a:00:00:00:00:99", netns=ns)
    nstools.ip("route", "del", "default", netns=ns)
    status, out = node.cni("CHECK", netns=ns, pod="rewired")
    assert status == 1
    assert "MAC is 0a:00:00:00:00:99" in out["msg"]
    assert f"route 0.0.0.0/0 via {subnet.gateway} is missing" in out["msg"]


def test_check_detects_a_missing_interface(node: Node) -> None:
    """Deleting the pod's interface makes CHECK report it missing."""
    ns, _ = _added(node, "unplugged", 13)
    nstools.ip("link", "del", "eth0", netns=ns)
    status, out = node.cni("CHECK", netns=ns, pod="unplugged")
    assert status == 1
    assert "interface eth0 is missing" in out["msg"]


def test_check_without_add_fails(node: Node) -> None:
    """CHECK of a container the agent never added is an error, not a silent pass."""
    ns = node.netns()
    status, out = node.cni("CHECK", netns=ns, pod="nobody", container="never-added")
    assert status == 1
    assert out["code"] == errors.CHECK_FAILED
    assert "no ADD recorded" in out["msg"]
