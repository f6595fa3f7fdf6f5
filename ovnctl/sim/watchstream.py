"""One watch stream of the simulated API server: query parameters in, event lines out.

Where it sits: :meth:`SimEmulator._sim_watch <ovnctl.sim.server.SimEmulator>`
resolves the resource, opens the chunked HTTP response and registers a
:class:`~ovnctl.sim.objects.Watcher` with the store; this module does the rest
of a watch's life in its three phases:

1. :func:`parse_watch_query`: selectors, ``resourceVersion``, ``timeoutSeconds``
   and the bookmark flags, each malformed value answered with a 400
   :class:`~ovnctl.sim.errors.ApiError` before any stream opens;
2. :func:`send_initial`: the events the store says the watcher must see first
   (synthetic ADDED for a watch without a version, or the retained history
   since it), in batches, then the ``initial-events-end`` bookmark if asked;
3. :func:`send_events`: the live events until the client's timeout, a cut or a
   deleted CRD, joining a backlog into one write and sending bookmarks while idle.

It knows nothing of HTTP routing or the store's internals: the server passes a
``render`` callable that turns a stored object into the bytes served at the
watched version, and a ``bookmark`` callable for bookmark lines.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ovnctl.sim.errors import ApiError
from ovnctl.sim.objects import Stored, Watcher
from ovnctl.sim.selectors import Matcher, parse_field_selector, parse_label_selector

__all__ = [
    "WATCH_BATCH",
    "WatchQuery",
    "bool_param",
    "event_line",
    "next_wait",
    "parse_watch_query",
    "send_events",
    "send_initial",
]

WATCH_BATCH = 512
"""Events joined into one write while draining a backlog."""

Write = Callable[[bytes], Awaitable[None]]
Render = Callable[[Stored], bytes]


def event_line(type_: str, payload: bytes) -> bytes:
    """One line of a watch stream: ``{"type":...,"object":...}`` and a newline."""
    return b'{"type":"' + type_.encode() + b'","object":' + payload + b"}\n"


def bool_param(query: Any, name: str) -> bool:
    """A boolean query parameter as kube-apiserver reads it."""
    return query.get(name) in ("true", "1", "True")


@dataclass(frozen=True, slots=True)
class WatchQuery:
    """The parsed query of one watch request."""

    labels: Matcher
    fields: Matcher
    since: int | None
    """``resourceVersion`` to resume after; None starts with the current objects."""
    timeout: float | None
    """``timeoutSeconds``: the stream ends cleanly after this long."""
    bookmarks: bool
    """``allowWatchBookmarks``."""
    initial_events_end: bool
    """Send the ``initial-events-end`` bookmark (bookmarks and ``sendInitialEvents``)."""

    def deadline_from(self, now: float) -> float | None:
        """When the stream ends if it opens at ``now``; None: only a cut ends it."""
        return now + self.timeout if self.timeout else None


def parse_watch_query(query: Any, name: str | None) -> WatchQuery:
    """Parse a watch's query; a watch on one object (``name``) is a field selector on its name.

    Raises :class:`ApiError` (400) for a malformed ``resourceVersion`` or
    ``timeoutSeconds``, and whatever the selector parsers raise.
    """
    if name is not None:
        selector = f"metadata.name={name}"
        field_selector = (
            f"{query['fieldSelector']},{selector}" if query.get("fieldSelector") else selector
        )
    else:
        field_selector = query.get("fieldSelector", "")
    labels = parse_label_selector(query.get("labelSelector"))
    fields = parse_field_selector(field_selector)
    since_raw = query.get("resourceVersion") or ""
    try:
        since = int(since_raw) if since_raw else None
    except ValueError:
        raise ApiError.bad_request(f"invalid resourceVersion {since_raw!r}") from None
    timeout_raw = query.get("timeoutSeconds")
    try:
        timeout = float(timeout_raw) if timeout_raw else None
    except ValueError:
        raise ApiError.bad_request(f"invalid timeoutSeconds {timeout_raw!r}") from None
    bookmarks = bool_param(query, "allowWatchBookmarks")
    return WatchQuery(
        labels=labels,
        fields=fields,
        since=since,
        timeout=timeout,
        bookmarks=bookmarks,
        initial_events_end=bookmarks and bool_param(query, "sendInitialEvents"),
    )


async def send_initial(
    write: Write,
    initial: list[tuple[str, Stored]],
    render: Render,
    bookmark: Callable[[bool], bytes],
    watch: WatchQuery,
) -> None:
    """Phase 2: the events due before any live one, then the initial-events-end bookmark."""
    for start in range(0, len(initial), WATCH_BATCH):
        chunk = initial[start : start + WATCH_BATCH]
        await write(b"".join(event_line(t, render(s)) for t, s in chunk))
    if watch.initial_events_end:
        await write(bookmark(True))


async def send_events(
    write: Write,
    watcher: Watcher,
    render: Render,
    bookmark: Callable[[bool], bytes],
    watch: WatchQuery,
    bookmark_interval: float,
    deadline: float | None,
) -> None:
    """Phase 3: live events until ``deadline`` or an end marker; bookmarks while idle.

    ``deadline`` is on the loop's clock (:meth:`WatchQuery.deadline_from`, taken
    before the initial events, so they count against ``timeoutSeconds``).
    Returns normally in every case; the caller writes the end of the stream.
    """
    loop = asyncio.get_running_loop()
    next_bookmark = loop.time() + bookmark_interval
    queue = watcher.queue
    while True:
        wait = next_wait(loop.time(), next_bookmark if watch.bookmarks else None, deadline)
        try:
            item = (
                await asyncio.wait_for(queue.get(), wait) if wait is not None else await queue.get()
            )
        except TimeoutError:
            if deadline is not None and loop.time() >= deadline:
                return
            if queue.empty():
                await write(bookmark(False))
            next_bookmark = loop.time() + bookmark_interval
            continue
        if item is None:
            return
        lines, ended = _drain(queue, event_line(item[0], render(item[1])), render)
        await write(b"".join(lines))
        if ended:
            return


def next_wait(now: float, next_bookmark: float | None, deadline: float | None) -> float | None:
    """How long to wait for an event before a bookmark or the deadline is due (None: forever)."""
    waits = [] if next_bookmark is None else [next_bookmark - now]
    if deadline is not None:
        waits.append(deadline - now)
    return max(0.0, min(waits)) if waits else None


def _drain(
    queue: asyncio.Queue[tuple[str, Stored] | None], first: bytes, render: Render
) -> tuple[list[bytes], bool]:
    """``first`` and whatever is already queued (up to a batch); True if an end marker came."""
    lines = [first]
    while not queue.empty() and len(lines) < WATCH_BATCH:
        more = queue.get_nowait()
        if more is None:
            return lines, True
        lines.append(event_line(more[0], render(more[1])))
    return lines, False
