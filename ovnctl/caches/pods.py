"""The pod cache: what allocation needs of each pod, and nothing else.

At 100k pods the cache is the controller's largest structure, so a
:class:`PodRecord` keeps only the identity, node, phase, KubeVirt ownership and
the annotations ovnctl reads: the Multus networks request, the per-provider
``<provider>.kubernetes.io/*`` keys, and the live-migration marker. Whole pod
bodies (containers, status, managed fields) are never retained.

It also keeps the pods that hold no primary address, by creation second, so
that a default subnet appearing can find the pods created at or after it
without scanning every pod (see ``KeyRouter.subnet_changed``).
"""

from __future__ import annotations

import datetime
import sys
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ovnctl.caches._stores import newest
from ovnctl.models import (
    MIGRATION_JOB_ANNOTATION,
    NETWORKS_ANNOTATION,
    PRIMARY_PROVIDER,
    PROVIDER_KEY_INFIX,
    PROVIDER_KEY_NAMES,
    PodOwner,
    is_allocated,
    meta_key,
    pod_owner,
)

__all__ = [
    "PodCache",
    "PodKey",
    "PodRecord",
    "created_seconds",
    "index_pod_by_key",
    "index_pod_by_vm",
    "index_pod_without_primary",
]

PodKey = tuple[str, str]
"""``(namespace, name)`` of a pod."""

_FINISHED_PHASES = frozenset({"Succeeded", "Failed"})


def created_seconds(value: object) -> int:
    """``metadata.creationTimestamp`` (RFC 3339, whole seconds, the API server's clock)
    as seconds since the epoch; 0 when absent or unreadable (then nothing is ordered by it).
    """
    if not isinstance(value, str) or not value:
        return 0
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp())


def _kept(key: str) -> bool:
    if key in (NETWORKS_ANNOTATION, MIGRATION_JOB_ANNOTATION):
        return True
    head, sep, name = key.rpartition(PROVIDER_KEY_INFIX)
    return bool(sep and head) and name in PROVIDER_KEY_NAMES


@dataclass(frozen=True, slots=True)
class PodRecord:
    """One pod as the allocator needs it."""

    namespace: str
    name: str
    uid: str
    node_name: str
    phase: str
    host_network: bool
    deleting: bool
    owner: PodOwner
    annotations: tuple[tuple[str, str], ...]
    """Only the keys ovnctl reads, sorted; see the module docstring."""
    created: int = 0
    """``metadata.creationTimestamp`` in seconds (see :func:`created_seconds`); 0: unknown."""

    @property
    def key(self) -> PodKey:
        return (self.namespace, self.name)

    @property
    def finished(self) -> bool:
        """Succeeded or Failed: its containers will not run again."""
        return self.phase in _FINISHED_PHASES

    def annotation_map(self) -> dict[str, str]:
        return dict(self.annotations)

    def patched(self, annotations: Mapping[str, str]) -> PodRecord:
        """This record as the cache will show it once ``annotations`` are merged in."""
        merged = dict(self.annotations)
        merged.update((k, v) for k, v in annotations.items() if _kept(k))
        return replace(self, annotations=tuple(sorted(merged.items())))


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def pod_record(body: Mapping[str, Any]) -> PodRecord | None:
    """The record of a pod body, or None when it lacks a namespace or name."""
    metadata = body.get("metadata")  # inline, not object_meta(): runs for every pod event
    if not isinstance(metadata, Mapping):
        return None
    key = meta_key(metadata)
    if key is None:
        return None
    spec = _mapping(body.get("spec"))
    status = _mapping(body.get("status"))
    raw = metadata.get("annotations")
    annotations = (
        tuple(sorted((k, v) for k, v in raw.items() if isinstance(v, str) and _kept(k)))
        if isinstance(raw, Mapping)
        else ()
    )
    return PodRecord(
        namespace=key[0],
        name=key[1],
        uid=str(metadata.get("uid", "")),
        node_name=str(spec.get("nodeName") or ""),
        phase=sys.intern(str(status.get("phase") or "")),  # a few values: one string each
        host_network=spec.get("hostNetwork") is True,
        deleting=bool(metadata.get("deletionTimestamp")),
        owner=pod_owner(pod=body),
        annotations=annotations,
        created=created_seconds(metadata.get("creationTimestamp")),
    )


def index_pod_by_key(body: Mapping[str, Any]) -> dict[PodKey, PodRecord]:
    """Index function: the record by (namespace, name)."""
    record = pod_record(body)
    return {record.key: record} if record is not None else {}


def index_pod_by_vm(body: Mapping[str, Any]) -> dict[PodKey, str]:
    """Index function: (namespace, VM name) → pod name, for virt-launcher pods only."""
    metadata = body.get("metadata")
    if not isinstance(metadata, Mapping) or not metadata.get("namespace"):
        return {}
    owner = pod_owner(pod=body)
    if not owner.is_vm:
        return {}
    return {(owner.namespace, owner.name): str(metadata.get("name", ""))}


def index_pod_without_primary(body: Mapping[str, Any]) -> dict[int, PodKey]:
    """Index function: creation second → pod key, for running pods that hold no primary
    address (``ovn.kubernetes.io/allocated`` not ``"true"``) and could hold one."""
    record = pod_record(body)
    if (
        record is None
        or record.host_network
        or record.deleting
        or record.finished
        or is_allocated(annotations=dict(record.annotations), provider=PRIMARY_PROVIDER)
    ):
        return {}
    return {record.created: record.key}


class PodCache:
    """Read-only lookups over the pod indexes."""

    def __init__(
        self,
        *,
        by_key: Mapping[PodKey, Collection[PodRecord]],
        by_vm: Mapping[PodKey, Collection[str]],
        without_primary: Mapping[int, Collection[PodKey]] | None = None,
    ) -> None:
        self._by_key = by_key
        self._by_vm = by_vm
        self._without_primary: Mapping[int, Collection[PodKey]] = (
            without_primary if without_primary is not None else {}
        )

    def get(self, namespace: str, name: str) -> PodRecord | None:
        return newest(self._by_key.get((namespace, name)))

    def __iter__(self) -> Iterator[PodKey]:
        """The keys of every cached pod (a snapshot: safe while the cache changes)."""
        return iter(list(self._by_key))

    def records(self) -> list[PodRecord]:
        return [record for store in list(self._by_key.values()) for record in store]

    def pods_of_vm(self, namespace: str, vm: str) -> list[str]:
        """Names of the virt-launcher pods of a VM (source and target while migrating)."""
        return sorted(self._by_vm.get((namespace, vm)) or ())

    def without_primary_since(self, created: int) -> list[PodKey]:
        """Pods holding no primary address created at or after ``created`` (seconds).

        Costs one step per creation second of such pods, not one per cached pod.
        """
        return [
            key
            for second, keys in list(self._without_primary.items())
            if second >= created
            for key in list(keys)
        ]

    def __len__(self) -> int:
        return len(self._by_key)
