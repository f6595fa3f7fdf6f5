"""The controller's only door to the API server for requests: writes, GETs and paged LISTs.

The watches do not come through here: each bulk kind streams on its own
reflector thread (:mod:`ovnctl.k8s.reflector`, which shares this facade's
``Configuration``), and Kopf watches the Subnet kind
(:mod:`ovnctl.k8s.kopf_subnets`); see ``docs/architecture.md``.

Reconcilers never call the Kubernetes client directly; they are given a
:class:`KubeApi`, whose coroutines send JSON and return plain dicts: a pod
patch does not pay for deserialising the whole pod into generated models,
which matters at 100k pods. Requests go out on the event loop through
:class:`~ovnctl.k8s.transport.AsyncTransport`, configured from the
official client's ``Configuration`` (authentication, TLS, proxy); the
official client's thread-pooled ``ApiClient`` cost most of the controller's
CPU per allocated NIC (docs/bench.md).

Failures come back as one exception hierarchy whose classes say what the
caller should do: :class:`NotFound`, :class:`AlreadyExists`, :class:`Conflict`
(stale resourceVersion: re-read and retry), :class:`Invalid` (the request
itself is wrong: do not retry) and :class:`Transient` (429, 5xx, connection
errors: back off and retry).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import copy
import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from ovnctl import __version__
from ovnctl.k8s.transport import AsyncTransport, ConnectionFailed, decode_json, encode_json

if TYPE_CHECKING:
    from kubernetes.client import Configuration

__all__ = [
    "AlreadyExists",
    "ApiError",
    "Conflict",
    "Fenced",
    "Invalid",
    "KubeApi",
    "NotFound",
    "Resource",
    "Transient",
]

T = TypeVar("T")

JSON_MERGE_PATCH = "application/merge-patch+json"


@dataclasses.dataclass(frozen=True, slots=True)
class Resource:
    """A served resource: where its objects live in the API's URL space."""

    group: str
    version: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, *, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace is not None:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        if name is not None:
            base += f"/{quote(name, safe='')}"
        return base


class ApiError(Exception):
    """An API request failed; the subclass says how the caller should react."""

    def __init__(self, *, status: int, reason: str, message: str, verb: str, path: str) -> None:
        super().__init__(f"{verb} {path}: {status} {reason}: {message}")
        self.status = status
        self.reason = reason
        self.message = message


class NotFound(ApiError):
    """404: the object (or its resource) does not exist."""


class AlreadyExists(ApiError):
    """409 AlreadyExists on create."""


class Conflict(ApiError):
    """409 Conflict: the object changed since it was read; re-read and retry."""


class Invalid(ApiError):
    """400, 403, 405, 422: the request is wrong and retrying it will not help."""


class Transient(ApiError):
    """429, 5xx or a connection failure: retry later with backoff."""


class Fenced(Transient):
    """A write refused locally: this replica is not (or no longer surely) the leader."""


LIST_PAGE_RETRIES = 6
"""Tries after the first for one LIST page (0.2 s doubling to 3.2 s: about 9 s in all)."""
LIST_RETRY_FIRST_S = 0.2
LIST_RETRY_MAX_S = 3.2

_WRITE_VERBS = frozenset({"create", "update", "patch", "delete"})


def _classify(*, status: int, body: bytes, verb: str, path: str) -> ApiError:
    reason, message = "", body.decode("utf-8", "replace")[:500]
    try:
        decoded = decode_json(body) if body else {}
    except ValueError:
        decoded = {}
    if isinstance(decoded, dict):
        reason = str(decoded.get("reason", ""))
        message = str(decoded.get("message", message))
    cls: type[ApiError]
    if status == 404:
        cls = NotFound
    elif status == 409:
        cls = AlreadyExists if reason == "AlreadyExists" else Conflict
    elif status == 429 or status >= 500:
        cls = Transient
    else:
        cls = Invalid
    return cls(status=status, reason=reason, message=message, verb=verb, path=path)


class _Slots:
    """At most ``size`` holders, first come first served.

    Not :class:`asyncio.Semaphore`: on Python 3.11 its ``acquire`` scans every
    waiter, which with a thousand queued writes made each request cost time in
    the length of the queue.
    """

    def __init__(self, size: int) -> None:
        self._free = size
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def acquire(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed a slot just as it was cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):  # release() may have dropped it
                    self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes straight to the next in line
                return
        self._free += 1


class KubeApi:
    """Async JSON access to the API server.

    ``max_concurrency`` bounds the requests in flight at once (and the HTTP
    connections). Every
    request is counted per (verb, resource) in :attr:`request_counts`, which
    the metrics layer exports. ``write_fence``, when given, is asked before
    every write and a write is refused (:class:`Fenced`) unless it answers
    True: the leader election's guarantee that a replica which lost its lease
    never writes. It is asked again when the write's turn to be sent comes: a
    write that waited for a free slot while the API server was slow (exactly
    when a Lease is lost) may be past the renew deadline by then.
    """

    def __init__(
        self,
        *,
        configuration: Configuration,
        max_concurrency: int = 16,
        request_timeout: float = 30.0,
        on_request: Callable[[str, str, int], None] | None = None,
        write_fence: Callable[[], bool] | None = None,
        user_agent: str | None = None,
    ) -> None:
        self._configuration = configuration
        self._max_concurrency = max_concurrency
        self._transport = AsyncTransport(
            configuration,
            max_connections=max_concurrency,
            timeout=request_timeout,
            user_agent=user_agent or f"ovnctl/{__version__}",
        )
        self._slots: _Slots | None = None
        self._slots_loop: asyncio.AbstractEventLoop | None = None
        self._timeout = request_timeout
        self._on_request = on_request
        self._write_fence = write_fence
        self.request_counts: collections.Counter[tuple[str, str]] = collections.Counter()

    @property
    def configuration(self) -> Configuration:
        """The official client's configuration this facade uses (for reflectors)."""
        return self._configuration

    def sibling(self, *, max_concurrency: int) -> KubeApi:
        """Another facade on the same cluster with its own pool and no fence (leader election)."""
        configuration = copy.copy(self._configuration)
        return KubeApi(
            configuration=configuration,
            max_concurrency=max_concurrency,
            request_timeout=self._timeout,
            user_agent=self._transport.user_agent,
        )

    def set_write_fence(self, fence: Callable[[], bool] | None) -> None:
        self._write_fence = fence

    def close(self) -> None:
        """Close the connections (as a task when the loop still runs: prefer :meth:`aclose`)."""
        self._transport.close()

    async def aclose(self) -> None:
        await self._transport.aclose()

    # -- the verbs ---------------------------------------------------------

    async def get(self, resource: Resource, *, name: str, namespace: str | None = None) -> Any:
        return await self._request("GET", "get", resource, namespace=namespace, name=name)

    async def list_pages(
        self,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int = 500,
        page_retries: int = LIST_PAGE_RETRIES,
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """LIST in pages of ``limit`` so peak memory follows the page, not the kind.

        A page answered 429/5xx, or lost to a broken connection, is asked for again
        (same continue token) up to ``page_retries`` times with doubling pauses, as
        client-go's reflector retries its LIST: a read is safe to repeat, and one
        injected 500 must not fail a start-up that lists thousands of IP objects.
        """
        token: str | None = None
        while True:
            query: dict[str, str] = {"limit": str(limit)}
            if label_selector:
                query["labelSelector"] = label_selector
            if field_selector:
                query["fieldSelector"] = field_selector
            if token:
                query["continue"] = token
            for attempt in range(page_retries + 1):
                try:
                    page = await self._request(
                        "GET", "list", resource, namespace=namespace, query=query
                    )
                    break
                except Transient:
                    if attempt == page_retries:
                        raise
                    await asyncio.sleep(min(LIST_RETRY_MAX_S, LIST_RETRY_FIRST_S * 2**attempt))
            yield list(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return

    async def create(
        self,
        resource: Resource,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        read_back: bool = True,
    ) -> Any:
        """POST; the created object, or None with ``read_back=False`` (not decoded)."""
        return await self._request(
            "POST", "create", resource, namespace=namespace, body=body, read_back=read_back
        )

    async def patch(
        self,
        resource: Resource,
        *,
        name: str,
        body: Any,
        namespace: str | None = None,
        subresource: str | None = None,
        content_type: str = JSON_MERGE_PATCH,
        read_back: bool = True,
    ) -> Any:
        """PATCH; the patched object, or None with ``read_back=False`` (not decoded)."""
        return await self._request(
            "PATCH",
            "patch",
            resource,
            namespace=namespace,
            name=name,
            subresource=subresource,
            body=body,
            content_type=content_type,
            read_back=read_back,
        )

    async def replace(
        self,
        resource: Resource,
        *,
        name: str,
        body: Mapping[str, Any],
        namespace: str | None = None,
        subresource: str | None = None,
    ) -> Any:
        return await self._request(
            "PUT",
            "update",
            resource,
            namespace=namespace,
            name=name,
            subresource=subresource,
            body=body,
        )

    async def delete(
        self,
        resource: Resource,
        *,
        name: str,
        namespace: str | None = None,
        uid: str | None = None,
    ) -> Any:
        """DELETE, with a uid precondition when given (never delete a newer namesake)."""
        body = {"preconditions": {"uid": uid}} if uid else None
        return await self._request(
            "DELETE", "delete", resource, namespace=namespace, name=name, body=body
        )

    # -- plumbing ------------------------------------------------------------

    async def _request(
        self,
        method: str,
        verb: str,
        resource: Resource,
        *,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        read_back: bool = True,
    ) -> Any:
        path = resource.path(namespace=namespace, name=name)
        self._check_fence(verb, path)
        if subresource:
            path += f"/{subresource}"
        data = encode_json(body) if body is not None else None
        loop = asyncio.get_running_loop()
        if self._slots is None or self._slots_loop is not loop:
            self._slots, self._slots_loop = _Slots(self._max_concurrency), loop
        slots = self._slots
        await slots.acquire()
        try:
            # Again, just before sending: the write may have waited for its slot.
            self._check_fence(verb, path)
            self.request_counts[(verb, resource.plural)] += 1
            status = 0
            try:
                status, raw = await self._transport.request(
                    method, path, query=query, body=data, content_type=content_type
                )
            except ConnectionFailed as exc:
                raise Transient(
                    status=0, reason="ConnectionError", message=str(exc), verb=verb, path=path
                ) from exc
            finally:
                if self._on_request is not None:
                    self._on_request(verb, resource.plural, status)
        finally:
            slots.release()
        if status >= 400:
            raise _classify(status=status, body=raw, verb=verb, path=path)
        return decode_json(raw) if raw and read_back else None

    def _check_fence(self, verb: str, path: str) -> None:
        if verb in _WRITE_VERBS and self._write_fence is not None and not self._write_fence():
            raise Fenced(
                status=0,
                reason="NotLeader",
                message="this replica does not hold the leader lease; write refused",
                verb=verb,
                path=path,
            )
