"""The IPPool cache: every IPPool, parsed once per watch event.

Filled by the IPPool informer (one LIST+WATCH, :mod:`ovnctl.k8s.informers`);
the IPPool reconciler reads it to validate pools and write their status, and
the pool chooser reads the namespace index to find the pools of a pod's
namespace. The record keeps the parsed ranges, so no lookup parses ``spec.ips``.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ovnctl.caches._stores import newest
from ovnctl.models import meta_generation, meta_name, meta_uid, object_meta
from ovnctl.models.ippool import IPPoolSpec, parse_ippool

__all__ = ["IPPoolCache", "IPPoolRecord", "index_ippool_by_name", "index_ippool_by_namespace"]


@dataclass(frozen=True, slots=True)
class IPPoolRecord:
    """One IPPool as the reconciler and the pool chooser need it."""

    name: str
    uid: str
    generation: int
    created: str
    """``metadata.creationTimestamp``: of two overlapping pools, the older one serves."""
    spec: IPPoolSpec
    status_json: str

    @property
    def status(self) -> dict[str, Any]:
        return dict(json.loads(self.status_json))


def index_ippool_by_name(body: Mapping[str, Any]) -> dict[str, IPPoolRecord]:
    """Index function: the record by IPPool name."""
    metadata = object_meta(body)
    name = meta_name(metadata)
    if name is None:
        return {}
    return {
        name: IPPoolRecord(
            name=name,
            uid=meta_uid(metadata),
            generation=meta_generation(metadata),
            created=str(metadata.get("creationTimestamp", "")),
            spec=parse_ippool(body),
            status_json=json.dumps(body.get("status") or {}, sort_keys=True),
        )
    }


def index_ippool_by_namespace(body: Mapping[str, Any]) -> dict[str, str]:
    """Index function: each namespace in ``spec.namespaces`` → IPPool name."""
    name = meta_name(object_meta(body))
    if name is None:
        return {}
    return dict.fromkeys(parse_ippool(body).namespaces, name)


class IPPoolCache:
    """Read-only lookups over the IPPool indexes."""

    def __init__(
        self,
        *,
        by_name: Mapping[str, Collection[IPPoolRecord]],
        by_namespace: Mapping[str, Collection[str]],
    ) -> None:
        self._by_name = by_name
        self._by_namespace = by_namespace

    def get(self, name: str) -> IPPoolRecord | None:
        record: IPPoolRecord | None = newest(self._by_name.get(name))
        return record

    def __iter__(self) -> Iterator[IPPoolRecord]:
        for store in list(self._by_name.values()):
            yield from store

    def __len__(self) -> int:
        return len(self._by_name)

    def names_for_namespace(self, namespace: str) -> list[str]:
        """Pools whose ``spec.namespaces`` lists ``namespace``, sorted by name."""
        return sorted(self._by_namespace.get(namespace) or ())

    def names_for_subnet(self, subnet: str) -> list[str]:
        """Pools of ``subnet``, sorted by name (a handful per subnet: a scan is fine)."""
        return sorted(r.name for r in self if r.spec.subnet == subnet)
