"""Stored versions of objects, and the events and watch streams that carry them.

The store (:mod:`ovnctl.sim.store`) keeps every object as a :class:`Stored`:
one immutable version whose JSON encoding is computed once and shared by
every list page and watch stream that sends it. Each write becomes one
:class:`Event`, which each :class:`Watcher` translates into what its client
sees (an object leaving a label selector looks DELETED to that watch).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from ovnctl.sim.selectors import Matcher

__all__ = ["Event", "ListResult", "ObjectKey", "StorageKey", "Stored", "Watcher"]

StorageKey = tuple[str, str]
"""``(group, plural)``: where all versions of a kind are stored."""
ObjectKey = tuple[str, str]
"""``(namespace or "", name)`` of one object."""


class Stored:
    """One immutable version of an object, with its JSON encoding cached."""

    __slots__ = ("_raw", "obj")

    def __init__(self, obj: dict[str, Any]) -> None:
        self.obj = obj
        self._raw: bytes | None = None

    @property
    def raw(self) -> bytes:
        if self._raw is None:
            self._raw = json.dumps(self.obj, separators=(",", ":")).encode()
        return self._raw

    @property
    def meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.obj["metadata"]
        return meta

    @property
    def rv(self) -> int:
        return int(self.meta["resourceVersion"])


@dataclass(frozen=True, slots=True)
class Event:
    """A write as watchers see it: ``old`` is the previous version for MODIFIED."""

    rv: int
    type: str
    stored: Stored
    old: Stored | None


@dataclass(slots=True)
class ListResult:
    items: list[Stored]
    resource_version: int
    continue_token: str | None
    remaining: int | None


@dataclass(eq=False, slots=True)
class Watcher:
    """One open watch stream: its filters and the queue the store feeds.

    ``None`` in the queue tells the stream to end (a cut or a deleted CRD).
    """

    key: StorageKey
    namespace: str | None
    labels: Matcher
    fields: Matcher
    queue: asyncio.Queue[tuple[str, Stored] | None] = field(default_factory=asyncio.Queue)

    def _matches(self, stored: Stored | None) -> bool:
        if stored is None:
            return False
        if self.namespace is not None and stored.meta.get("namespace") != self.namespace:
            return False
        return self.labels(stored.obj) and self.fields(stored.obj)

    def translate(self, event: Event) -> tuple[str, Stored] | None:
        """The event this watcher sees: objects moving out of its selector look DELETED."""
        now = self._matches(event.stored)
        if event.type == "MODIFIED":
            before = self._matches(event.old)
            if now and before:
                return ("MODIFIED", event.stored)
            if now:
                return ("ADDED", event.stored)
            if before:
                return ("DELETED", event.stored)
            return None
        return (event.type, event.stored) if now else None

    def offer(self, event: Event) -> None:
        seen = self.translate(event)
        if seen is not None:
            self.queue.put_nowait(seen)
