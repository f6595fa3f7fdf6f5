"""Counts and range strings for Subnet status."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovnctl.ipam import SubnetPool
from ovnctl.ipam.pool import _runs


def test_gateway_and_excludes_count_as_neither():
    """A /24 with its gateway and excludeIps x.2..x.10 has 244 available."""
    pool = SubnetPool("s", "10.16.0.0/24", exclude_ips=["10.16.0.2..10.16.0.10"])
    usage = pool.usage().v4
    assert usage is not None
    assert (usage.available, usage.using, usage.reserved, usage.size) == (244, 0, 12, 256)
    assert usage.available_range == "10.16.0.11-10.16.0.254"


def test_status_fields_shape_and_ranges():
    """status_fields gives Kube-OVN's field names; one-address ranges are the bare address."""
    pool = SubnetPool("s", "10.16.0.0/16,fd00:10:16::/120")
    pool.allocate("a", ips="10.16.0.5")
    pool.allocate("b")
    fields = pool.usage().status_fields()
    assert fields["v4usingIPs"] == 2
    assert fields["v4usingIPrange"] == "10.16.0.2,10.16.0.5"
    assert fields["v4availableIPrange"] == "10.16.0.3-10.16.0.4,10.16.0.6-10.16.255.254"
    assert fields["v4availableIPs"] == 65534 - 1 - 2
    assert fields["v6usingIPs"] == 2
    assert fields["v6usingIPrange"] == "fd00:10:16::2-fd00:10:16::3"
    assert fields["v6availableIPs"] == 255 - 1 - 2


def test_absent_family_reads_zero_and_empty():
    """A v4-only subnet reports v6 as 0 and empty ranges."""
    fields = SubnetPool("s", "10.0.0.0/30").usage().status_fields()
    assert fields["v6availableIPs"] == 0
    assert fields["v6usingIPrange"] == ""
    assert fields["v4availableIPs"] == 1  # .1 gateway, .2 free; .0 and .3 reserved


@pytest.mark.parametrize(
    ("cidr", "available"),
    [("10.0.0.4/31", 1), ("10.0.0.4/32", 0), ("fd00::4/127", 1), ("fd00::4/128", 0)],
)
def test_point_to_point_prefixes_use_every_address(cidr, available):
    """In /31, /32, /127 and /128 network and broadcast addresses are usable."""
    usage = SubnetPool("s", cidr).usage()
    family_usage = usage.v4 or usage.v6
    assert family_usage is not None
    assert family_usage.available == available  # the gateway takes the first


def test_ipv6_last_address_is_usable():
    """IPv6 has no broadcast: the last address of the CIDR is allocatable."""
    pool = SubnetPool("s", "fd00::/126", gateway="fd00::1")
    assert [pool.allocate(o).ips[0] for o in "ab"] == ["fd00::2", "fd00::3"]


def test_excluded_address_taken_statically_counts_as_using():
    """An excluded address requested statically is using, not reserved; sums stay whole."""
    pool = SubnetPool("s", "10.0.0.0/28", exclude_ips=["10.0.0.5"])
    pool.allocate("a", ips="10.0.0.5")
    usage = pool.usage().v4
    assert usage is not None
    assert usage.using == 1
    assert usage.available + usage.using + usage.reserved == usage.size
    pool.release("a")
    usage = pool.usage().v4
    assert usage is not None
    assert usage.available == 16 - 2 - 1 - 1  # the excluded address did not become free


def test_huge_pools_report_big_numbers():
    """A v6 /48 reports its full size without materialising anything."""
    usage = SubnetPool("s", "fd00:10::/48").usage().v6
    assert usage is not None
    assert usage.available == 2**80 - 2
    assert usage.available_range == "fd00:10::2-fd00:10:0:ffff:ffff:ffff:ffff:ffff"


@given(st.sets(st.integers(min_value=0, max_value=300)))
@settings(max_examples=300, deadline=None)
def test_runs_of_held_addresses_match_a_plain_scan(values: set[int]) -> None:
    """The galloping run finder gives exactly the runs an address-by-address scan gives."""
    ordered = sorted(values)
    expected: list[tuple[int, int]] = []
    for value in ordered:
        if expected and value == expected[-1][1] + 1:
            expected[-1] = (expected[-1][0], value)
        else:
            expected.append((value, value))
    assert _runs(ordered) == expected


def test_using_range_ignores_strays_outside_the_cidr():
    """Addresses a CIDR change left outside are neither counted nor listed as in use."""
    pool = SubnetPool("s", "10.16.0.0/24")
    pool.allocate("a", ips="10.16.0.200")
    pool.allocate("b")
    pool.allocate("c")
    pool.update(cidr_block="10.16.0.0/25")
    usage = pool.usage().v4
    assert usage is not None
    assert (usage.using, usage.using_range) == (2, "10.16.0.2-10.16.0.3")
