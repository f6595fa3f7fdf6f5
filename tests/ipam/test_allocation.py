"""Automatic allocation: lowest first, idempotency, dual-stack, MACs, big pools."""

from __future__ import annotations

import dataclasses
import ipaddress

import pytest

from ovnctl.ipam import PoolExhaustedError, SubnetPool
from ovnctl.ipam.results import Allocation


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


@pytest.mark.parametrize("cidr", ["10.0.0.0/30", "fd00::/126"])
def test_single_stack_exhaustion_changes_nothing(cidr):
    """A refused automatic allocation in a full single-stack subnet leaves no trace."""
    pool = SubnetPool("s", cidr)
    pool.allocate("a")
    if ":" in cidr:
        pool.allocate("b")  # ::2 and ::3; the gateway is ::1
    before = (pool.usage(), len(pool), list(pool.allocations()))
    with pytest.raises(PoolExhaustedError):
        pool.allocate("c")
    assert (pool.usage(), len(pool), list(pool.allocations())) == before
    assert pool.get("c") is None


def test_automatic_addresses_are_formatted_across_octet_boundaries():
    """Sequential IPv4 texts stay right where the third octet rolls over (cached prefix)."""
    pool = SubnetPool("s", "10.0.254.0/23", exclude_ips=["10.0.254.10..10.0.254.200"])
    texts = [pool.allocate(f"o{i}").ips[0] for i in range(300)]
    low, high = ipaddress.IPv4Address("10.0.254.10"), ipaddress.IPv4Address("10.0.254.200")
    usable = [
        str(a) for a in ipaddress.IPv4Network("10.0.254.0/23").hosts() if not low <= a <= high
    ][1:]  # the gateway 10.0.254.1 is never handed out
    assert texts == usable[:300]


@pytest.mark.parametrize("cidr", ["10.0.0.0/24", "fd00::/120", "10.0.0.0/24,fd00::/120"])
def test_fast_path_builds_plain_allocations(cidr: str):
    """allocate_auto's result is a frozen Allocation equal to one built by the constructor."""
    fast = SubnetPool("s", cidr).allocate_auto("ns/p/ovn", "p")
    slow = Allocation("s", "ns/p/ovn", fast.ips, fast.mac, frozenset({"p"}))
    assert type(fast) is Allocation
    assert fast == slow
    assert hash(fast) == hash(slow)
    assert dataclasses.replace(fast, owner="x").owner == "x"
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.owner = "x"  # type: ignore[misc]
