"""The controller's only door to the API server for reads and writes.

Reconcilers never call the Kubernetes client directly; they are given a
:class:`KubeApi`, whose coroutines run the official client's blocking HTTP
calls on a bounded thread pool so the event loop (and Kopf's watches on it)
never blocks. Calls go through ``ApiClient.call_api`` with JSON bodies and
return plain dicts: the client still does authentication, TLS and connection
pooling, but a pod patch does not pay for deserialising the whole pod into
generated models, which matters at 100k pods.

Failures come back as one exception hierarchy whose classes say what the
caller should do: :class:`NotFound`, :class:`AlreadyExists`, :class:`Conflict`
(stale resourceVersion: re-read and retry), :class:`Invalid` (the request
itself is wrong: do not retry) and :class:`Transient` (429, 5xx, connection
errors: back off and retry).
"""

from __future__ import annotations

import asyncio
import collections
import copy
import dataclasses
import functools
import json
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import quote

import kubernetes.client
import urllib3

from ovnctl import __version__

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


_WRITE_VERBS = frozenset({"create", "update", "patch", "delete"})


def _classify(*, status: int, body: bytes, verb: str, path: str) -> ApiError:
    reason, message = "", body.decode("utf-8", "replace")[:500]
    try:
        decoded = json.loads(body) if body else {}
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


class KubeApi:
    """Async JSON access to the API server through the official client.

    ``max_concurrency`` bounds both the thread pool and the HTTP connection
    pool, so it is also the number of requests in flight at once. Every
    request is counted per (verb, resource) in :attr:`request_counts`, which
    the metrics layer exports. ``write_fence``, when given, is asked before
    every write and a write is refused (:class:`Fenced`) unless it answers
    True: the leader election's guarantee that a replica which lost its lease
    never writes.
    """

    def __init__(
        self,
        *,
        configuration: kubernetes.client.Configuration,
        max_concurrency: int = 16,
        request_timeout: float = 30.0,
        on_request: Callable[[str, str, int], None] | None = None,
        write_fence: Callable[[], bool] | None = None,
        user_agent: str | None = None,
    ) -> None:
        self._configuration = configuration
        configuration.connection_pool_maxsize = max_concurrency
        # urllib3 would resend a DELETE or PUT answered 429/503 after the server's
        # Retry-After, inside call_api: past the write fence, possibly after this replica
        # lost the Lease (the chaos benchmark caught exactly that). Here it retries only a
        # failed connect (nothing was sent) and a read error of a GET (reads are not
        # fenced), at once; every write failure surfaces as Transient and is retried by
        # the work queue, through the fence again.
        configuration.retries = urllib3.util.Retry(
            total=3,
            connect=3,
            read=3,
            status=0,
            redirect=0,
            other=0,
            allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}),
            respect_retry_after_header=False,
        )
        self._client = kubernetes.client.ApiClient(configuration)
        self._client.user_agent = user_agent or f"ovnctl/{__version__}"
        self._executor = ThreadPoolExecutor(
            max_workers=max_concurrency, thread_name_prefix="ovnctl-api"
        )
        self._timeout = request_timeout
        self._on_request = on_request
        self._write_fence = write_fence
        self._counts_lock = threading.Lock()
        self.request_counts: collections.Counter[tuple[str, str]] = collections.Counter()

    @property
    def configuration(self) -> kubernetes.client.Configuration:
        """The official client's configuration this facade uses (for reflectors)."""
        return self._configuration

    def sibling(self, *, max_concurrency: int) -> KubeApi:
        """Another facade on the same cluster with its own pool and no fence (leader election)."""
        configuration = copy.copy(self._configuration)
        return KubeApi(
            configuration=configuration,
            max_concurrency=max_concurrency,
            request_timeout=self._timeout,
            user_agent=self._client.user_agent,
        )

    def set_write_fence(self, fence: Callable[[], bool] | None) -> None:
        self._write_fence = fence

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._client.close()

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
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """LIST in pages of ``limit`` so peak memory follows the page, not the kind."""
        token: str | None = None
        while True:
            query: dict[str, str] = {"limit": str(limit)}
            if label_selector:
                query["labelSelector"] = label_selector
            if field_selector:
                query["fieldSelector"] = field_selector
            if token:
                query["continue"] = token
            page = await self._request("GET", "list", resource, namespace=namespace, query=query)
            yield list(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return

    async def create(
        self, resource: Resource, body: Mapping[str, Any], *, namespace: str | None = None
    ) -> Any:
        return await self._request("POST", "create", resource, namespace=namespace, body=body)

    async def patch(
        self,
        resource: Resource,
        *,
        name: str,
        body: Any,
        namespace: str | None = None,
        subresource: str | None = None,
        content_type: str = JSON_MERGE_PATCH,
    ) -> Any:
        return await self._request(
            "PATCH",
            "patch",
            resource,
            namespace=namespace,
            name=name,
            subresource=subresource,
            body=body,
            content_type=content_type,
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
    ) -> Any:
        path = resource.path(namespace=namespace, name=name)
        self._check_fence(verb, path)
        if subresource:
            path += f"/{subresource}"
        call = functools.partial(
            self._blocking_request, method, verb, resource, path, query, body, content_type
        )
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def _check_fence(self, verb: str, path: str) -> None:
        if verb in _WRITE_VERBS and self._write_fence is not None and not self._write_fence():
            raise Fenced(
                status=0,
                reason="NotLeader",
                message="this replica does not hold the leader lease; write refused",
                verb=verb,
                path=path,
            )

    def _blocking_request(
        self,
        method: str,
        verb: str,
        resource: Resource,
        path: str,
        query: Mapping[str, str] | None,
        body: Any,
        content_type: str,
    ) -> Any:
        # Again here, in the pool thread, just before sending: a write that waited for
        # a free thread while the API server was slow (exactly when a Lease is lost)
        # may be past the renew deadline by now.
        self._check_fence(verb, path)
        with self._counts_lock:
            self.request_counts[(verb, resource.plural)] += 1
        headers = {"Accept": "application/json", "Content-Type": content_type}
        _, url, headers, _, _ = self._client.param_serialize(
            method=method,
            resource_path=path,
            query_params=list(query.items()) if query else None,
            header_params=headers,
            auth_settings=["BearerToken"],
        )
        status = 0
        try:
            response = self._client.call_api(
                method,
                url,
                header_params=headers,
                body=body,
                _request_timeout=self._timeout,
            )
            status = int(response.status)
            data: bytes = response.read() or b""
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Transient(
                status=0, reason="ConnectionError", message=str(exc), verb=verb, path=path
            ) from exc
        finally:
            if self._on_request is not None:
                self._on_request(verb, resource.plural, status)
        if status >= 400:
            raise _classify(status=status, body=data, verb=verb, path=path)
        return json.loads(data) if data else None
