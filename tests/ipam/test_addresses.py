"""Parsing of cidrBlock, gateway and excludeIps, and address formatting."""

from __future__ import annotations

import ipaddress

import netaddr
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ovnctl.ipam import (
    ExcludeIpsAddressError,
    ExcludeIpsFamilyError,
    ExcludeIpsOrderError,
    ExcludeIpsSyntaxError,
    Family,
    InvalidCIDRError,
    InvalidExcludeIpsError,
    InvalidGatewayError,
    InvalidSpecError,
    parse_cidr_block,
    parse_exclude_ips,
    parse_gateway,
)
from ovnctl.ipam.addresses import AddressRange, format_ip, format_ranges, format_v6


def test_parse_single_v4():
    """A v4 CIDR parses to one netaddr network."""
    assert parse_cidr_block("10.16.0.0/16") == (netaddr.IPNetwork("10.16.0.0/16"),)


@pytest.mark.parametrize("value", ["10.16.0.0/16,fd00:10:16::/64", "fd00:10:16::/64, 10.16.0.0/16"])
def test_parse_dual_stack_keeps_written_order(value):
    """Dual-stack keeps the order the user wrote (v4 first or v6 first)."""
    nets = parse_cidr_block(value)
    assert [str(n) for n in nets] == [p.strip() for p in value.split(",")]


def test_parse_clears_host_bits():
    """Host bits are cleared as Kube-OVN does when formatting a subnet."""
    assert str(parse_cidr_block("10.16.0.1/16")[0]) == "10.16.0.0/16"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "10.16.0.0",
        "10.16/16",
        "10.16.0.0/33",
        "banana/8",
        "10.0.0.0/8,10.1.0.0/16",
        "10.0.0.0/8,fd00::/64,fd01::/64",
    ],
)
def test_parse_cidr_block_errors_name_value_and_subnet(value):
    """Every malformed cidrBlock raises InvalidCIDRError naming the value and subnet."""
    with pytest.raises(InvalidCIDRError) as info:
        parse_cidr_block(value, subnet="net1")
    assert repr(value) in str(info.value)
    assert "'net1'" in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, InvalidSpecError)


def test_gateway_defaults_to_first_usable():
    """An empty gateway means the first usable address of each CIDR."""
    nets = parse_cidr_block("fd00::/64,10.16.0.0/16")
    assert [str(g) for g in parse_gateway("", nets)] == ["fd00::1", "10.16.0.1"]


def test_gateway_default_in_point_to_point_is_network_address():
    """In a /31 or /32 the first usable address is the network address."""
    assert str(parse_gateway("", parse_cidr_block("10.0.0.4/31"))[0]) == "10.0.0.4"


def test_gateway_aligned_with_cidrs_and_partial_defaults():
    """A given gateway is aligned with the CIDR order; a missing family defaults."""
    nets = parse_cidr_block("10.16.0.0/16,fd00::/64")
    assert [str(g) for g in parse_gateway("fd00::fe", nets)] == ["10.16.0.1", "fd00::fe"]
    assert [str(g) for g in parse_gateway("fd00::fe,10.16.0.254", nets)] == [
        "10.16.0.254",
        "fd00::fe",
    ]


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("10.16.0.x", "not a valid IP"),
        ("10.17.0.1", "outside CIDR"),
        ("fd00::1", "no IPv6 CIDR"),
        ("10.16.0.1,10.16.0.2", "two IPv4"),
        ("10.16.0.0", "network or broadcast"),
        ("10.16.255.255", "network or broadcast"),
        ("10.16.0.1/16", "not a valid IP"),
    ],
)
def test_parse_gateway_errors(value, needle):
    """Each bad gateway raises InvalidGatewayError naming the value, the subnet and the cause."""
    with pytest.raises(InvalidGatewayError) as info:
        parse_gateway(value, parse_cidr_block("10.16.0.0/16"), subnet="net1")
    message = str(info.value)
    assert value.split(",")[0] in message
    assert "'net1'" in message
    assert needle in message


def test_exclude_ips_single_and_range():
    """Single IPs and inclusive a..b ranges become integer ranges."""
    nets = parse_cidr_block("10.16.0.0/24")
    ranges, warnings = parse_exclude_ips(["10.16.0.5", "10.16.0.10..10.16.0.20"], nets)
    assert [r.format("..") for r in ranges] == ["10.16.0.5", "10.16.0.10..10.16.0.20"]
    assert ranges[1].size == 11
    assert warnings == ()


def test_exclude_ips_outside_cidr_is_a_warning():
    """Entries wholly outside the CIDR are dropped with a warning naming them."""
    ranges, warnings = parse_exclude_ips(["10.17.0.5"], parse_cidr_block("10.16.0.0/24"))
    assert ranges == ()
    assert len(warnings) == 1
    assert "10.17.0.5" in warnings[0]


def test_exclude_ips_partly_outside_is_clipped_with_warning():
    """Entries partly outside the CIDR are clipped to it, with a warning."""
    ranges, warnings = parse_exclude_ips(
        ["10.15.255.250..10.16.0.3"], parse_cidr_block("10.16.0.0/24")
    )
    assert [str(r) for r in ranges] == ["10.16.0.0-10.16.0.3"]
    assert "clipped" in warnings[0]


def test_exclude_ips_dual_stack_routes_each_family():
    """In dual-stack, each entry is checked against the CIDR of its own family."""
    ranges, warnings = parse_exclude_ips(
        ["fd00::5..fd00::9", "10.16.0.7"], parse_cidr_block("10.16.0.0/24,fd00::/120")
    )
    assert [r.family for r in ranges] == [Family.V6, Family.V4]
    assert warnings == ()


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ("10.16.0.1..10.16.0.2..10.16.0.3", ExcludeIpsSyntaxError),
        ("10.16.0.x", ExcludeIpsAddressError),
        ("10.16.0.1..", ExcludeIpsAddressError),
        ("10.16.0.1..fd00::1", ExcludeIpsFamilyError),
        ("fd00::1", ExcludeIpsFamilyError),
        ("10.16.0.9..10.16.0.1", ExcludeIpsOrderError),
    ],
)
def test_exclude_ips_errors(entry, error):
    """Malformed entries raise the specific error naming the entry and subnet."""
    with pytest.raises(error) as info:
        parse_exclude_ips([entry], parse_cidr_block("10.16.0.0/24"), subnet="net1")
    assert repr(entry) in str(info.value)
    assert "'net1'" in str(info.value)
    assert isinstance(info.value, InvalidExcludeIpsError)


def test_exclude_ips_non_string_entry():
    """A non-string entry is a syntax error, not a crash."""
    with pytest.raises(ExcludeIpsSyntaxError, match="net1"):
        parse_exclude_ips([5], parse_cidr_block("10.16.0.0/24"), subnet="net1")  # type: ignore[list-item]


def test_format_ranges_single_address_alone():
    """A one-address range is written as the address; ranges as a-b, comma-joined."""
    text = format_ranges(Family.V4, [(0x0A100002, 0x0A100009), (0x0A100010, 0x0A100010)])
    assert text == "10.16.0.2-10.16.0.9,10.16.0.16"
    assert str(AddressRange(Family.V6, 1, 1)) == "::1"


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_format_v6_matches_ipaddress(value):
    """The fast IPv6 formatter agrees with ipaddress's RFC 5952 form."""
    assert format_v6(value) == ipaddress.IPv6Address(value).compressed


@given(st.lists(st.sampled_from([0, 0, 0, 1, 0xFFFF, 0xABC]), min_size=8, max_size=8))
def test_format_v6_zero_runs_match_ipaddress(groups):
    """Zero-run compression (leftmost longest) agrees with ipaddress."""
    value = 0
    for group in groups:
        value = (value << 16) | group
    assert format_ip(Family.V6, value) == ipaddress.IPv6Address(value).compressed


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_format_v4_matches_ipaddress(value):
    """The fast IPv4 formatter agrees with ipaddress."""
    assert format_ip(Family.V4, value) == str(ipaddress.IPv4Address(value))
