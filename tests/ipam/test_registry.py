"""The IPAM registry: subnets by name, owners across subnets."""

from __future__ import annotations

import pytest

from ovnctl.ipam import IPAM, DuplicateSubnetError, IPAMError, UnknownSubnetError


def test_add_duplicate_and_unknown_subnet(ipam: IPAM):
    """Adding a name twice and using an unknown name raise errors naming the subnet."""
    ipam.add_subnet("s", "10.0.0.0/24")
    with pytest.raises(DuplicateSubnetError, match="'s'"):
        ipam.add_subnet("s", "10.1.0.0/24")
    with pytest.raises(UnknownSubnetError, match="'nope'") as info:
        ipam.allocate("nope", "o")
    assert isinstance(info.value, IPAMError)
    assert str(info.value) == "subnet 'nope' is not registered"
    with pytest.raises(UnknownSubnetError, match="'nope'"):
        ipam.usage("nope")


def test_owner_in_several_subnets(ipam: IPAM):
    """lookup lists what an owner holds everywhere; release frees all of it."""
    ipam.add_subnet("a", "10.0.0.0/24")
    ipam.add_subnet("b", "10.1.0.0/24")
    ipam.allocate("b", "o")
    ipam.allocate("a", "o")
    assert [x.subnet for x in ipam.lookup("o")] == ["a", "b"]
    assert [x.subnet for x in ipam.release("o", subnet="a")] == ["a"]
    assert [x.subnet for x in ipam.lookup("o")] == ["b"]
    assert [x.subnet for x in ipam.release("o")] == ["b"]
    assert ipam.lookup("o") == ()
    assert ipam.release("o") == ()
    assert list(ipam.owners()) == []


def test_release_in_subnet_not_held_is_noop(ipam: IPAM):
    """Releasing an owner in a subnet where it holds nothing returns nothing."""
    ipam.add_subnet("a", "10.0.0.0/24")
    ipam.allocate("a", "o")
    assert ipam.release("o", subnet="zzz") == ()
    assert len(ipam.lookup("o")) == 1


def test_apply_subnet_adds_then_updates(ipam: IPAM):
    """apply_subnet adds a new subnet, then updates it to exactly the given spec."""
    first = ipam.apply_subnet("s", "10.0.0.0/24", exclude_ips=["10.9.0.1"])
    assert len(first.warnings) == 1
    ipam.allocate("s", "o")
    report = ipam.apply_subnet("s", "10.0.0.0/24", exclude_ips=["10.0.0.2"])
    assert [c.owner for c in report.conflicts] == ["o"]
    assert "s" in ipam
    assert list(ipam) == ["s"]
    assert len(ipam) == 1


def test_remove_subnet_returns_allocations_and_unindexes(ipam: IPAM):
    """Removing a subnet returns its allocations and forgets their owners there."""
    ipam.add_subnet("s", "10.0.0.0/24")
    ipam.allocate("s", "o")
    assert [a.owner for a in ipam.remove_subnet("s")] == ["o"]
    assert ipam.lookup("o") == ()
    assert ipam.remove_subnet("s") == ()


def test_mac_prefix_validated_at_construction():
    """A bad MAC prefix is refused when the registry is built."""
    with pytest.raises(ValueError, match="prefix"):
        IPAM(mac_prefix="01")


def test_seed_makes_macs_repeatable():
    """Two registries with one seed generate the same MACs."""
    macs = []
    for _ in range(2):
        ipam = IPAM(seed=3)
        ipam.add_subnet("s", "10.0.0.0/24")
        macs.append(ipam.allocate("s", "o").mac)
    assert macs[0] == macs[1]


def test_has_room_needs_a_free_address_in_every_family(ipam: IPAM):
    """has_room: unknown subnets have none; a dual-stack one needs both families free."""
    assert not ipam.has_room("nope")
    ipam.add_subnet("dual", "10.0.0.0/30,fd00::/126")
    assert ipam.has_room("dual")
    ipam.allocate("dual", "o1")  # 10.0.0.2 is the only v4 address left after the gateway
    assert not ipam.has_room("dual")
    ipam.release("o1")
    assert ipam.has_room("dual")
