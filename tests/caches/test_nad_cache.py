"""The NAD index function and NadCache view, fed with plain dicts (no Kopf, no server)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from ovnctl.caches import NadCache, index_nad_by_key


def nad(name: str, config: Any, namespace: str = "default") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"config": config if isinstance(config, str) else json.dumps(config)},
    }


def cache_of(*bodies: dict[str, Any]) -> NadCache:
    index: dict[Any, list[Any]] = defaultdict(list)
    for b in bodies:
        for key, value in index_nad_by_key(b).items():
            index[key].append(value)
    return NadCache(by_key=index)


def test_kube_ovn_plugin_provider() -> None:
    """A kube-ovn plugin is served as '<nad>.<ns>.ovn', with an OVN switch."""
    [(key, config)] = index_nad_by_key(
        nad("attachnet", {"cniVersion": "0.3.1", "type": "kube-ovn"}, "ns1")
    ).items()
    assert key == ("ns1", "attachnet")
    assert config.provider == "attachnet.ns1.ovn"
    assert config.served_by_ovn
    assert config.error is None


def test_ipam_only_provider_in_a_plugin_list() -> None:
    """kube-ovn as IPAM of a plugin in a list is served as '<nad>.<ns>', without a switch."""
    conf = {
        "cniVersion": "0.4.0",
        "name": "cni-name-differs",
        "plugins": [
            {"type": "macvlan", "ipam": {"type": "kube-ovn"}},
            {"type": "tuning"},
        ],
    }
    [config] = index_nad_by_key(nad("mac", conf)).values()
    assert config.provider == "mac.default"
    assert config.ipam_only
    assert config.cni_name == "cni-name-differs"
    assert config.plugin_type == "macvlan"


def test_bad_configs_are_cached_with_an_error() -> None:
    """Empty, invalid or wrongly shaped spec.config is kept as an error, never raised."""
    for config in ("", "{oops", "[1]", json.dumps({"plugins": "x"})):
        [parsed] = index_nad_by_key(nad("broken", config)).values()
        assert parsed.provider is None
        assert parsed.error is not None
        assert parsed.error.startswith("spec.config")


def test_not_served_nad() -> None:
    """A NAD that is neither kube-ovn nor kube-ovn IPAM has no provider and no error."""
    [parsed] = index_nad_by_key(
        nad("sriov", {"type": "sriov", "ipam": {"type": "host-local"}})
    ).values()
    assert (parsed.provider, parsed.error) == (None, None)
    assert (parsed.plugin_type, parsed.ipam_type) == ("sriov", "host-local")


def test_view_lookup_by_namespace_and_name() -> None:
    """The view finds a NAD by (namespace, name) and says None for unknown ones."""
    cache = cache_of(
        nad("a", {"type": "kube-ovn"}, "ns1"),
        nad("a", {"type": "macvlan", "ipam": {"type": "kube-ovn"}}, "ns2"),
    )
    assert len(cache) == 2
    first, second = cache.get("ns1", "a"), cache.get("ns2", "a")
    assert first is not None
    assert second is not None
    assert (first.provider, second.provider) == ("a.ns1.ovn", "a.ns2")
    assert cache.get("ns3", "a") is None
    assert cache.get("ns1", "b") is None
