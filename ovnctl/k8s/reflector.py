"""LIST+WATCH of one resource on its own thread, reporting reduced objects.

The loop every informer runs, as client-go's reflector and kube-rs' watcher
do: LIST in pages, WATCH from the list's resourceVersion (BOOKMARKs keep it
fresh), resume from the last version seen when a stream ends, and LIST again
on ``410 Gone`` or when a re-list is requested. Each complete LIST is reported
as one snapshot, which the consumer swaps in whole, so objects deleted while
the watch was away disappear too (Kopf's re-list reports nothing for them).

Each object is passed through ``reduce`` on this thread as soon as it is
parsed, so whole bodies are never kept: memory follows what the caches keep.
Blocking HTTP runs here, never on the event loop; the consumer hands results
to its loop. A resource that is not served (a CRD not installed yet) is
reported as an empty snapshot and looked for again later.

It uses the official client's connection handling (auth, TLS, pooling) but
reads raw JSON lines: no generated models.

Failures back off as client-go's reflector does (see ``docs/architecture.md``,
"Watches back off with jitter"): a failed LIST or WATCH waits
:func:`ovnctl.queue.watch_backoff` (0.8 s doubling to 30 s, times a random
factor in [1, 2), from 0.8 s again after two minutes without a failure); a
watch that ends within a second having delivered nothing counts as a failure,
so a server that closes streams at once is not hammered. Each WATCH asks for
``timeoutSeconds`` drawn in [``min_watch_timeout_s``, 2 x that), client-go's
``minWatchTimeout * (1 + rand)``, so watches opened together do not all end
and reconnect together.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import kubernetes.client
import urllib3

from ovnctl.k8s.api import Resource
from ovnctl.k8s.transport import decode_json
from ovnctl.queue import Clock, RateLimiter, RealClock, watch_backoff

__all__ = ["Reflector"]

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Gone(Exception):
    """The resourceVersion is too old (410): LIST again."""


class _Relist(Exception):
    """A re-list was requested (periodic resync)."""


class _NotServed(Exception):
    """404 on the collection: the resource does not exist (yet) on this server."""


class Reflector(Generic[T]):
    """Streams one resource to ``on_snapshot`` / ``on_event`` until :meth:`stop`.

    ``on_snapshot(objects)`` after each complete LIST; ``on_event(type,
    object)`` for ``ADDED``, ``MODIFIED`` and ``DELETED``. Both are called on
    the reflector's thread with already-reduced objects.
    """

    def __init__(
        self,
        *,
        configuration: kubernetes.client.Configuration,
        resource: Resource,
        reduce: Callable[[Mapping[str, Any]], T],
        on_snapshot: Callable[[list[T]], None],
        on_event: Callable[[str, T], None],
        namespace: str | None = None,
        field_selector: str | None = None,
        page_size: int = 500,
        min_watch_timeout_s: float = 300.0,
        backoff: RateLimiter[str] | None = None,
        absent_retry_s: float = 30.0,
        user_agent: str | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """``backoff`` defaults to :func:`~ovnctl.queue.watch_backoff`; ``clock`` and ``rng``
        (the watch timeouts' and the default backoff's) are injected by tests."""
        self._client = kubernetes.client.ApiClient(configuration)
        if user_agent:
            self._client.user_agent = user_agent
        self._path = resource.path(namespace=namespace)
        self._reduce = reduce
        self._on_snapshot = on_snapshot
        self._on_event = on_event
        self._selector = field_selector
        self._page_size = page_size
        self._min_watch_timeout_s = min_watch_timeout_s
        self._clock: Clock = clock if clock is not None else RealClock()
        self._rng = rng if rng is not None else random.Random()
        self._backoff: RateLimiter[str] = (
            backoff if backoff is not None else watch_backoff(clock=self._clock, rng=self._rng)
        )
        self._absent_retry_s = absent_retry_s
        self._stop = threading.Event()
        self._relist = threading.Event()
        self._response: Any = None
        self.lists = 0
        """How many complete LISTs ran (1 at start, +1 per 410 or requested re-list)."""

    @property
    def name(self) -> str:
        return self._path

    # -- lifecycle -----------------------------------------------------------

    def run(self) -> None:
        """LIST, WATCH, resume, re-LIST; returns once :meth:`stop` is called."""
        version: str | None = None
        while not self._stop.is_set():
            try:
                if version is None or self._relist.is_set():
                    self._relist.clear()
                    version = self._list()
                version = self._watch(version)
            except (_Gone, _Relist) as reason:
                if isinstance(reason, _Gone):
                    log.info("watch %s: resourceVersion expired, listing again", self._path)
                version = None
            except _NotServed:
                log.info(
                    "%s is not served; looking again in %.0fs", self._path, self._absent_retry_s
                )
                self.lists += 1
                self._on_snapshot([])
                version = None
                self._stop.wait(self._absent_retry_s)
            except Exception as exc:
                if self._stop.is_set():
                    break
                delay = self._backoff.when(self._path)
                log.warning("watch %s failed: %s; retrying in %.1fs", self._path, exc, delay)
                self._pause(delay)
        self._client.close()

    def stop(self) -> None:
        """Stop now, interrupting an open watch stream."""
        self._stop.set()
        self._interrupt()

    def request_relist(self) -> None:
        """LIST again soon (a resync): the snapshot diff finds anything missed."""
        self._relist.set()
        self._interrupt()

    def _pause(self, seconds: float) -> None:
        """Wait before a retry; :meth:`stop` ends the wait at once."""
        self._stop.wait(seconds)

    def _interrupt(self) -> None:
        response = self._response
        if response is not None:
            with contextlib.suppress(Exception):  # already closed: nothing to interrupt
                response.shutdown()

    # -- LIST ----------------------------------------------------------------

    def _list(self) -> str:
        objects: list[T] = []
        token: str | None = None
        while True:
            query = {"limit": str(self._page_size)}
            if self._selector:
                query["fieldSelector"] = self._selector
            if token:
                query["continue"] = token
            # The json module, not orjson, for LIST pages: what the caches keep of a
            # 500-object page decoded by orjson left the heap about 80 bytes per object
            # larger (fragmentation: `ovnctl bench --scenario memory` went over its
            # 2,048-byte target), while for one-object watch lines both cost the same.
            # Pages are not the hot path; watch lines (below) are.
            page = json.loads(self._get(query, stream=False))
            objects.extend(self._reduce(_shared(item)) for item in page.get("items") or [])
            metadata = page.get("metadata") or {}
            token = metadata.get("continue")
            if not token:
                self.lists += 1
                self._on_snapshot(objects)
                return str(metadata.get("resourceVersion") or "")

    # -- WATCH ---------------------------------------------------------------

    def _watch(self, version: str) -> str:
        timeout_s = int(self._min_watch_timeout_s * (1.0 + self._rng.random()))
        query = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout_s),
        }
        if self._selector:
            query["fieldSelector"] = self._selector
        if version:
            query["resourceVersion"] = version
        started = self._clock.now()
        events = 0
        response = self._get(query, stream=True, timeout_s=timeout_s)
        self._response = response
        # A stop() or request_relist() that came while the request was in flight found
        # no response to interrupt: reading the stream would wait for its next event,
        # or for its timeout (up to ten minutes) on a quiet kind.
        interrupted = self._stop.is_set() or self._relist.is_set()
        try:
            buffer = b""
            for chunk in () if interrupted else response.stream(amt=None, decode_content=False):
                if self._stop.is_set() or self._relist.is_set():
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        events += 1
                        version = self._dispatch(decode_json(line), version)
        except (urllib3.exceptions.HTTPError, OSError):
            if not self._stop.is_set() and not self._relist.is_set():
                raise
        finally:
            self._response = None
            response.release_conn()
        if self._relist.is_set():
            raise _Relist()
        if not self._stop.is_set() and events == 0 and self._clock.now() - started < 1.0:
            # client-go's "very short watch": without this a server that closes
            # every stream at once would be re-watched in a tight loop.
            raise RuntimeError("very short watch: closed within a second, no event received")
        return version

    def _dispatch(self, event: dict[str, Any], version: str) -> str:
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Gone()
            raise RuntimeError(f"watch error: {obj.get('message') or obj}")
        new_version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
        if kind in ("ADDED", "MODIFIED", "DELETED"):
            self._on_event(kind, self._reduce(_shared(obj)))
        return new_version

    # -- plumbing ------------------------------------------------------------

    def _get(self, query: Mapping[str, str], *, stream: bool, timeout_s: int = 0) -> Any:
        headers = {"Accept": "application/json"}
        _, url, headers, _, _ = self._client.param_serialize(
            method="GET",
            resource_path=self._path,
            query_params=list(query.items()),
            header_params=headers,
            auth_settings=["BearerToken"],
        )
        # Long reads for watches (the server ends them at timeoutSeconds); short otherwise.
        read_timeout = timeout_s + 30 if stream else 60
        try:
            wrapped = self._client.call_api(
                "GET", url, header_params=headers, _request_timeout=(10, read_timeout)
            )
        except kubernetes.client.ApiException as exc:
            raise RuntimeError(f"GET {self._path}?{_describe(query)}: {exc.reason}") from None
        response = wrapped.response  # urllib3's response, not yet read
        status = int(response.status)
        if status >= 400:
            body = response.data
            response.release_conn()
            if status == 410:
                raise _Gone()
            if status == 404 and not stream:
                raise _NotServed()
            raise RuntimeError(f"GET {self._path}?{_describe(query)}: {status}: {body[:300]!r}")
        if not stream:
            data = response.data
            response.release_conn()
            return data
        return response


def _shared(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with its namespace string made the one shared copy (``sys.intern``).

    Thousands of objects name the same few namespaces; what the caches keep of
    them (keys, records, owners) then holds one string per namespace, not one
    per object (56 bytes or more each).
    """
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        namespace = metadata.get("namespace")
        if type(namespace) is str:
            metadata["namespace"] = sys.intern(namespace)
    return obj


def _describe(query: Mapping[str, str]) -> str:
    return "&".join(f"{k}={quote(v)}" for k, v in query.items())
