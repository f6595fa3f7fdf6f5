"""HTTP endpoints for the kubelet and Prometheus: /healthz, /readyz, /metrics.

``/healthz`` answers 200 while the process and its watches run (the kubelet
restarts it otherwise). ``/readyz`` answers 200 once the caches are listed,
for a standby as for the leader, so rolling updates proceed; its body says
which. ``/metrics`` is the Prometheus exposition of the given registry.
"""

from __future__ import annotations

import aiohttp.web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from ovnctl.controller.runtime import Controller

__all__ = ["serve_probes"]


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
        state = controller.state
        if state in ("leading", "standby"):
            return aiohttp.web.Response(text=f"{state}\n")
        missing = ", ".join(sorted(controller.gate.missing)) or state
        return aiohttp.web.Response(status=503, text=f"{state}: waiting for {missing}\n")

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
