"""A real Kopf operator against the embedded server, for the tests that need one.

:func:`registry_for` gives a registry logged in to the sim that posts no Events;
the test adds its handlers to it. :func:`running` runs the operator on the
test's event loop and stops it (within 20 s) when the block ends, passed or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import kopf

from ovnctl.sim import SimServer

__all__ = ["registry_for", "running", "watch_quickly"]


def watch_quickly(settings: kopf.OperatorSettings) -> None:
    """Watches the server ends within 10 s; no cluster scanning (the resources are known)."""
    settings.watching.server_timeout = 10
    settings.scanning.disabled = True


def registry_for(
    sim: SimServer, configure: Callable[[kopf.OperatorSettings], None] = watch_quickly
) -> kopf.OperatorRegistry:
    """A registry whose operator logs in to ``sim``, posts no Events and applies ``configure``."""
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopf.ConnectionInfo(server=sim.url, token="ovnctl-sim")

    @kopf.on.startup(registry=registry)
    def startup(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.posting.enabled = False
        configure(settings)

    return registry


@contextlib.asynccontextmanager
async def running(registry: kopf.OperatorRegistry) -> AsyncIterator[asyncio.Task[None]]:
    """The operator of ``registry``, cluster-wide and standalone, while the block runs."""
    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    logging.getLogger("kopf").setLevel(logging.WARNING)
    operator = asyncio.create_task(
        kopf.operator(registry=registry, clusterwide=True, standalone=True, stop_flag=stop)
    )
    try:
        yield operator
    finally:
        stop.set_result(None)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(operator, 20)
