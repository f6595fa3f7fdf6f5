"""/readyz: ready once the caches are listed, whatever the OVN NB does; not while starting.

Readiness decides which replicas a Service sends admission reviews and scrapes to, so
an NB outage is reported in the body (and the ``ovnctl_ovn_nb_connected`` gauge), never
turned into a 503 that would take the Subnet/IPPool webhook down (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import aiohttp
from prometheus_client import CollectorRegistry

from ovnctl.controller import Controller, ControllerSettings
from ovnctl.controller.lifecycle import ControllerState
from ovnctl.controller.probes import readiness, serve_probes
from tests.controller.conftest import ControllerThread


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def _probes(
    controller: Controller,
) -> AsyncIterator[Callable[[], Awaitable[tuple[int, str]]]]:
    """The controller's /readyz served on a free port; yields a GET returning (status, body)."""
    port = _unused_port()
    runners = await serve_probes(
        controller=controller,
        registry=CollectorRegistry(),
        host="127.0.0.1",
        health_port=port,
        metrics_port=port,
    )
    try:
        async with aiohttp.ClientSession() as session:

            async def get() -> tuple[int, str]:
                async with session.get(f"http://127.0.0.1:{port}/readyz") as response:
                    return response.status, await response.text()

            yield get
    finally:
        for runner in runners:
            await runner.cleanup()


async def test_readyz_is_503_while_starting(sim) -> None:
    """Before the caches are listed /readyz answers 503 and names what it waits for."""
    controller = Controller(settings=ControllerSettings(kubeconfig=str(sim.kubeconfig_path)))
    try:
        assert controller.state is ControllerState.STARTING
        async with _probes(controller) as get:
            status, body = await get()
        assert status == 503
        assert body == "starting: waiting for IPAM rebuilt, caches listed\n"
    finally:
        controller.api.close()


async def test_readyz_is_200_with_the_northbound_down(sim) -> None:
    """A leader whose NB is unreachable stays ready; the body says the NB is unreachable."""
    nobody = f"tcp:127.0.0.1:{_unused_port()}"  # nothing listens: the NB never answers
    thread = ControllerThread(
        ControllerSettings(kubeconfig=str(sim.kubeconfig_path), ovn_nb=nobody)
    )
    try:
        controller = await thread.start()
        assert not controller.northbound.connected
        async with _probes(controller) as get:
            assert await get() == (200, "leading; OVN NB unreachable\n")
    finally:
        await asyncio.to_thread(thread.stop)
    # Stopped: not ready any more, whatever the NB.
    assert controller.state is ControllerState.STOPPING
    assert readiness(controller) == (503, "stopping; OVN NB unreachable\n")


async def test_readyz_without_a_northbound_names_only_the_state(start_controller) -> None:
    """In pure-IPAM mode (no --ovn-nb) the body is the state alone, as before."""
    controller = await start_controller()
    assert readiness(controller) == (200, "leading\n")
