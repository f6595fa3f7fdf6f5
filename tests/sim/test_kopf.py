"""Kopf lists and watches the server: initial list, watch from its version, live events."""

from __future__ import annotations

import asyncio
from typing import Any

import kopf
import pytest

from ovnctl.sim import SimServer
from tests.sim.conftest import NADS, Api, nad
from tests.sim.kopf_operator import registry_for, running

pytestmark = pytest.mark.slow


async def test_kopf_sees_existing_and_new_objects(sim: SimServer, api: Api) -> None:
    """A Kopf event handler gets the pre-existing object and live changes."""
    await api.post(NADS, nad("before"))
    registry = registry_for(sim)
    seen: list[tuple[str, str]] = []
    both = asyncio.Event()

    @kopf.on.event("k8s.cni.cncf.io", "v1", "network-attachment-definitions", registry=registry)
    def on_event(type: str, name: str, **_: Any) -> None:
        seen.append((str(type), name))
        names = {name for _, name in seen}
        if {"before", "after"} <= names:
            both.set()

    async with running(registry):
        for _ in range(200):  # until Kopf's watch is open
            if sim.request_log.count(verb="watch", resource="network-attachment-definitions"):
                break
            await asyncio.sleep(0.05)
        await api.post(NADS, nad("after"))
        await asyncio.wait_for(both.wait(), 20)
    assert ("ADDED", "after") in seen
    assert any(name == "before" for _, name in seen)  # from Kopf's initial list
    lists = sim.request_log.find(verb="list", resource="network-attachment-definitions")
    watches = sim.request_log.find(verb="watch", resource="network-attachment-definitions")
    assert lists
    assert watches
