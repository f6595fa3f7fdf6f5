"""The HTTP face of the simulated API server: routing, bodies, watch streams, admin.

:class:`SimEmulator` is a kmock :class:`~kmock.KubernetesEmulator` whose
request entry point is replaced for Kubernetes paths. kmock's emulator keeps
objects as loosely merged dicts without resourceVersions, selectors,
pagination, watch resumption, status subresources or real error codes, and it
routes each request through its DSL (sorting every reaction per request) and
keeps every request body forever. Those are exactly the semantics and costs a
controller's tests and benchmarks depend on, so Kubernetes resource and
discovery requests are served here from :class:`~ovnctl.sim.store.Store`.
Paths that are neither (anything outside ``/api``, ``/apis``, ``/version``,
``/openapi`` and the ``/_sim/`` admin endpoints) still go to kmock, so its DSL
remains usable for ad-hoc endpoints: ``emulator['get /hello'] << b'hi'``.

Flow of one request: admin? -> parse route -> latency -> injected fault? ->
discovery or store call (writes go through field validation and admission
webhooks first, :mod:`~ovnctl.sim.field_validation` and
:mod:`~ovnctl.sim.webhook_dispatch`) -> JSON response (or a watch stream) with
``Warning`` headers (unknown/duplicate fields, webhook warnings) -> request log.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
import aiohttp.web
import attrs
from kmock import KubernetesEmulator

from ovnctl.sim import admin, discovery, field_validation
from ovnctl.sim.errors import ApiError, status_body
from ovnctl.sim.faults import Faults
from ovnctl.sim.requestlog import LoggedRequest, RequestLog
from ovnctl.sim.resources import ResourceInfo
from ovnctl.sim.selectors import parse_field_selector, parse_label_selector
from ovnctl.sim.store import Store, Stored
from ovnctl.sim.watchstream import (
    event_line,
    parse_watch_query,
    send_events,
    send_initial,
)
from ovnctl.sim.webhook_dispatch import WebhookAdmission

__all__ = ["Route", "SimEmulator", "parse_route"]

logger = logging.getLogger(__name__)

_JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Route:
    """What a resource URL addresses, and the Kubernetes verb of the request."""

    verb: str
    group: str
    version: str
    plural: str
    namespace: str | None
    name: str | None
    subresource: str | None


def parse_route(method: str, path: str, query: Any) -> Route | None:
    """The resource request a method and path make, or ``None`` for non-resource paths.

    Raises ``ApiError`` (405) for a method the addressed URL does not support.
    """
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    subresource = "/".join(rest[2:]) or None
    watch = query.get("watch") in ("true", "1")
    if method == "GET":
        verb = "watch" if watch else ("get" if name else "list")
    elif method == "POST" and name is None:
        verb = "create"
    elif method == "PUT" and name:
        verb = "update"
    elif method == "PATCH" and name:
        verb = "patch"
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        raise ApiError.method_not_allowed(
            f"the server does not allow this method on the requested resource: {method} {path}"
        )
    return Route(verb, group, version, plural, namespace, name, subresource)


def _add_warning_headers(response: aiohttp.web.StreamResponse, warnings: list[str]) -> None:
    """``Warning: 299 - "text"`` per distinct warning, as kube-apiserver sends its warnings."""
    for text in dict.fromkeys(warnings):
        clean = "".join(c if c.isprintable() else " " for c in text)
        quoted = clean.replace("\\", "\\\\").replace('"', '\\"')
        response.headers.add("Warning", f'299 - "{quoted}"')


def _json_response(
    body: bytes | dict[str, Any], *, status: int = 200, headers: dict[str, str] | None = None
) -> aiohttp.web.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    return aiohttp.web.Response(body=raw, status=status, content_type=_JSON, headers=headers)


def _present(info: ResourceInfo, stored: Stored) -> bytes:
    """The object as served at ``info``'s version (CRD versions share one storage)."""
    if stored.obj.get("apiVersion") == info.api_version:
        return stored.raw
    return json.dumps(
        {**stored.obj, "apiVersion": info.api_version}, separators=(",", ":")
    ).encode()


# Built-in kinds whose immediate DELETE answers with the object rather than a
# Status (upstream registries with ReturnDeletedObject, and graceful kinds).
_RETURNS_DELETED_OBJECT = frozenset({"pods", "services", "namespaces"})


def _deleted_status(info: ResourceInfo, stored: Stored) -> dict[str, Any]:
    """The ``Status`` upstream answers an immediate DELETE with, for most built-in kinds."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {
            "name": stored.meta["name"],
            "group": info.group,
            "kind": info.plural,
            "uid": stored.meta.get("uid"),
        },
    }


def _not_found() -> ApiError:
    return ApiError(
        code=404, reason="NotFound", message="the server could not find the requested resource"
    )


@attrs.define(kw_only=True)
class SimEmulator(KubernetesEmulator):
    """A kmock Kubernetes emulator with faithful API-server semantics (see module doc)."""

    store: Store = attrs.field(factory=Store)
    request_log: RequestLog = attrs.field(factory=RequestLog)
    faults: Faults = attrs.field(factory=Faults)
    bookmark_interval: float = 1.0
    server_address: str = "127.0.0.1"
    # Writes go through admission webhooks (or straight to the store when none are stored).
    webhooks: WebhookAdmission = attrs.field(
        default=attrs.Factory(lambda self: WebhookAdmission(self.store), takes_self=True)
    )
    _watch_tasks: set[asyncio.Task[Any]] = attrs.field(factory=set, init=False)

    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        path = raw_request.path
        if path.startswith("/_sim/"):
            return await admin.serve(self, raw_request)
        route: Route | None = None
        status = 500
        warnings: list[str] = []  # field validation and webhooks: sent as Warning headers
        try:
            if self.faults.latency_ms:
                await asyncio.sleep(self.faults.latency_ms / 1000.0)
            route = parse_route(raw_request.method, path, raw_request.query)
            if route is None:
                response = await self._non_resource(raw_request)
            else:
                code = self.faults.pick_error(verb=route.verb)
                if code is not None:
                    response = self._injected_error(code)
                elif route.verb == "watch":
                    return await self._sim_watch(raw_request, route)
                else:
                    response = await self._sim_resource(raw_request, route, warnings)
        except ApiError as exc:
            response = _json_response(exc.status(), status=exc.code, headers=exc.headers or None)
        except ConnectionResetError:
            # The client left mid-answer (a watch closed as its client shut down): not a
            # bug of the server, and there is nobody to send a Status to.
            logger.debug("client gone while serving %s %s", raw_request.method, path)
            raise
        except Exception as exc:  # a bug here must still reach the client as a Status
            logger.exception("internal error serving %s %s", raw_request.method, path)
            body = status_body(code=500, reason="InternalError", message=f"internal error: {exc!r}")
            response = _json_response(body, status=500)
        status = response.status
        if warnings:
            _add_warning_headers(response, warnings)
        self._log(raw_request, route, status)
        return response

    # --- logging and faults --------------------------------------------------------------------

    def _log(self, raw_request: aiohttp.web.BaseRequest, route: Route | None, status: int) -> None:
        if route is None:
            entry = LoggedRequest(
                verb="get" if raw_request.method == "GET" else raw_request.method.lower(),
                group="",
                version="",
                resource="",
                subresource=None,
                namespace=None,
                name=None,
                status=status,
                path=raw_request.path,
                user_agent=raw_request.headers.get("User-Agent"),
            )
        else:
            entry = LoggedRequest(
                verb=route.verb,
                group=route.group,
                version=route.version,
                resource=route.plural,
                subresource=route.subresource,
                namespace=route.namespace,
                name=route.name,
                status=status,
                path=raw_request.path,
                content_type=raw_request.content_type if route.verb == "patch" else None,
                user_agent=raw_request.headers.get("User-Agent"),
            )
        self.request_log.record(entry)

    def _injected_error(self, code: int) -> aiohttp.web.Response:
        if code == 429:
            retry = self.faults.retry_after_s
            body = status_body(
                code=429,
                reason="TooManyRequests",
                message="injected fault: too many requests, please try again later",
                details={"retryAfterSeconds": retry},
            )
            return _json_response(body, status=429, headers={"Retry-After": str(retry)})
        body = status_body(
            code=code, reason="InternalError", message="injected fault: internal error"
        )
        return _json_response(body, status=code)

    # --- non-resource paths --------------------------------------------------------------------

    async def _non_resource(
        self, raw_request: aiohttp.web.BaseRequest
    ) -> aiohttp.web.StreamResponse:
        parts = [p for p in raw_request.path.split("/") if p]
        infos = list(self.store.registry.all())
        doc: dict[str, Any] | None = None
        if raw_request.method != "GET":
            doc = None
        elif parts == ["version"]:
            doc = dict(discovery.SERVER_VERSION)
        elif parts == ["api"]:
            doc = discovery.api_versions(server_address=self.server_address)
        elif parts == ["apis"]:
            doc = discovery.api_group_list(infos)
        elif len(parts) == 2 and parts[0] == "api":
            doc = discovery.api_resource_list(infos, "", parts[1]) if parts[1] == "v1" else None
            if doc is None:
                raise ApiError(
                    code=404,
                    reason="NotFound",
                    message="the server could not find the requested resource",
                )
        elif len(parts) == 2 and parts[0] == "apis":
            doc = discovery.api_group(infos, parts[1])
            if doc is None:
                raise ApiError(
                    code=404,
                    reason="NotFound",
                    message="the server could not find the requested resource",
                )
        elif len(parts) == 3 and parts[0] == "apis":
            doc = discovery.api_resource_list(infos, parts[1], parts[2])
            if doc is None:
                raise ApiError(
                    code=404,
                    reason="NotFound",
                    message="the server could not find the requested resource",
                )
        elif parts in (["healthz"], ["readyz"], ["livez"]):
            return aiohttp.web.Response(text="ok")
        elif parts == ["openapi", "v2"]:
            # An empty schema: enough for kubectl to validate nothing and carry on
            # (see discovery.openapi_v2_protobuf); /openapi/v3 stays 404, which
            # kubectl reads as "use v2".
            if "protobuf" in raw_request.headers.get("Accept", ""):
                return aiohttp.web.Response(
                    body=discovery.openapi_v2_protobuf(),
                    content_type=discovery.OPENAPI_V2_PROTOBUF,
                )
            doc = discovery.openapi_v2_json()
        elif parts and parts[0] == "openapi":
            raise _not_found()
        if doc is not None:
            return _json_response(doc)
        # Anything else is kmock's: its DSL reactions, or its 404 for unknown endpoints.
        return await super().__call__(raw_request)

    # --- resource requests ---------------------------------------------------------------------

    def _resolve(self, route: Route) -> ResourceInfo:
        info = self.store.resource(route.group, route.version, route.plural)
        if route.namespace is not None and not info.namespaced:
            raise ApiError(
                code=404,
                reason="NotFound",
                message="the server could not find the requested resource",
            )
        if route.name is not None and info.namespaced and route.namespace is None:
            raise ApiError(
                code=404,
                reason="NotFound",
                message="the server could not find the requested resource",
            )
        if route.subresource is not None and route.name is None:
            raise ApiError(
                code=404,
                reason="NotFound",
                message="the server could not find the requested resource",
            )
        return info

    @staticmethod
    async def _read_write_body(raw_request: aiohttp.web.BaseRequest) -> tuple[Any, tuple[str, ...]]:
        """A create/update/patch body and its duplicate fields (for ``fieldValidation``)."""
        body = await raw_request.read()
        if not body.strip():
            raise ApiError.bad_request("the request body is empty; a JSON object is required")
        try:
            return field_validation.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError.bad_request(f"the request body is not valid JSON: {exc}") from None

    @staticmethod
    async def _read_json(raw_request: aiohttp.web.BaseRequest, *, required: bool = True) -> Any:
        body = await raw_request.read()
        if not body.strip():
            if required:
                raise ApiError.bad_request("the request body is empty; a JSON object is required")
            return None
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError.bad_request(f"the request body is not valid JSON: {exc}") from None

    async def _sim_resource(
        self, raw_request: aiohttp.web.BaseRequest, route: Route, warnings: list[str]
    ) -> aiohttp.web.Response:
        info = self._resolve(route)
        query = raw_request.query
        store = self.store
        admit = self.webhooks  # writes: webhooks (if any are configured), then the store
        if route.verb == "get":
            self._check_subresource_read(info, route)
            return _json_response(
                _present(info, store.get(info, route.namespace, route.name or ""))
            )
        if route.verb == "list":
            return self._sim_list(info, route, query)
        if route.verb == "create":
            body, duplicates = await self._read_write_body(raw_request)
            stored = await admit.create(info, route.namespace, body, query, warnings, duplicates)
            return _json_response(_present(info, stored), status=201)
        if route.verb == "deletecollection":
            return await self._sim_deletecollection(raw_request, route, warnings)
        assert route.name is not None  # every remaining verb names an object
        if route.verb == "update":
            body, duplicates = await self._read_write_body(raw_request)
            stored = await admit.update(
                info,
                route.namespace,
                route.name,
                body,
                route.subresource,
                query,
                warnings,
                duplicates,
            )
            return _json_response(_present(info, stored))
        if route.verb == "patch":
            body, duplicates = await self._read_write_body(raw_request)
            stored = await admit.patch(
                info,
                route.namespace,
                route.name,
                body,
                raw_request.content_type,
                route.subresource,
                query,
                warnings,
                duplicates,
            )
            return _json_response(_present(info, stored))
        if route.verb == "delete":
            if route.subresource is not None:
                raise ApiError.method_not_allowed("DELETE is not supported on subresources")
            options = await self._read_json(raw_request, required=False)
            if options is not None and not isinstance(options, dict):
                raise ApiError.bad_request("DeleteOptions must be a JSON object")
            stored = await admit.delete(info, route.namespace, route.name, options, query, warnings)
            # 202 Accepted while finalizers hold the object, 200 once it is gone (as upstream).
            still_there = store.objects(info).get((route.namespace or "", route.name)) is stored
            if still_there or info.plural in _RETURNS_DELETED_OBJECT or not info.builtin:
                return _json_response(_present(info, stored), status=202 if still_there else 200)
            return _json_response(_deleted_status(info, stored))
        raise AssertionError(route.verb)  # pragma: no cover

    def _check_subresource_read(self, info: ResourceInfo, route: Route) -> None:
        if route.subresource is not None and not (
            route.subresource == "status" and info.status_subresource
        ):
            raise ApiError(
                code=404,
                reason="NotFound",
                message=(
                    "the server could not find the requested resource "
                    f"({info.plural}/{route.subresource})"
                ),
            )

    def _sim_list(self, info: ResourceInfo, route: Route, query: Any) -> aiohttp.web.Response:
        limit_raw = query.get("limit")
        try:
            limit = int(limit_raw) if limit_raw else None
        except ValueError:
            raise ApiError.bad_request(f"invalid limit {limit_raw!r}") from None
        result = self.store.list_objects(
            info,
            namespace=route.namespace,
            labels=parse_label_selector(query.get("labelSelector")),
            fields=parse_field_selector(query.get("fieldSelector")),
            limit=limit,
            continue_token=query.get("continue") or None,
        )
        meta: dict[str, Any] = {"resourceVersion": str(result.resource_version)}
        if result.continue_token:
            meta["continue"] = result.continue_token
            meta["remainingItemCount"] = result.remaining
        head = json.dumps(
            {"kind": info.list_kind, "apiVersion": info.api_version, "metadata": meta},
            separators=(",", ":"),
        ).encode()
        body = (
            head[:-1] + b',"items":[' + b",".join(_present(info, s) for s in result.items) + b"]}"
        )
        return _json_response(body)

    async def _sim_deletecollection(
        self, raw_request: aiohttp.web.BaseRequest, route: Route, warnings: list[str]
    ) -> aiohttp.web.Response:
        info = self._resolve(route)
        query = raw_request.query
        deleted = await self.webhooks.delete_collection(
            info,
            route.namespace,
            parse_label_selector(query.get("labelSelector")),
            parse_field_selector(query.get("fieldSelector")),
            query,
            warnings,
        )
        head = json.dumps(
            {
                "kind": info.list_kind,
                "apiVersion": info.api_version,
                "metadata": {"resourceVersion": str(self.store.resource_version)},
            },
            separators=(",", ":"),
        ).encode()
        return _json_response(
            head[:-1] + b',"items":[' + b",".join(_present(info, s) for s in deleted) + b"]}"
        )

    # --- watch ---------------------------------------------------------------------------------

    async def _sim_watch(
        self, raw_request: aiohttp.web.BaseRequest, route: Route
    ) -> aiohttp.web.StreamResponse:
        """Serve a watch: parse its query, open the stream, then the phases of :mod:`.watchstream`.

        A malformed query is a plain error response; once the 200 stream is open,
        errors (an injected fault, a 410 for a compacted version) are ERROR events.
        """
        try:
            info = self._resolve(route)
            watch = parse_watch_query(raw_request.query, route.name)
        except ApiError as exc:
            self._log(raw_request, route, exc.code)
            return _json_response(exc.status(), status=exc.code)

        response = aiohttp.web.StreamResponse(status=200, headers={"Content-Type": _JSON})
        response.enable_chunked_encoding()
        await response.prepare(raw_request)
        self._log(raw_request, route, 200)

        if self.faults.take_watch_failure():
            await self._write_error(
                response, ApiError.gone("injected fault: too old resource version")
            )
            return response
        try:
            watcher, initial = self.store.watch(
                info,
                namespace=route.namespace,
                labels=watch.labels,
                fields=watch.fields,
                since=watch.since,
            )
        except ApiError as exc:  # 410 Gone arrives as an ERROR event in a 200 stream, like upstream
            await self._write_error(response, exc)
            return response

        task = asyncio.current_task()
        if task is not None:
            self._watch_tasks.add(task)

        def render(stored: Stored) -> bytes:
            return _present(info, stored)

        def bookmark(initial_end: bool) -> bytes:
            return self._bookmark(info, initial_end=initial_end)

        deadline = watch.deadline_from(asyncio.get_running_loop().time())
        try:
            await send_initial(response.write, initial, render, bookmark, watch)
            await send_events(
                response.write, watcher, render, bookmark, watch, self.bookmark_interval, deadline
            )
            await response.write_eof()
        except (ConnectionError, aiohttp.ClientConnectionResetError):
            pass  # the client went away; nothing to tell it
        finally:
            self.store.unwatch(watcher)
            if task is not None:
                self._watch_tasks.discard(task)
        return response

    def _bookmark(self, info: ResourceInfo, *, initial_end: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(self.store.resource_version)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        payload = {"kind": info.kind, "apiVersion": info.api_version, "metadata": meta}
        return event_line("BOOKMARK", json.dumps(payload, separators=(",", ":")).encode())

    @staticmethod
    async def _write_error(response: aiohttp.web.StreamResponse, exc: ApiError) -> None:
        try:
            await response.write(event_line("ERROR", json.dumps(exc.status()).encode()))
            await response.write_eof()
        except (ConnectionError, aiohttp.ClientConnectionResetError):
            pass

    def stats(self) -> dict[str, Any]:
        """Counters for benchmarks: current resourceVersion, objects, open watches, requests."""
        return {
            "resourceVersion": self.store.resource_version,
            "objects": sum(1 for _ in self.store.all_objects()),
            "watches": self.store.watch_count,
            "requests": self.request_log.total,
        }
