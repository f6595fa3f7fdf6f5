"""The StatefulSet cache: only what deciding a sticky address needs.

A StatefulSet pod keeps its IP and MAC across deletion while its ordinal is
below the StatefulSet's ``spec.replicas`` (Kube-OVN's behaviour). Deciding
that needs the StatefulSet's uid and replicas, nothing else: the record is a
two-field slotted object, so a cluster with thousands of StatefulSets costs
little (see ``ovnctl.bench.memory``). Filled by one StatefulSet LIST+WATCH.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ovnctl.caches._stores import newest
from ovnctl.models import meta_key, meta_uid, object_meta

__all__ = ["StatefulSetCache", "StatefulSetRecord", "index_statefulset"]


@dataclass(frozen=True, slots=True)
class StatefulSetRecord:
    """A StatefulSet's uid and ``spec.replicas`` (1 when unset, as the API defaults it)."""

    uid: str
    replicas: int


def index_statefulset(body: Mapping[str, Any]) -> dict[tuple[str, str], StatefulSetRecord]:
    """Index function: ``(namespace, name)`` -> the record."""
    metadata = object_meta(body)
    key = meta_key(metadata)
    if key is None:
        return {}
    spec = body.get("spec") or {}
    replicas = spec.get("replicas") if isinstance(spec, Mapping) else None
    count = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1
    return {key: StatefulSetRecord(uid=meta_uid(metadata), replicas=count)}


class StatefulSetCache:
    """Read-only lookups over the StatefulSet index."""

    def __init__(self, *, by_key: Mapping[tuple[str, str], Collection[StatefulSetRecord]]) -> None:
        self._by_key = by_key

    def get(self, namespace: str, name: str) -> StatefulSetRecord | None:
        record: StatefulSetRecord | None = newest(self._by_key.get((namespace, name)))
        return record

    def __len__(self) -> int:
        return len(self._by_key)
