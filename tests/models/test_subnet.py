"""Subnet specs: validation, defaults, error messages, and rules across subnets."""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ovnctl.models import (
    Protocol,
    SubnetSpec,
    SubnetSpecError,
    conflicts_for,
    find_conflicts,
    parse_subnet,
    parse_subnet_spec,
)
from tests.models.conftest import example, load_examples


def spec(**fields: Any) -> SubnetSpec:
    return parse_subnet_spec(name="s", spec={"cidrBlock": "10.16.0.0/16", **fields})


def error(**fields: Any) -> SubnetSpecError:
    with pytest.raises(SubnetSpecError) as info:
        parse_subnet_spec(name="s", spec=fields)
    return info.value


# -- the shared samples ---------------------------------------------------------------


def test_sample_default_subnet():
    """ovn-default: IPv4, gateway as written, default flag, ignored Kube-OVN fields listed."""
    s = parse_subnet(body=example("subnets.yaml", name="ovn-default"))
    assert s.name == "ovn-default"
    assert s.cidr_block == "10.16.0.0/16"
    assert s.protocol is Protocol.IPV4
    assert s.gateway == "10.16.0.1"
    assert s.exclude_ips == ("10.16.0.1",)
    assert s.default
    assert s.is_primary
    assert s.has_logical_switch
    assert s.ignored_fields == ("gatewayType", "natOutgoing")
    assert s.warnings == ()


def test_sample_namespaced_subnet_defaults():
    """team-a: protocol derived, gateway defaulted to the first usable address."""
    s = parse_subnet(body=example("subnets.yaml", name="team-a"))
    assert s.protocol is Protocol.IPV4
    assert s.gateway == "10.66.0.1"
    assert s.namespaces == ("team-a", "team-a-staging")
    assert s.exclude_ips == ("10.66.0.1..10.66.0.10", "10.66.255.254")
    assert not s.default
    assert s.provider == "ovn"


def test_sample_dual_stack():
    """dual: both families, gateways aligned with the CIDRs."""
    s = parse_subnet(body=example("subnets.yaml", name="dual"))
    assert s.protocol is Protocol.DUAL
    assert s.cidrs == ("10.17.0.0/16", "fd00:10:17::/64")
    assert s.gateways == ("10.17.0.1", "fd00:10:17::1")


def test_sample_attachment_subnets():
    """The Multus subnets keep their providers; only the .ovn one has a logical switch."""
    ovn = parse_subnet(body=example("subnets.yaml", name="attachnet-subnet"))
    assert ovn.provider == "attachnet.default.ovn"
    assert ovn.provider_ref is not None
    assert ovn.provider_ref.nad_key == ("default", "attachnet")
    assert ovn.has_logical_switch
    macvlan = parse_subnet(body=example("subnets.yaml", name="macvlan-subnet"))
    assert macvlan.provider == "macvlan.default"
    assert not macvlan.has_logical_switch
    assert not macvlan.is_primary


def test_samples_have_no_conflicts():
    """The sample subnets together break no cross-subnet rule."""
    specs = [parse_subnet(body=b) for b in load_examples("subnets.yaml")]
    assert find_conflicts(subnets=specs) == ()


# -- cidrBlock and protocol ------------------------------------------------------------


def test_ipv6_only():
    """An IPv6 block derives IPv6 and the first usable v6 gateway."""
    s = parse_subnet_spec(name="s", spec={"cidrBlock": "fd00:10:16::/64"})
    assert s.protocol is Protocol.IPV6
    assert s.gateway == "fd00:10:16::1"


def test_dual_v6_first_keeps_order():
    """A v6-first dual block keeps its order; a one-family gateway fills the other's default."""
    s = parse_subnet_spec(
        name="s", spec={"cidrBlock": "fd00::/64, 10.0.0.0/24", "gateway": "10.0.0.254"}
    )
    assert s.cidr_block == "fd00::/64,10.0.0.0/24"
    assert s.gateways == ("fd00::1", "10.0.0.254")


def test_host_bits_cleared_with_warning():
    """10.16.0.5/16 means 10.16.0.0/16, with a warning saying so."""
    s = parse_subnet_spec(name="s", spec={"cidrBlock": "10.16.0.5/16"})
    assert s.cidr_block == "10.16.0.0/16"
    assert any("host bits" in w for w in s.warnings)


def test_non_canonical_v6_is_not_host_bits():
    """A v6 block written long-hand is normalised without a host-bits warning."""
    s = parse_subnet_spec(name="s", spec={"cidrBlock": "fd00:10:17:0::/64"})
    assert s.cidr_block == "fd00:10:17::/64"
    assert s.warnings == ()


def test_point_to_point_gateways():
    """In /31 and /32 the first address is usable, so it is the default gateway."""
    assert parse_subnet_spec(name="s", spec={"cidrBlock": "10.0.0.0/31"}).gateway == "10.0.0.0"
    assert parse_subnet_spec(name="s", spec={"cidrBlock": "10.0.0.7/32"}).gateway == "10.0.0.7"


@pytest.mark.parametrize("protocol", ["IPv4", "", None])
def test_protocol_agrees_or_empty(protocol):
    """A protocol that agrees, or none, is accepted."""
    assert spec(protocol=protocol).protocol is Protocol.IPV4


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({}, "spec.cidrBlock", "required"),
        ({"cidrBlock": "  "}, "spec.cidrBlock", "required"),
        ({"cidrBlock": 10}, "spec.cidrBlock", "expected a string, got a number"),
        ({"cidrBlock": "10.16.0.0"}, "spec.cidrBlock", "no prefix length"),
        ({"cidrBlock": "10.16.0.0/33"}, "spec.cidrBlock", "not a valid CIDR"),
        ({"cidrBlock": "10.16/16"}, "spec.cidrBlock", "not a valid CIDR"),
        ({"cidrBlock": "10.16.0.0/16,10.17.0.0/16"}, "spec.cidrBlock", "two IPv4 CIDRs"),
        ({"cidrBlock": "10.0.0.0/8,fd00::/64,10.1.0.0/16"}, "spec.cidrBlock", "3 CIDRs"),
        ({"cidrBlock": "10.0.0.0/8", "protocol": "IPv6"}, "spec.protocol", "which is IPv4"),
        ({"cidrBlock": "10.0.0.0/8", "protocol": "Dual"}, "spec.protocol", "does not match"),
        ({"cidrBlock": "10.0.0.0/8,fd00::/64", "protocol": "IPv4"}, "spec.protocol", "Dual"),
        ({"cidrBlock": "10.0.0.0/8", "protocol": "ipv4"}, "spec.protocol", "not one of"),
        ({"cidrBlock": "10.0.0.0/8", "protocol": 4}, "spec.protocol", "expected a string"),
    ],
)
def test_cidr_and_protocol_errors(fields, field, fragment):
    """Bad cidrBlock or protocol raises an error naming the field and value."""
    exc = error(**fields)
    assert exc.field == field
    assert fragment in str(exc)
    assert str(exc).startswith(f"{field}: ")


# -- gateway ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"gateway": "10.17.0.1"}, "outside CIDR 10.16.0.0/16"),
        ({"gateway": "10.16.0.0"}, "network or broadcast"),
        ({"gateway": "10.16.255.255"}, "network or broadcast"),
        ({"gateway": "fd00::1"}, "no IPv6 CIDR"),
        ({"gateway": "10.16.0.1,10.16.0.2"}, "two IPv4"),
        ({"gateway": "gw"}, "'gw' is not a valid IP address"),
        ({"gateway": ["10.16.0.1"]}, "expected a string, got a list"),
    ],
)
def test_gateway_errors(fields, fragment):
    """A gateway outside the CIDR, reserved, of a missing family or malformed is an error."""
    exc = error(cidrBlock="10.16.0.0/16", **fields)
    assert exc.field == "spec.gateway"
    assert fragment in str(exc)


def test_gateway_inside_cidr_accepted():
    """Any usable address inside the CIDR may be the gateway."""
    assert spec(gateway="10.16.255.254").gateway == "10.16.255.254"


# -- excludeIps ------------------------------------------------------------------------


def test_exclude_ips_clipped_and_ignored_with_warnings():
    """Entries partly outside are clipped, wholly outside ignored; both warn, neither fails."""
    s = spec(excludeIps=["10.15.255.250..10.16.0.3", "10.99.0.1", " 10.16.0.9 "])
    assert s.exclude_ips == ("10.15.255.250..10.16.0.3", "10.99.0.1", "10.16.0.9")
    assert len(s.warnings) == 2
    assert "clipped" in s.warnings[0]
    assert "ignored" in s.warnings[1]


def test_exclude_ips_dual_stack_both_families():
    """In a dual-stack subnet each entry may be of either family."""
    s = parse_subnet_spec(
        name="s",
        spec={"cidrBlock": "10.0.0.0/24,fd00::/64", "excludeIps": ["10.0.0.2", "fd00::2..fd00::9"]},
    )
    assert s.warnings == ()


@pytest.mark.parametrize(
    ("entries", "field", "fragment"),
    [
        ("10.16.0.5", "spec.excludeIps", "expected a list of strings, got a string"),
        (["10.16.0.5", 7], "spec.excludeIps[1]", "expected a string, got a number"),
        (["10.16.0.1..10.16.0.2..10.16.0.3"], "spec.excludeIps[0]", "3 parts"),
        (["ok", "10.16.0.1"], "spec.excludeIps[0]", "'ok' is not a valid IP"),
        (["10.16.0.1", "10.16.0.9..10.16.0.2"], "spec.excludeIps[1]", "starts after it ends"),
        (["10.16.0.9..fd00::1"], "spec.excludeIps[0]", "mixes IPv4 and IPv6"),
        (["fd00::1"], "spec.excludeIps[0]", "no IPv6 CIDR"),
        (["10.16.0.1-10.16.0.9"], "spec.excludeIps[0]", "not a valid IP"),
    ],
)
def test_exclude_ips_errors(entries, field, fragment):
    """Malformed excludeIps entries raise an error naming the entry's index and value."""
    exc = error(cidrBlock="10.16.0.0/16", excludeIps=entries)
    assert exc.field == field
    assert fragment in str(exc)


# -- provider, namespaces, default -------------------------------------------------------


@pytest.mark.parametrize("provider", ["ovn", "", None, "net1.ns1", "net1.ns1.ovn"])
def test_valid_providers(provider):
    """ovn (also when empty), <nad>.<ns> and <nad>.<ns>.ovn are accepted."""
    assert spec(provider=provider).provider == (provider or "ovn")


@pytest.mark.parametrize("provider", ["net1", "a.b.c", "Net.ns", "a.b.ovn.x", "a..ovn"])
def test_invalid_providers(provider):
    """Any other provider string is an error naming spec.provider."""
    exc = error(cidrBlock="10.0.0.0/8", provider=provider)
    assert exc.field == "spec.provider"
    assert repr(provider) in str(exc)


def test_namespaces_deduplicated():
    """Namespaces keep written order; duplicates collapse."""
    assert spec(namespaces=["b", "a", "b"]).namespaces == ("b", "a")


@pytest.mark.parametrize(
    ("fields", "field", "fragment"),
    [
        ({"namespaces": "team-a"}, "spec.namespaces", "expected a list of strings"),
        ({"namespaces": ["ok", "Bad_NS"]}, "spec.namespaces[1]", "'Bad_NS' is not a valid"),
        ({"namespaces": ["a"], "provider": "n.ns"}, "spec.namespaces", "primary network"),
        ({"default": "true"}, "spec.default", "expected a boolean, got a string"),
        ({"default": True, "provider": "n.ns.ovn"}, "spec.default", "provider 'ovn'"),
    ],
)
def test_namespaces_and_default_errors(fields, field, fragment):
    """Bad namespaces or default flags raise errors naming the field."""
    exc = error(cidrBlock="10.0.0.0/8", **fields)
    assert exc.field == field
    assert fragment in str(exc)


def test_default_false_and_null():
    """default false or null means not the default subnet."""
    assert not spec(default=False).default
    assert not spec(default=None).default


# -- ignored fields ------------------------------------------------------------------------


def test_ignored_fields_listed_and_warned():
    """Kube-OVN fields ovnctl ignores are listed; a custom vpc or a vlan also warns."""
    s = spec(
        vpc="tenant-1",
        vlan="vlan10",
        natOutgoing=True,
        private=False,
        allowSubnets=["10.0.0.0/8"],
        gatewayType="centralized",
        somethingNew={"x": 1},
    )
    assert s.ignored_fields == (
        "allowSubnets",
        "gatewayType",
        "natOutgoing",
        "private",
        "somethingNew",
        "vlan",
        "vpc",
    )
    assert any("spec.vpc 'tenant-1' is ignored" in w for w in s.warnings)
    assert any("spec.vlan 'vlan10' is ignored" in w for w in s.warnings)


def test_default_vpc_does_not_warn():
    """vpc ovn-cluster (Kube-OVN's default) is what ovnctl does anyway: no warning."""
    assert spec(vpc="ovn-cluster").warnings == ()


# -- the object wrapper ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "metadata.name"),
        ({"metadata": {"name": ""}}, "metadata.name"),
        ({"metadata": {"name": "s"}}, "spec"),
        ({"metadata": {"name": "s"}, "spec": "x"}, "spec"),
    ],
)
def test_object_shape_errors(body, field):
    """A Subnet without a name or spec is an error naming it."""
    with pytest.raises(SubnetSpecError) as info:
        parse_subnet(body=body)
    assert info.value.field == field


def test_spec_is_frozen_and_hashable():
    """SubnetSpec is frozen and hashable, fit for a cache."""
    s = spec()
    with pytest.raises(AttributeError):
        s.default = True  # type: ignore[misc]
    assert hash(s) == hash(spec())


# -- rules across subnets -------------------------------------------------------------------


def named(name: str, cidr: str, **fields: Any) -> SubnetSpec:
    return parse_subnet_spec(name=name, spec={"cidrBlock": cidr, **fields})


def test_overlap_same_provider():
    """Two primary subnets sharing addresses conflict, naming both and their CIDRs."""
    (conflict,) = find_conflicts(
        subnets=[named("b", "10.16.0.0/16"), named("a", "10.16.5.0/24"), named("c", "10.17.0.0/16")]
    )
    assert conflict.reason == "Overlap"
    assert conflict.subnets == ("a", "b")
    assert "10.16.0.0/16" in conflict.message
    assert "10.16.5.0/24" in conflict.message
    assert "'ovn'" in conflict.message


def test_overlap_different_providers_allowed():
    """The same CIDR under different providers is fine: they are different networks."""
    subnets = [
        named("a", "172.17.0.0/16", provider="n1.ns.ovn"),
        named("b", "172.17.0.0/16", provider="n2.ns"),
        named("c", "172.17.0.0/16"),
    ]
    assert find_conflicts(subnets=subnets) == ()


def test_overlap_dual_stack_v6_only():
    """Dual-stack subnets overlapping in one family conflict once."""
    subnets = [named("a", "10.1.0.0/24,fd00::/64"), named("b", "10.2.0.0/24,fd00::/48")]
    (conflict,) = find_conflicts(subnets=subnets)
    assert conflict.subnets == ("a", "b")


def test_adjacent_subnets_do_not_overlap():
    """Touching but disjoint CIDRs are fine."""
    assert find_conflicts(subnets=[named("a", "10.0.0.0/25"), named("b", "10.0.0.128/25")]) == ()


def test_many_overlaps_reported_pairwise():
    """A big CIDR over several small ones yields one conflict per pair."""
    subnets = [named("big", "10.0.0.0/8")] + [named(f"s{i}", f"10.{i}.0.0/16") for i in range(3)]
    pairs = {c.subnets for c in find_conflicts(subnets=subnets)}
    assert pairs == {("big", "s0"), ("big", "s1"), ("big", "s2")}


def test_multiple_defaults():
    """More than one default subnet is a conflict listing them all."""
    subnets = [
        named("a", "10.1.0.0/16", default=True),
        named("b", "10.2.0.0/16", default=True),
        named("c", "10.3.0.0/16"),
    ]
    (conflict,) = find_conflicts(subnets=subnets)
    assert conflict.reason == "MultipleDefaults"
    assert conflict.subnets == ("a", "b")


def test_conflicts_for_one_subnet():
    """conflicts_for returns only conflicts involving the given subnet, ignoring its old self."""
    mine = named("mine", "10.16.0.0/16")
    others = [
        named("mine", "10.99.0.0/16"),  # the cached old version of the same subnet
        named("x", "10.16.1.0/24"),
        named("y", "10.20.0.0/16"),
        named("z", "10.20.1.0/24"),
    ]
    (conflict,) = conflicts_for(subnet=mine, others=others)
    assert conflict.subnets == ("mine", "x")


_prefix24 = st.integers(min_value=0, max_value=15).map(lambda i: f"10.0.{i * 16}.0/20")
_any_v4 = st.tuples(st.integers(0, 3), st.integers(18, 26)).map(
    lambda t: str(ipaddress.ip_network(f"10.{t[0]}.0.0/{t[1]}", strict=False))
)


@given(
    cidrs=st.lists(_any_v4 | _prefix24, min_size=0, max_size=8),
    providers=st.lists(st.sampled_from(["ovn", "a.ns", "a.ns.ovn"]), min_size=8, max_size=8),
)
def test_overlaps_match_brute_force(cidrs, providers):
    """The sweep finds exactly the pairs a pairwise check finds."""
    subnets = [named(f"s{i}", cidr, provider=providers[i]) for i, cidr in enumerate(cidrs)]
    expected = {
        (a.name, b.name)
        for a, b in itertools.combinations(subnets, 2)
        if a.provider == b.provider
        and ipaddress.ip_network(a.cidr_block).overlaps(ipaddress.ip_network(b.cidr_block))
    }
    got = {c.subnets for c in find_conflicts(subnets=subnets) if c.reason == "Overlap"}
    assert got == {tuple(sorted(pair)) for pair in expected}
