"""Live migration: two pods of one VM share the VM's allocation."""

from __future__ import annotations

import pytest

from ovnctl.ipam import IPAM, SharedAddressMoveError


def test_two_pods_of_one_vm_share_the_address(ipam: IPAM):
    """Source and target pods allocating for the VM owner get the same IP and MAC."""
    ipam.add_subnet("s", "10.16.0.0/24")
    source = ipam.allocate("s", "default/vm1/ovn", holder="virt-launcher-vm1-aaaaa")
    target = ipam.allocate("s", "default/vm1/ovn", holder="virt-launcher-vm1-bbbbb")
    assert (source.ips, source.mac) == (target.ips, target.mac)
    assert target.holders == {"virt-launcher-vm1-aaaaa", "virt-launcher-vm1-bbbbb"}
    assert ipam.usage("s").v4 is not None
    assert ipam.usage("s").v4.using == 1  # type: ignore[union-attr]


def test_dropping_a_holder_keeps_the_address(ipam: IPAM):
    """The source pod leaving drops a holder; the VM keeps its address (keep-vm-ip)."""
    ipam.add_subnet("s", "10.16.0.0/24")
    ipam.allocate("s", "default/vm1/ovn", holder="src")
    ipam.allocate("s", "default/vm1/ovn", holder="dst")
    (after,) = ipam.drop_holder("default/vm1/ovn", "src")
    assert after.holders == {"dst"}
    (after,) = ipam.drop_holder("default/vm1/ovn", "dst")
    assert after.holders == frozenset()
    assert ipam.get("s", "default/vm1/ovn") == after
    assert ipam.drop_holder("ghost", "x") == ()


def test_move_refused_while_another_holder_uses_the_address(ipam: IPAM):
    """A static move is refused while another pod still uses the address."""
    ipam.add_subnet("s", "10.16.0.0/24")
    ipam.allocate("s", "default/vm1/ovn", holder="src")
    with pytest.raises(SharedAddressMoveError) as info:
        ipam.allocate("s", "default/vm1/ovn", ips="10.16.0.50", holder="dst")
    assert "10.16.0.50" in str(info.value)
    assert "'s'" in str(info.value)
    assert "src" in str(info.value)
    assert ipam.get("s", "default/vm1/ovn").ips == ("10.16.0.2",)  # type: ignore[union-attr]


def test_move_allowed_for_the_only_holder(ipam: IPAM):
    """The sole holder may move the VM's address."""
    ipam.add_subnet("s", "10.16.0.0/24")
    ipam.allocate("s", "default/vm1/ovn", holder="src")
    moved = ipam.allocate("s", "default/vm1/ovn", ips="10.16.0.50", holder="src")
    assert moved.ips == ("10.16.0.50",)


def test_release_of_the_vm_releases_regardless_of_holders(ipam: IPAM):
    """Deleting the VM releases its address even if pods are still listed."""
    ipam.add_subnet("s", "10.16.0.0/24")
    ipam.allocate("s", "default/vm1/ovn", holder="src")
    assert len(ipam.release("default/vm1/ovn")) == 1
    assert ipam.lookup("default/vm1/ovn") == ()
