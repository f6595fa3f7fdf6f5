"""Fixtures for controller tests: the embedded API server, a running controller, a client.

The server runs on its own loop in a thread (as a real API server is another
process); the controller runs on the test's loop, talking HTTP to it through a
kubeconfig exactly as it would to a cluster.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ovnctl.controller import Controller, ControllerSettings
from ovnctl.k8s.api import KubeApi
from ovnctl.k8s.connection import connect
from ovnctl.sim import ThreadedSimServer
from tests.conftest import crd_manifests

REPO = Path(__file__).resolve().parents[2]
CRDS = crd_manifests()

T = TypeVar("T")


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[ThreadedSimServer]:
    """The server, with the real CRDs; no write of the test may lose a field to pruning.

    kube-apiserver silently drops every field a CRD's schema does not declare, so
    a field ovnctl writes but ``crds/`` forgets would vanish in a real cluster. The
    server enforces the schemas and records such writes; a test that writes
    unknown fields on purpose is marked ``prunes_fields``.
    """
    with ThreadedSimServer(manifests=CRDS, bookmark_interval=0.2) as server:
        yield server
        pruned = server.call(lambda s: list(s.store.schemas.pruned))
    if request.node.get_closest_marker("prunes_fields") is None:
        assert pruned == [], f"fields dropped by CRD schema pruning: {pruned}"


@pytest.fixture
async def kube(sim: ThreadedSimServer) -> AsyncIterator[KubeApi]:
    """The test's own client (the official client underneath), separate from the controller's."""
    api = connect(kubeconfig=str(sim.kubeconfig_path))
    yield api
    api.close()


T0 = "2026-01-01T10:00:00Z"
"""The first creation time :func:`frozen_clock` gives out."""


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The embedded API server's creation times: the last value appended (starts at
    :data:`T0`). Orders objects by ``creationTimestamp`` whatever the wall clock does."""
    now = [T0]
    monkeypatch.setattr("ovnctl.sim.store.timestamp", lambda: now[-1])
    return now


class ControllerThread:
    """A controller on its own event loop in a thread, as if it were another process.

    Kopf treats every task created on its loop after it started as its own and
    waits for them at exit; keeping the controller off the test's loop keeps
    the test's tasks (and pytest's fixture teardown) out of that.
    """

    def __init__(
        self, settings: ControllerSettings, *, build: Callable[..., Controller] = Controller
    ) -> None:
        self.controller = build(settings=settings, metrics=None, northbound_metrics=None)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="controller", daemon=True)
        ControllerThread._by_controller[id(self.controller)] = self

    _by_controller: dict[int, ControllerThread] = {}

    @classmethod
    def of(cls, controller: Controller) -> ControllerThread:
        """The thread running ``controller`` (started by ``start_controller``)."""
        return cls._by_controller[id(controller)]

    def _main(self) -> None:
        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            await self.controller.run()

        try:
            asyncio.run(run())
        except BaseException as exc:
            self._error = exc

    async def start(self, *, within: float = 30.0) -> Controller:
        self._thread.start()
        deadline = time.monotonic() + within
        while not self.controller.gate.ready:
            if not self._thread.is_alive():
                raise AssertionError(f"controller died: {self._error!r}")
            if time.monotonic() > deadline:
                missing = self.controller.gate.missing
                raise AssertionError(f"controller not ready: missing {missing}")
            await asyncio.sleep(0.02)
        return self.controller

    async def call(self, fn: Callable[[Controller], Any]) -> Any:
        """Run ``fn(controller)`` on the controller's loop (awaiting it if it is a coroutine).

        The controller's state is only safe to touch from its own loop; this is the
        thread-safe door for tests that must read or change it.
        """
        if self._loop is None:
            raise AssertionError("controller loop not running")

        async def run() -> Any:
            result = fn(self.controller)
            if inspect.isawaitable(result):
                result = await result
            return result

        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(run(), self._loop))

    def stop(self, *, timeout: float = 30.0) -> None:
        if self._loop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self.controller.stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError("controller did not stop")
        ControllerThread._by_controller.pop(id(self.controller), None)
        if self._error is not None:
            raise self._error


ControllerFactory = Callable[..., Awaitable[Controller]]


async def call(controller: Controller, fn: Callable[[Controller], Any]) -> Any:
    """Run ``fn(controller)`` on the loop of a controller from ``start_controller``."""
    return await ControllerThread.of(controller).call(fn)


async def stop(controller: Controller) -> None:
    """Stop a controller from ``start_controller`` before the test ends (e.g. to restart)."""
    await asyncio.to_thread(ControllerThread.of(controller).stop)


@pytest.fixture
async def start_controller(sim: ThreadedSimServer) -> AsyncIterator[ControllerFactory]:
    """Start controllers against the server; each is stopped at the end of the test."""
    running: list[ControllerThread] = []

    async def start(
        *, build: Callable[..., Controller] = Controller, **overrides: Any
    ) -> Controller:
        """``build``: how the controller is built (a factory ``ovnctl run`` would accept)."""
        settings = ControllerSettings(kubeconfig=str(sim.kubeconfig_path), **overrides)
        thread = ControllerThread(settings, build=build)
        running.append(thread)
        return await thread.start()

    yield start
    for thread in running:
        await asyncio.to_thread(thread.stop)


async def eventually(
    probe: Callable[[], Awaitable[T]],
    *,
    until: Callable[[T], bool],
    within: float = 15.0,
    interval: float = 0.05,
) -> T:
    """Poll ``probe`` until ``until(result)`` holds; fail with the last result if it never does."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if until(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {within}s; last: {result!r}")
        await asyncio.sleep(interval)
