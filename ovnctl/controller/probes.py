"""HTTP endpoints for the kubelet and Prometheus: /healthz, /readyz, /metrics.

``/healthz`` answers 200 while the process and its watches run (the kubelet
restarts it otherwise). ``/readyz`` answers 200 once the caches are listed, for
a standby as for the leader and whether the OVN NB answers or not, and 503
while starting or stopping. Readiness decides which replicas a Service sends
admission reviews and scrapes to; an NB outage must not take the Subnet and
IPPool webhook down with it, so the NB's health is reported, not gated on: the
one-line body starts with the state (``leading``, ``standby``) and, with an NB
configured, goes on with ``; OVN NB connected`` or ``; OVN NB unreachable``
(also the gauge ``ovnctl_ovn_nb_connected`` and a log line per retry).
``/metrics`` is the Prometheus exposition of the given registry.
"""

from __future__ import annotations

import aiohttp.web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from ovnctl.controller.lifecycle import ControllerState
from ovnctl.controller.runtime import Controller

__all__ = ["readiness", "serve_probes"]


def readiness(controller: Controller) -> tuple[int, str]:
    """The ``/readyz`` answer: status and body (see the module docstring)."""
    state = controller.state
    northbound = controller.northbound
    nb = ""
    if northbound.enabled:
        nb = "; OVN NB connected" if northbound.connected else "; OVN NB unreachable"
    if state.ready:
        return 200, f"{state}{nb}\n"
    if state is ControllerState.STOPPING:
        return 503, f"{state}{nb}\n"
    missing = ", ".join(sorted(controller.gate.missing)) or str(state)
    return 503, f"{state}: waiting for {missing}{nb}\n"


async def serve_probes(
    *,
    controller: Controller,
    registry: CollectorRegistry,
    host: str,
    health_port: int,
    metrics_port: int,
) -> list[aiohttp.web.AppRunner]:
    """Start the endpoints (one server when both ports are equal); returns the runners."""

    async def healthz(_: aiohttp.web.Request) -> aiohttp.web.Response:
        if controller.watching:
            return aiohttp.web.Response(text="ok\n")
        return aiohttp.web.Response(status=503, text="watches are not running\n")

    async def readyz(_: aiohttp.web.Request) -> aiohttp.web.Response:
        status, text = readiness(controller)
        return aiohttp.web.Response(status=status, text=text)

    async def metrics(_: aiohttp.web.Request) -> aiohttp.web.Response:
        return aiohttp.web.Response(
            body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    routes = {
        health_port: [("/healthz", healthz), ("/readyz", readyz)],
    }
    routes.setdefault(metrics_port, []).append(("/metrics", metrics))
    runners: list[aiohttp.web.AppRunner] = []
    for port, handlers in routes.items():
        app = aiohttp.web.Application()
        for path, handler in handlers:
            app.router.add_get(path, handler)
        runner = aiohttp.web.AppRunner(app, access_log=None)
        await runner.setup()
        await aiohttp.web.TCPSite(runner, host, port).start()
        runners.append(runner)
    return runners
