"""Subnet index functions and the SubnetCache view, fed with plain dicts (no Kopf, no server)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from ovnctl.caches import (
    SubnetCache,
    index_subnet_by_name,
    index_subnet_by_namespace,
    index_subnet_by_provider,
    index_subnet_default,
)


def body(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "resourceVersion": "7",
            "generation": 2,
            "creationTimestamp": "2024-01-01T00:00:00Z",
            "finalizers": ["kubeovn.io/ovnctl"],
        },
        "spec": spec,
        "status": {"v4availableIPs": 1, "conditions": []},
    }


def cache_of(*bodies: dict[str, Any]) -> SubnetCache:
    """What Kopf would hold: per index, key -> collection of values from every object."""
    indexes: list[dict[Any, list[Any]]] = [defaultdict(list) for _ in range(4)]
    functions: tuple[Callable[[Mapping[str, Any]], Mapping[Any, Any]], ...] = (
        index_subnet_by_name,
        index_subnet_by_provider,
        index_subnet_by_namespace,
        index_subnet_default,
    )
    for b in bodies:
        for index, function in zip(indexes, functions, strict=True):
            for key, value in function(b).items():
                index[key].append(value)
    by_name, by_provider, by_namespace, default = indexes
    return SubnetCache(
        by_name=by_name, by_provider=by_provider, by_namespace=by_namespace, default=default
    )


def test_record_holds_validated_spec_and_metadata() -> None:
    """The by-name record carries the parsed spec and what finalizers and status need."""
    [(name, record)] = index_subnet_by_name(body("a", cidrBlock="10.16.0.5/24")).items()
    assert name == "a"
    assert record.spec is not None
    assert record.spec.cidr_block == "10.16.0.0/24"
    assert record.spec.gateway == "10.16.0.1"
    assert (record.uid, record.resource_version, record.generation) == ("uid-a", "7", 2)
    assert record.finalizers == ("kubeovn.io/ovnctl",)
    assert not record.deleting
    assert record.status == {"v4availableIPs": 1, "conditions": []}
    assert record.provider == "ovn"


def test_invalid_spec_keeps_the_error_and_provider() -> None:
    """An invalid subnet is still indexed, with the error and the provider it names."""
    b = body("bad", cidrBlock="nope", provider="net1.default.ovn")
    [record] = index_subnet_by_name(b).values()
    assert record.spec is None
    assert record.error is not None
    assert "spec.cidrBlock" in str(record.error)
    assert record.provider == "net1.default.ovn"
    assert index_subnet_by_provider(b) == {"net1.default.ovn": "bad"}


def test_deleting_flag() -> None:
    """deletionTimestamp marks the record as deleting."""
    b = body("d", cidrBlock="10.0.0.0/24")
    b["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:01Z"
    [record] = index_subnet_by_name(b).values()
    assert record.deleting


def test_provider_index_normalises_like_the_validator() -> None:
    """Blank or padded providers index as the validator reads them."""
    assert index_subnet_by_provider(body("a", cidrBlock="10.0.0.0/24")) == {"ovn": "a"}
    assert index_subnet_by_provider(body("b", cidrBlock="10.0.0.0/24", provider="")) == {"ovn": "b"}
    padded = body("c", cidrBlock="10.0.0.0/24", provider=" n.default.ovn ")
    assert index_subnet_by_provider(padded) == {"n.default.ovn": "c"}
    [record] = index_subnet_by_name(padded).values()
    assert record.spec is not None
    assert record.provider == record.spec.provider == "n.default.ovn"


def test_namespace_and_default_indexes() -> None:
    """Namespaces map to the subnet; only default: true (a boolean) enters the default index."""
    b = body("team", cidrBlock="10.0.0.0/24", namespaces=["a", " b ", 3], default=True)
    assert index_subnet_by_namespace(b) == {"a": "team", "b": "team"}
    assert index_subnet_default(b) == {True: "team"}
    assert index_subnet_default(body("s", cidrBlock="10.0.0.0/24", default="true")) == {}
    assert index_subnet_by_namespace(body("n", cidrBlock="10.0.0.0/24", namespaces="a")) == {}


def test_objects_without_a_name_are_skipped() -> None:
    """A body without metadata.name contributes nothing to any index."""
    nameless = {"metadata": {}, "spec": {"cidrBlock": "10.0.0.0/24", "default": True}}
    assert index_subnet_by_name(nameless) == {}
    assert index_subnet_by_provider(nameless) == {}
    assert index_subnet_default(nameless) == {}


def test_view_lookups() -> None:
    """The view answers by name, provider, namespace and default, sorted by name."""
    cache = cache_of(
        body("z", cidrBlock="10.1.0.0/24", provider="n.default.ovn"),
        body("a", cidrBlock="10.2.0.0/24", provider="n.default.ovn"),
        body("d", cidrBlock="10.3.0.0/24", default=True, namespaces=["x"]),
        body("e", cidrBlock="10.4.0.0/24", default=True),
        body("bad", cidrBlock="nope"),
    )
    assert len(cache) == 5
    assert sorted(r.name for r in cache) == ["a", "bad", "d", "e", "z"]
    record = cache.get("z")
    assert record is not None
    assert record.provider == "n.default.ovn"
    assert cache.get("missing") is None
    assert cache.names_for_provider("n.default.ovn") == ["a", "z"]
    assert cache.names_for_provider("other") == []
    assert cache.names_for_namespace("x") == ["d"]
    assert cache.default_names() == ["d", "e"]
