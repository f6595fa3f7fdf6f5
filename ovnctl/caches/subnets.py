"""The Subnet cache: every Subnet, validated once per watch event.

The by-name index holds a :class:`SubnetRecord`: the validated
:class:`~ovnctl.models.SubnetSpec` (or the validation error), the metadata the
reconciler needs for finalizers and conditions, and the current status, so
that status is written only when it would change. The secondary indexes
(provider, namespace, default) are built from the raw spec fields, so that a
subnet whose spec is invalid can still be found by the provider it names and
be told why it cannot serve.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ovnctl.caches._stores import newest
from ovnctl.models import (
    PRIMARY_PROVIDER,
    ModelError,
    meta_deleting,
    meta_finalizers,
    meta_generation,
    meta_name,
    meta_uid,
    object_meta,
)
from ovnctl.models.subnet import SubnetSpec, parse_subnet

__all__ = [
    "SubnetCache",
    "SubnetRecord",
    "index_subnet_by_name",
    "index_subnet_by_namespace",
    "index_subnet_by_provider",
    "index_subnet_default",
]


@dataclass(frozen=True, slots=True)
class SubnetRecord:
    """One Subnet as the reconcilers need it."""

    name: str
    uid: str
    resource_version: str
    generation: int
    created: str
    """``metadata.creationTimestamp``: the older of two conflicting subnets wins."""
    deleting: bool
    finalizers: tuple[str, ...]
    spec: SubnetSpec | None
    """The validated spec, or None when :attr:`error` says why it is invalid."""
    error: ModelError | None
    provider: str
    """``spec.provider`` as written (``ovn`` when absent), valid or not."""
    status_json: str
    """The current ``status`` as canonical JSON; compared, never parsed on the hot path."""

    @property
    def status(self) -> dict[str, Any]:
        return dict(json.loads(self.status_json))


def _name_and_spec(body: Mapping[str, Any]) -> tuple[str | None, Mapping[str, Any]]:
    spec = body.get("spec")
    return meta_name(object_meta(body)), (spec if isinstance(spec, Mapping) else {})


def _provider(spec: Mapping[str, Any]) -> str:
    """``spec.provider`` as the validator reads it (stripped, ``ovn`` when empty).

    Keyed exactly as :func:`~ovnctl.models.subnet.parse_subnet` normalises it, so a
    NAD event for ``attachnet.default.ovn`` finds a subnet that wrote the provider
    with stray blanks; a non-string is kept as its repr (the spec is invalid anyway).
    """
    provider = spec.get("provider")
    if provider is None:
        return PRIMARY_PROVIDER
    if not isinstance(provider, str):
        return repr(provider)
    return provider.strip() or PRIMARY_PROVIDER


def _record(body: Mapping[str, Any]) -> SubnetRecord | None:
    metadata = object_meta(body)
    name = meta_name(metadata)
    if name is None:
        return None
    spec: SubnetSpec | None = None
    error: ModelError | None = None
    try:
        spec = parse_subnet(body=body)
    except ModelError as exc:
        error = exc
    _, raw_spec = _name_and_spec(body)
    return SubnetRecord(
        name=name,
        uid=meta_uid(metadata),
        resource_version=str(metadata.get("resourceVersion", "")),
        generation=meta_generation(metadata),
        created=str(metadata.get("creationTimestamp", "")),
        deleting=meta_deleting(metadata),
        finalizers=meta_finalizers(metadata),
        spec=spec,
        error=error,
        provider=_provider(raw_spec),
        status_json=json.dumps(body.get("status") or {}, sort_keys=True),
    )


def index_subnet_by_name(body: Mapping[str, Any]) -> dict[str, SubnetRecord]:
    """Index function: the record by Subnet name."""
    record = _record(body)
    return {record.name: record} if record is not None else {}


def index_subnet_by_provider(body: Mapping[str, Any]) -> dict[str, str]:
    """Index function: provider string (as written) → Subnet name."""
    name, spec = _name_and_spec(body)
    return {_provider(spec): name} if name is not None else {}


def index_subnet_by_namespace(body: Mapping[str, Any]) -> dict[str, str]:
    """Index function: each namespace in ``spec.namespaces`` → Subnet name."""
    name, spec = _name_and_spec(body)
    namespaces = spec.get("namespaces")
    if name is None or not isinstance(namespaces, list):
        return {}
    return {ns.strip(): name for ns in namespaces if isinstance(ns, str) and ns.strip()}


def index_subnet_default(body: Mapping[str, Any]) -> dict[bool, str]:
    """Index function: ``True`` → Subnet name, for subnets with ``default: true``."""
    name, spec = _name_and_spec(body)
    return {True: name} if name is not None and spec.get("default") is True else {}


class SubnetCache:
    """Read-only lookups over the Subnet indexes."""

    def __init__(
        self,
        *,
        by_name: Mapping[str, Collection[SubnetRecord]],
        by_provider: Mapping[str, Collection[str]],
        by_namespace: Mapping[str, Collection[str]],
        default: Mapping[bool, Collection[str]],
    ) -> None:
        self._by_name = by_name
        self._by_provider = by_provider
        self._by_namespace = by_namespace
        self._default = default

    def get(self, name: str) -> SubnetRecord | None:
        record: SubnetRecord | None = newest(self._by_name.get(name))
        return record

    def __iter__(self) -> Iterator[SubnetRecord]:
        for store in list(self._by_name.values()):
            yield from store

    def __len__(self) -> int:
        return len(self._by_name)

    def names_for_provider(self, provider: str) -> list[str]:
        """Subnets naming ``provider``, sorted by name: the order a pod's attachment tries them
        in (docs/allocation.md, "Which subnet an attachment uses")."""
        return sorted(self._by_provider.get(provider) or ())

    def names_for_namespace(self, namespace: str) -> list[str]:
        """Subnets whose ``spec.namespaces`` lists ``namespace``, sorted by name."""
        return sorted(self._by_namespace.get(namespace) or ())

    def default_names(self) -> list[str]:
        """Subnets with ``default: true``, sorted by name."""
        return sorted(self._default.get(True) or ())
