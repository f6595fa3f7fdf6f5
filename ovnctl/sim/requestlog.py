"""The request log: what clients asked of the server, for assertions and benchmarks.

Tests assert on API traffic ("zero GETs of network-attachment-definitions",
"one patch per pod"), so every request is recorded with its Kubernetes verb,
resource and HTTP status. Recording is one small tuple-like object and one
counter increment; the entry list is bounded so a long benchmark cannot grow
it without limit (the counters are exact regardless).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["VERBS", "LoggedRequest", "RequestLog"]

VERBS: tuple[str, ...] = (
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedRequest:
    """One request: Kubernetes verb, what it addressed, and the HTTP status it got.

    ``resource`` is the plural (``pods``, ``network-attachment-definitions``);
    it is empty for non-resource requests (discovery, ``/version``), whose
    ``path`` says what was asked.
    """

    verb: str
    group: str
    version: str
    resource: str
    subresource: str | None
    namespace: str | None
    name: str | None
    status: int
    path: str
    content_type: str | None = None
    user_agent: str | None = None
    """Who sent it: tells replicas of one controller apart in a test."""


class RequestLog:
    """Recorded requests (bounded) and exact counts per ``(verb, group, resource)``.

    Written by the server's loop and read by tests from other threads: every
    read works on a copy taken under a lock, never on the live containers.
    """

    def __init__(self, *, max_entries: int = 100_000) -> None:
        self._entries: collections.deque[LoggedRequest] = collections.deque(maxlen=max_entries)
        self._counts: collections.Counter[tuple[str, str, str]] = collections.Counter()
        self._lock = threading.Lock()
        self.total = 0

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)
            self._counts[(entry.verb, entry.group, entry.resource)] += 1
            self.total += 1

    @property
    def entries(self) -> list[LoggedRequest]:
        """The most recent requests, oldest first (at most ``max_entries``)."""
        with self._lock:
            return list(self._entries)

    def _count_items(self) -> list[tuple[tuple[str, str, str], int]]:
        with self._lock:
            return list(self._counts.items())

    def count(
        self,
        *,
        verb: str | None = None,
        resource: str | None = None,
        group: str | None = None,
    ) -> int:
        """How many requests match; ``None`` matches anything.

        ``resource`` may be a plural (``pods``) or ``plural.group``
        (``network-attachment-definitions.k8s.cni.cncf.io``).
        """
        if resource is not None and "." in resource and group is None:
            resource, _, group = resource.partition(".")
        return sum(
            n
            for (v, g, r), n in self._count_items()
            if (verb is None or v == verb)
            and (resource is None or r == resource)
            and (group is None or g == group)
        )

    def counts(self) -> dict[tuple[str, str], int]:
        """Counts per ``(verb, resource)`` (groups folded together), for quick assertions."""
        folded: collections.Counter[tuple[str, str]] = collections.Counter()
        for (verb, _group, resource), n in self._count_items():
            folded[(verb, resource)] += n
        return dict(folded)

    def find(
        self,
        *,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
    ) -> list[LoggedRequest]:
        """The retained entries matching all the given fields."""
        return [
            e
            for e in self.entries
            if (verb is None or e.verb == verb)
            and (resource is None or e.resource == resource)
            and (namespace is None or e.namespace == namespace)
            and (name is None or e.name == name)
        ]

    def reset(self) -> None:
        """Forget everything recorded so far (counts too)."""
        with self._lock:
            self._entries.clear()
            self._counts.clear()
            self.total = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "entries": [asdict(e) for e in self.entries],
            "counts": [[v, g, r, n] for (v, g, r), n in self._count_items()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RequestLog:
        """A copy of a log fetched from a server in another process."""
        log = cls(max_entries=max(1, len(data.get("entries", ()))))
        log._entries.extend(LoggedRequest(**e) for e in data.get("entries", ()))
        for verb, group, resource, n in data.get("counts", ()):
            log._counts[(verb, group, resource)] = n
        log.total = int(data.get("total", 0))
        return log

    def __iter__(self) -> Iterable[LoggedRequest]:  # pragma: no cover - convenience
        return iter(self.entries)
