"""Namespaces' ``ovn.kubernetes.io/ip_pool`` annotation: IPPool names for their pods.

Only namespaces that carry the annotation contribute an index entry (a tuple
of pool names), so the cache costs nothing for the others. Filled by one
Namespace LIST+WATCH; read by the pool chooser
(:mod:`ovnctl.reconcilers.pools`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ovnctl.caches._stores import newest
from ovnctl.models import NAMESPACE_POOL_ANNOTATION, meta_annotations, meta_name, object_meta

__all__ = ["NAMESPACE_POOL_ANNOTATION", "NamespacePoolCache", "index_namespace_pools"]


def index_namespace_pools(body: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Index function: namespace name -> the IPPool names its annotation lists."""
    metadata = object_meta(body)
    name = meta_name(metadata)
    value = meta_annotations(metadata).get(NAMESPACE_POOL_ANNOTATION)
    if name is None or not isinstance(value, str):
        return {}
    pools = tuple(p.strip() for p in value.split(",") if p.strip())
    return {name: pools} if pools else {}


class NamespacePoolCache:
    """Read-only lookups: the IPPool names a namespace's annotation lists."""

    def __init__(self, *, by_name: Mapping[str, Collection[tuple[str, ...]]]) -> None:
        self._by_name = by_name

    def pools_of(self, namespace: str) -> tuple[str, ...]:
        pools: tuple[str, ...] | None = newest(self._by_name.get(namespace))
        return pools or ()
