"""The ``/_sim/`` admin endpoints: steer a server that runs in another process.

:class:`~ovnctl.sim.runner.SimProcess` (benchmarks, end-to-end runs) cannot
reach the store, request log or fault knobs of a server in a child process,
so it calls these over HTTP; :class:`~ovnctl.sim.server.SimEmulator` routes
every ``/_sim/...`` path here before anything else (no latency, no faults, no
request log entry):

* ``GET requests`` / ``POST requests/reset``: the request log;
* ``GET faults`` / ``POST faults``: the fault knobs (:class:`~ovnctl.sim.faults.Faults`);
* ``POST cut-watches``, ``POST compact``: end watches, forget history;
* ``GET stats``: counters for benchmarks;
* ``GET|POST service-endpoints``: where webhook Services listen.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import aiohttp.web

from ovnctl.sim.errors import ApiError

if TYPE_CHECKING:
    from ovnctl.sim.server import SimEmulator

__all__ = ["serve"]


def _json(body: Any, status: int = 200) -> aiohttp.web.Response:
    return aiohttp.web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )


async def _body(raw_request: aiohttp.web.BaseRequest) -> Any:
    """The POSTed JSON (``{}`` if none); a wrong shape fails in the op itself (400)."""
    raw = await raw_request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw) or {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError.bad_request(f"the request body is not valid JSON: {exc}") from None


async def serve(sim: SimEmulator, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.Response:
    """Answer one ``/_sim/<op>`` request (errors as ``Status`` bodies, like the API)."""
    op = raw_request.path.removeprefix("/_sim/")
    method = raw_request.method
    try:
        body = await _body(raw_request) if method == "POST" else {}
        if op == "requests" and method == "GET":
            return _json(sim.request_log.to_json())
        if op == "requests/reset" and method == "POST":
            sim.request_log.reset()
            return _json({})
        if op == "faults" and method == "GET":
            return _json(sim.faults.to_json())
        if op == "faults" and method == "POST":
            try:
                sim.faults.update(**body)
            except (TypeError, ValueError) as exc:
                raise ApiError.bad_request(str(exc)) from None
            return _json(sim.faults.to_json())
        if op == "cut-watches" and method == "POST":
            return _json({"cut": sim.store.cut_watches()})
        if op == "compact" and method == "POST":
            sim.store.compact()
            return _json({})
        if op == "stats" and method == "GET":
            return _json(sim.stats())
        if op == "service-endpoints":  # where webhook Services listen (webhook_client)
            if method == "POST":
                sim.webhooks.client.set_service_endpoint_json(body)
            return _json(sim.webhooks.client.endpoints_json())
        message = f"no admin endpoint {method} /_sim/{op}"
        raise ApiError(code=404, reason="NotFound", message=message)
    except ApiError as exc:
        return _json(exc.status(), status=exc.code)
