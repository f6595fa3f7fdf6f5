"""Automatic allocation: lowest first, idempotency, dual-stack, MACs, big pools."""

from __future__ import annotations

import pytest

from ovnctl.ipam import PoolExhaustedError, SubnetPool


def test_lowest_free_first_and_reuse_after_release():
    """Addresses come lowest first; a released address is the next one handed out."""
    pool = SubnetPool("s", "10.16.0.0/24")
    assert [pool.allocate(f"o{i}").ips[0] for i in range(3)] == [
        "10.16.0.2",
        "10.16.0.3",
        "10.16.0.4",
    ]
    pool.release("o1")
    assert pool.allocate("o9").ips == ("10.16.0.3",)


def test_idempotent_same_owner_same_result():
    """The same owner gets the same allocation back, not a second address."""
    pool = SubnetPool("s", "10.16.0.0/24")
    first = pool.allocate("ns/pod/ovn")
    assert pool.allocate("ns/pod/ovn") == first
    assert len(pool) == 1


def test_dual_stack_allocates_both_in_cidr_order():
    """Dual-stack owners get one address per family, in cidrBlock order."""
    v6_first = SubnetPool("s", "fd00::/120,10.0.0.0/24").allocate("o")
    assert v6_first.ips == ("fd00::2", "10.0.0.2")
    assert v6_first.ip_address == "fd00::2,10.0.0.2"
    assert (v6_first.v4, v6_first.v6) == ("10.0.0.2", "fd00::2")


def test_dual_stack_is_all_or_nothing():
    """When v6 is exhausted the v4 address is not left allocated."""
    pool = SubnetPool("s", "10.0.0.0/24,fd00::/126")
    pool.allocate("a")
    pool.allocate("b")  # v6 /126: ::2 and ::3, gateway ::1
    before = pool.usage()
    with pytest.raises(PoolExhaustedError) as info:
        pool.allocate("c")
    assert "'s'" in str(info.value)
    assert "fd00::/126" in str(info.value)
    assert pool.usage() == before
    assert pool.get("c") is None


def test_exhaustion_error_names_subnet_and_cidr():
    """Exhaustion raises PoolExhaustedError naming the subnet and the CIDR."""
    pool = SubnetPool("tiny", "10.0.0.0/30")
    pool.allocate("a")
    with pytest.raises(PoolExhaustedError, match=r"subnet 'tiny'.*10\.0\.0\.0/30"):
        pool.allocate("b")


def test_macs_unique_locally_administered_and_configurable():
    """Generated MACs are unique, locally administered unicast, under the prefix."""
    pool = SubnetPool("s", "10.0.0.0/22", mac_prefix="0e:00:00")
    macs = [pool.allocate(f"o{i}").mac for i in range(500)]
    assert len(set(macs)) == 500
    assert all(m.startswith("0e:00:00:") for m in macs)


def test_big_pools_are_never_materialised():
    """A v4 /8 and v6 /48 and /64 are created and allocated from as single intervals."""
    for cidr in ("10.0.0.0/8", "fd00:10::/48", "fd00:10:16::/64"):
        pool = SubnetPool("s", cidr)
        family = pool.families[0]
        assert pool.pool(family).free.interval_count == 1
        pool.allocate("o")
        assert pool.pool(family).free.interval_count == 1


def test_release_unknown_owner_is_noop():
    """Releasing an owner that holds nothing returns None and changes nothing."""
    pool = SubnetPool("s", "10.0.0.0/24")
    before = pool.usage()
    assert pool.release("ghost") is None
    assert pool.usage() == before


def test_lookup_by_ip_and_mac():
    """owner_of and owner_of_mac answer who holds an address or MAC."""
    pool = SubnetPool("s", "10.0.0.0/24")
    alloc = pool.allocate("o", mac="0e:00:00:00:00:01")
    assert pool.owner_of(alloc.ips[0]) == "o"
    assert pool.owner_of("10.0.0.99") is None
    assert pool.owner_of("junk") is None
    assert pool.owner_of_mac("0E:00:00:00:00:01") == "o"
    assert pool.owner_of_mac("junk") is None
