"""Kopf lists and watches the server: initial list, watch from its version, live events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import kopf
import pytest

from ovnctl.sim import SimServer
from tests.sim.conftest import NADS, Api, nad

pytestmark = pytest.mark.slow


async def test_kopf_sees_existing_and_new_objects(sim: SimServer, api: Api) -> None:
    """A Kopf event handler gets the pre-existing object and live changes."""
    await api.post(NADS, nad("before"))
    registry = kopf.OperatorRegistry()
    seen: list[tuple[str, str]] = []
    both = asyncio.Event()

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kopf.ConnectionInfo(server=sim.url, token="ovnctl-sim")

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        settings.posting.enabled = False
        settings.watching.server_timeout = 10
        settings.scanning.disabled = True

    @kopf.on.event("k8s.cni.cncf.io", "v1", "network-attachment-definitions", registry=registry)
    def on_event(type: str, name: str, **_: Any) -> None:
        seen.append((str(type), name))
        names = {name for _, name in seen}
        if {"before", "after"} <= names:
            both.set()

    stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    logging.getLogger("kopf").setLevel(logging.WARNING)
    operator = asyncio.create_task(
        kopf.operator(registry=registry, clusterwide=True, standalone=True, stop_flag=stop)
    )
    try:
        for _ in range(200):  # until Kopf's watch is open
            if sim.request_log.count(verb="watch", resource="network-attachment-definitions"):
                break
            await asyncio.sleep(0.05)
        await api.post(NADS, nad("after"))
        await asyncio.wait_for(both.wait(), 20)
    finally:
        stop.set_result(None)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(operator, 20)
    assert ("ADDED", "after") in seen
    assert any(name == "before" for _, name in seen)  # from Kopf's initial list
    lists = sim.request_log.find(verb="list", resource="network-attachment-definitions")
    watches = sim.request_log.find(verb="watch", resource="network-attachment-definitions")
    assert lists
    assert watches
