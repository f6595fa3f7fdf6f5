"""The IPAMClaim cache: each claim's network and status, read once per watch event.

Filled by the IPAMClaim informer (one LIST+WATCH of
``k8s.cni.cncf.io/v1alpha1`` ``ipamclaims``). The NIC planner checks a claim
a pod references; the claim reconciler writes its status; the keep rule
(:mod:`ovnctl.reconcilers.sticky`) holds a claim's address while it exists.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from ovnctl.caches._stores import newest
from ovnctl.models import meta_generation, meta_key, meta_uid, object_meta

__all__ = ["IPAMClaimCache", "IPAMClaimRecord", "index_ipamclaim"]


@dataclass(frozen=True, slots=True)
class IPAMClaimRecord:
    """One IPAMClaim: ``spec.network``, ``spec.interface`` and the current status."""

    uid: str
    generation: int
    network: str
    interface: str
    status_json: str

    @property
    def status(self) -> dict[str, Any]:
        return dict(json.loads(self.status_json))


def index_ipamclaim(body: Mapping[str, Any]) -> dict[tuple[str, str], IPAMClaimRecord]:
    """Index function: ``(namespace, name)`` -> the record."""
    metadata = object_meta(body)
    key = meta_key(metadata)
    if key is None:
        return {}
    raw = body.get("spec")
    spec: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    network, interface = spec.get("network"), spec.get("interface")
    return {
        key: IPAMClaimRecord(
            uid=meta_uid(metadata),
            generation=meta_generation(metadata),
            network=network if isinstance(network, str) else "",
            interface=interface if isinstance(interface, str) else "",
            status_json=json.dumps(body.get("status") or {}, sort_keys=True),
        )
    }


class IPAMClaimCache:
    """Read-only lookups over the IPAMClaim index."""

    def __init__(self, *, by_key: Mapping[tuple[str, str], Collection[IPAMClaimRecord]]) -> None:
        self._by_key = by_key

    def get(self, namespace: str, name: str) -> IPAMClaimRecord | None:
        record: IPAMClaimRecord | None = newest(self._by_key.get((namespace, name)))
        return record
