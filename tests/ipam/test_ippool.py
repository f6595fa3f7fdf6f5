"""IP pools inside a subnet: parsing, checks, limited allocation and usage, all as ranges."""

from __future__ import annotations

import pytest

from ovnctl.ipam import (
    AddressLimit,
    Family,
    PoolEntryError,
    PoolExhaustedError,
    SubnetPool,
    check_overlaps,
    check_pool,
    limit_of,
    overlap,
    parse_ip_list,
    parse_pool_ips,
    pool_usage,
    without,
)
from ovnctl.ipam.ranges import IntervalSet


def test_entries_parse_as_ips_ranges_and_cidrs_per_family() -> None:
    """Single IPs, a..b ranges and CIDRs of both families become merged intervals."""
    ranges = parse_pool_ips(["10.0.0.5", "10.0.0.6..10.0.0.9", "10.0.1.0/30", "fd00::1"])
    assert ranges[Family.V4].interval_count == 2
    assert ranges[Family.V4].size == 5 + 4
    assert ranges[Family.V6].size == 1


def test_a_slash_16_pool_is_one_interval() -> None:
    """A pool of a /16 is never materialised address by address."""
    ranges = parse_pool_ips(["10.16.0.0/16"])
    assert ranges[Family.V4].interval_count == 1
    assert ranges[Family.V4].size == 65536


@pytest.mark.parametrize("entry", ["nope", "10.0.0.9..10.0.0.1", "10.0.0.1..fd00::1", "1..2..3"])
def test_bad_entries_name_the_entry(entry: str) -> None:
    """Malformed entries raise naming the value written."""
    with pytest.raises(PoolEntryError) as info:
        parse_pool_ips([entry])
    assert entry in str(info.value)


def test_ip_lists_and_dual_stack_pairs() -> None:
    """A comma list is single entries; ';' separates dual-stack pairs."""
    assert parse_ip_list("10.0.0.1, 10.0.0.2") == [("10.0.0.1",), ("10.0.0.2",)]
    assert parse_ip_list("10.0.0.1,fd00::1;10.0.0.2,fd00::2") == [
        ("10.0.0.1", "fd00::1"),
        ("10.0.0.2", "fd00::2"),
    ]
    with pytest.raises(PoolEntryError):
        parse_ip_list("10.0.0.1,10.0.0.2;10.0.0.3")


def test_checks_find_entries_outside_and_excluded() -> None:
    """Entries outside the CIDR and inside excludeIps are reported per entry, with the ranges."""
    subnet = SubnetPool("s", "10.0.0.0/24", exclude_ips=["10.0.0.10..10.0.0.12"])
    problems = check_pool(["10.0.0.8..10.0.0.11", "10.0.1.1", "fd00::1"], subnet)
    assert [(p.reason, p.message) for p in problems] == [
        (
            "IPInExcludeIps",
            "spec.ips[0]: 10.0.0.8..10.0.0.11 has 10.0.0.10-10.0.0.11 inside the excludeIps "
            "of subnet 's'",
        ),
        ("IPOutsideSubnet", "spec.ips[1]: 10.0.1.1 is outside subnet 's' (10.0.0.0/24)"),
        ("IPOutsideSubnet", "spec.ips[2]: fd00::1 is IPv6 but subnet 's' is 10.0.0.0/24"),
    ]
    assert check_pool(["10.0.0.20..10.0.0.30"], subnet) == []


def test_a_single_excluded_ip_is_named_as_written() -> None:
    """A single IP inside excludeIps is named by its index and value."""
    subnet = SubnetPool("s", "10.16.0.0/16", exclude_ips=["10.16.0.1..10.16.0.10"])
    (problem,) = check_pool(["10.16.1.0/30", "10.16.2.1", "10.16.0.5"], subnet)
    assert problem.message == "spec.ips[2]: 10.16.0.5 is inside the excludeIps of subnet 's'"


def test_overlaps_are_reported_per_entry_against_the_first_rival() -> None:
    """Each entry sharing addresses names the shared range and the rival pool."""
    rivals = [("a", parse_pool_ips(["10.0.0.0/28"])), ("b", parse_pool_ips(["10.0.0.40"]))]
    problems = check_overlaps(["10.0.0.10..10.0.0.20", "10.0.0.30", "10.0.0.40"], rivals)
    assert [p.message for p in problems] == [
        "spec.ips[0]: 10.0.0.10..10.0.0.20 has 10.0.0.10-10.0.0.15 also in IPPool 'a'",
        "spec.ips[2]: 10.0.0.40 is also in IPPool 'b'",
    ]
    assert {p.reason for p in problems} == {"OverlappingPools"}


def test_without_removes_addresses_per_family() -> None:
    """``without`` keeps what the first set has and the second lacks."""
    a = parse_pool_ips(["10.0.0.0/28", "fd00::1"])
    left = without(a, parse_pool_ips(["10.0.0.4..10.0.0.15"]))
    assert overlap(left, a) == "10.0.0.0-10.0.0.3,fd00::1"


def test_overlap_names_the_shared_range() -> None:
    """Two pools sharing addresses report exactly the shared range."""
    a = parse_pool_ips(["10.0.0.0/28"])
    b = parse_pool_ips(["10.0.0.10..10.0.0.20"])
    assert overlap(a, b) == "10.0.0.10-10.0.0.15"
    assert overlap(a, parse_pool_ips(["10.0.0.16"])) == ""


def test_allocation_stays_inside_the_limit_and_reports_exhaustion() -> None:
    """Automatic addresses come only from the pool; a full pool names the pool."""
    subnet = SubnetPool("s", "10.0.0.0/24")
    limit = AddressLimit("IP pool 'p'", parse_pool_ips(["10.0.0.100..10.0.0.101"]))
    first = subnet.allocate("a", within=limit)
    second = subnet.allocate("b", within=limit)
    assert (first.ips, second.ips) == (("10.0.0.100",), ("10.0.0.101",))
    with pytest.raises(PoolExhaustedError, match="IP pool 'p'"):
        subnet.allocate("c", within=limit)
    assert subnet.allocate("d").ips == ("10.0.0.2",)  # unlimited still from the start
    assert subnet.allocate("a", within=limit) == first  # idempotent


def test_pairs_take_the_first_entry_wholly_free() -> None:
    """Dual-stack pairs are taken whole: a pair half held by another is skipped."""
    subnet = SubnetPool("s", "10.0.0.0/24,fd00::/120")
    subnet.allocate("x", ips="10.0.0.9,fd00::9")
    pairs = parse_ip_list("10.0.0.9,fd00::8;10.0.0.7,fd00::7")
    got = subnet.allocate("a", choices=pairs, within=limit_of("list", pairs))
    assert got.ips == ("10.0.0.7", "fd00::7")
    with pytest.raises(PoolExhaustedError, match="every entry"):
        subnet.allocate("b", choices=pairs, within=limit_of("list", pairs))


def test_usage_counts_only_the_pool() -> None:
    """Available and using count the pool's ranges; held addresses outside it don't."""
    subnet = SubnetPool("s", "10.0.0.0/24")
    ranges = parse_pool_ips(["10.0.0.50..10.0.0.59"])
    subnet.allocate("outside")
    subnet.allocate("in", within=AddressLimit("p", ranges))
    usage = pool_usage(ranges, subnet)[Family.V4]
    assert (usage.available, usage.using) == (9, 1)
    assert usage.using_range == "10.0.0.50"
    assert usage.available_range == "10.0.0.51-10.0.0.59"


def test_lowest_in_and_intersection_work_on_intervals() -> None:
    """The interval helpers answer from the ranges, not the members."""
    free = IntervalSet([(0, 9), (20, 29)])
    assert free.lowest_in(IntervalSet([(12, 25)])) == 20
    assert free.lowest_in(IntervalSet([(10, 19)])) is None
    assert list(free.intersection(IntervalSet([(5, 22)]))) == [(5, 9), (20, 22)]
