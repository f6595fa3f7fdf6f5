"""The readiness gate: no allocation before the caches and the IPAM are whole.

Allocating from a half-listed cache or a half-rebuilt IPAM is how duplicate
addresses happen (Kube-OVN #4304). The gate is a set of named conditions; the
controller starts its workers only when all are met, and ``/readyz`` reports
the ones still missing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

__all__ = ["ReadinessGate"]


class ReadinessGate:
    """All-of-these conditions, awaitable."""

    def __init__(self, conditions: Iterable[str]) -> None:
        self._missing = set(conditions)
        self._event = asyncio.Event()
        if not self._missing:
            self._event.set()

    def mark(self, condition: str) -> None:
        """Record that ``condition`` holds; idempotent."""
        self._missing.discard(condition)
        if not self._missing:
            self._event.set()

    @property
    def missing(self) -> frozenset[str]:
        """Conditions not met yet (empty when ready)."""
        return frozenset(self._missing)

    @property
    def ready(self) -> bool:
        return not self._missing

    async def wait(self) -> None:
        await self._event.wait()
