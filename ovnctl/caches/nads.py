"""The NAD cache: NetworkAttachmentDefinitions resolved without API calls.

Kube-OVN's controller fetched NADs with a live GET on every subnet reconcile
and per pod inside it (its issue #5353: 11% of CPU, an add-subnet queue of
~100). Here a NAD is parsed into a :class:`~ovnctl.models.NadConfig` once,
when its watch event arrives, and every lookup is a dict access.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ovnctl.caches._stores import newest
from ovnctl.models import NadConfig, parse_nad

__all__ = ["NadCache", "NadKey", "index_nad_by_key"]

NadKey = tuple[str, str]
"""``(namespace, name)`` of a NAD."""


def index_nad_by_key(body: Mapping[str, Any]) -> dict[NadKey, NadConfig]:
    """Index function: one NAD object to its parsed configuration, keyed by (ns, name)."""
    config = parse_nad(body=body)
    return {config.key: config}


class NadCache:
    """Read-only lookups over the NAD index."""

    def __init__(self, *, by_key: Mapping[NadKey, Collection[NadConfig]]) -> None:
        self._by_key = by_key

    def get(self, namespace: str, name: str) -> NadConfig | None:
        """The parsed NAD, or None when no such NAD exists."""
        return newest(self._by_key.get((namespace, name)))

    def __len__(self) -> int:
        return len(self._by_key)
