"""Provider strings: building them from a NAD and splitting them back."""

from __future__ import annotations

import pytest

from ovnctl.models import (
    ProviderError,
    ProviderRef,
    is_primary,
    nad_provider,
    nad_providers,
    parse_provider,
)


def test_primary_provider_parses_to_none():
    """'ovn' is the primary network and names no NAD."""
    assert parse_provider(provider="ovn") is None
    assert is_primary("ovn")
    assert not is_primary("net1.ns1.ovn")


def test_ovn_served_provider():
    """'<nad>.<ns>.ovn' names the NAD and marks it OVN-served."""
    ref = parse_provider(provider="attachnet.default.ovn")
    assert ref == ProviderRef(nad_namespace="default", nad_name="attachnet", ovn=True)
    assert ref.nad_key == ("default", "attachnet")
    assert str(ref) == "attachnet.default.ovn"


def test_ipam_only_provider():
    """'<nad>.<ns>' names the NAD, IPAM only."""
    ref = parse_provider(provider="macvlan.default")
    assert ref == ProviderRef(nad_namespace="default", nad_name="macvlan", ovn=False)
    assert str(ref) == "macvlan.default"


def test_nad_provider_builds_both_forms():
    """nad_provider is the inverse of parse_provider."""
    assert nad_provider(namespace="ns", name="n", ovn=True) == "n.ns.ovn"
    assert nad_provider(namespace="ns", name="n", ovn=False) == "n.ns"


@pytest.mark.parametrize(
    "provider",
    ["", "net1", "a.b.c", "a.b.ovn.x", "A.b", "a_b.c", "a..ovn", ".a", "a.b.OVN", "-a.b"],
)
def test_invalid_provider(provider):
    """Anything not 'ovn', '<nad>.<ns>' or '<nad>.<ns>.ovn' with DNS-1123 labels is an error."""
    with pytest.raises(ProviderError) as info:
        parse_provider(provider=provider, field="spec.provider")
    assert info.value.field == "spec.provider"
    assert info.value.value == provider
    assert str(info.value).startswith("spec.provider: ")
    assert repr(provider) in str(info.value)


def test_nad_providers_are_both_forms():
    """A NAD names two providers: IPAM-only ``<nad>.<ns>`` and OVN ``<nad>.<ns>.ovn``."""
    assert nad_providers(namespace="default", name="attachnet") == (
        "attachnet.default",
        "attachnet.default.ovn",
    )
