"""The Vip cache: every Vip's spec, metadata and status, read once per watch event.

Filled by the Vip informer (one LIST+WATCH). The Vip reconciler reserves the
address from it; the pool chooser finds the Vip a pod names; the start-up
rebuild reads the reserved addresses from the Vips' status.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ovnctl.caches._stores import newest
from ovnctl.models import (
    meta_deleting,
    meta_finalizers,
    meta_generation,
    meta_name,
    meta_uid,
    object_meta,
)

__all__ = ["VipCache", "VipRecord", "index_vip_by_name"]


def _text(spec: Mapping[str, Any], key: str) -> str:
    value = spec.get(key)
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class VipRecord:
    """One Vip as the reconciler needs it."""

    name: str
    uid: str
    resource_version: str
    generation: int
    deleting: bool
    finalizers: tuple[str, ...]
    subnet: str
    v4ip: str
    v6ip: str
    mac: str
    type: str
    status_json: str

    @property
    def status(self) -> dict[str, Any]:
        return dict(json.loads(self.status_json))

    @property
    def requested(self) -> tuple[str, ...]:
        """The addresses asked for in the spec (none: the next free ones)."""
        return tuple(ip for ip in (self.v4ip, self.v6ip) if ip)


def index_vip_by_name(body: Mapping[str, Any]) -> dict[str, VipRecord]:
    """Index function: the record by Vip name."""
    metadata = object_meta(body)
    name = meta_name(metadata)
    if name is None:
        return {}
    raw = body.get("spec")
    spec: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    return {
        name: VipRecord(
            name=name,
            uid=meta_uid(metadata),
            resource_version=str(metadata.get("resourceVersion", "")),
            generation=meta_generation(metadata),
            deleting=meta_deleting(metadata),
            finalizers=meta_finalizers(metadata),
            subnet=_text(spec, "subnet"),
            v4ip=_text(spec, "v4ip"),
            v6ip=_text(spec, "v6ip"),
            mac=_text(spec, "macAddress"),
            type=_text(spec, "type"),
            status_json=json.dumps(body.get("status") or {}, sort_keys=True),
        )
    }


class VipCache:
    """Read-only lookups over the Vip index."""

    def __init__(self, *, by_name: Mapping[str, Collection[VipRecord]]) -> None:
        self._by_name = by_name

    def get(self, name: str) -> VipRecord | None:
        record: VipRecord | None = newest(self._by_name.get(name))
        return record

    def __iter__(self) -> Iterator[VipRecord]:
        for store in list(self._by_name.values()):
            yield from store

    def names_for_subnet(self, subnet: str) -> list[str]:
        """Vips of ``subnet`` (a scan: Vips are few)."""
        return sorted(r.name for r in self if r.subnet == subnet)
