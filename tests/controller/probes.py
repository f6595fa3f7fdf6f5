"""Read-side helpers for allocation tests: annotations, IP objects, Events, subnet counts.

The readers go through the test's own API client, as a user with kubectl
would. The waits :func:`idle` and :func:`pod_settled` alone look into the
controller (its caches and queues, on its loop), to know when nothing is left
that could still act before a test asserts that something did not happen.
:class:`Restartable` runs a controller that a test stops and replaces
(restarts, garbage collection).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ovnctl.controller import Controller, ControllerSettings
from ovnctl.k8s.api import KubeApi, NotFound
from ovnctl.k8s.resources import EVENTS, IPS, PODS, SUBNETS
from tests.controller.conftest import ControllerThread, call, eventually

NETWORKS = "k8s.v1.cni.cncf.io/networks"


def key(provider: str, what: str) -> str:
    """``<provider>.kubernetes.io/<what>``."""
    return f"{provider}.kubernetes.io/{what}"


async def annotations_of(kube: KubeApi, name: str, namespace: str = "default") -> dict[str, str]:
    body = await kube.get(PODS, name=name, namespace=namespace)
    return dict(body["metadata"].get("annotations") or {})


async def allocated(
    kube: KubeApi, name: str, *providers: str, namespace: str = "default", within: float = 15.0
) -> dict[str, str]:
    """Wait until the pod is annotated ``allocated`` for every provider; its annotations."""
    return await eventually(
        lambda: annotations_of(kube, name, namespace),
        until=lambda a: all(a.get(key(p, "allocated")) == "true" for p in providers),
        within=within,
    )


async def ip_objects(kube: KubeApi) -> dict[str, dict[str, Any]]:
    """Every IP object by name."""
    found: dict[str, dict[str, Any]] = {}
    async for page in kube.list_pages(IPS):
        found.update({item["metadata"]["name"]: item for item in page})
    return found


async def ip_object(kube: KubeApi, name: str) -> dict[str, Any] | None:
    try:
        body: dict[str, Any] = await kube.get(IPS, name=name)
    except NotFound:
        return None
    return body


async def pods(kube: KubeApi, namespace: str = "default") -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    async for page in kube.list_pages(PODS, namespace=namespace):
        found.update({item["metadata"]["name"]: item for item in page})
    return found


async def events(kube: KubeApi, name: str, namespace: str = "default") -> list[dict[str, Any]]:
    """Events whose involved object is ``name`` in ``namespace``."""
    found: list[dict[str, Any]] = []
    async for page in kube.list_pages(EVENTS, namespace=namespace):
        found.extend(e for e in page if e["involvedObject"]["name"] == name)
    return found


async def warning(
    kube: KubeApi, name: str, reason: str, namespace: str = "default"
) -> dict[str, Any]:
    """Wait for a Warning Event with ``reason`` on the pod; the Event."""
    found = await eventually(
        lambda: events(kube, name, namespace),
        until=lambda es: any(e["reason"] == reason and e["type"] == "Warning" for e in es),
    )
    return next(e for e in found if e["reason"] == reason)


async def using(kube: KubeApi, subnet: str, family: str = "v4") -> int:
    """The subnet's ``status.<family>usingIPs`` (0 before the first status write)."""
    body = await kube.get(SUBNETS, name=subnet)
    return int((body.get("status") or {}).get(f"{family}usingIPs", 0))


async def idle(controller: Controller, until: Callable[[Controller], bool]) -> None:
    """Wait until ``until(controller)`` holds (the controller saw the change the test made)
    and the subnet, pod and VM queues have nothing queued, delayed or in progress.

    The deterministic wait before asserting that the controller did *not* do something
    (no address, no release, no Event): from then on nothing is left that could do it
    until the cluster changes again. Looked at twice in a row, as
    :func:`tests.controller.subnet_checks.settled` does. Runs on the controller's loop.
    """

    def quiet(c: Controller) -> bool:
        queues = (c.subnet_queue, c.pod_queue, c.vm_queue)
        return until(c) and not any(q.queued() or q.processing() or q.delayed() for q in queues)

    async def twice() -> bool:
        return bool(await call(controller, quiet)) and bool(await call(controller, quiet))

    await eventually(twice, until=bool)


async def pod_settled(
    controller: Controller, kube: KubeApi, name: str, namespace: str = "default"
) -> None:
    """:func:`idle`, once the controller has pod ``name`` cached as the server holds it."""
    uid = (await kube.get(PODS, name=name, namespace=namespace))["metadata"]["uid"]

    def seen(c: Controller) -> bool:
        record = c.pods.get(namespace, name)
        return record is not None and record.uid == uid

    await idle(controller, seen)


async def ready(kube: KubeApi, subnet: str) -> None:
    """Wait until the subnet reports ``Ready: True``."""
    await eventually(
        lambda: kube.get(SUBNETS, name=subnet),
        until=lambda s: any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in (s.get("status") or {}).get("conditions", [])
        ),
    )


class Restartable:
    """A controller a test stops and replaces mid-test (the ``start_controller`` fixture
    stops its controllers only at the end). Use as ``async with Restartable(sim) as r``."""

    def __init__(self, sim: Any, **settings: Any) -> None:
        self._sim = sim
        self._settings = settings
        self._thread: ControllerThread | None = None

    async def start(self, **overrides: Any) -> Controller:
        assert self._thread is None, "stop the running controller first"
        settings = {**self._settings, **overrides}
        self._thread = ControllerThread(
            ControllerSettings(kubeconfig=str(self._sim.kubeconfig_path), **settings)
        )
        return await self._thread.start()

    async def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            await asyncio.to_thread(thread.stop)

    async def __aenter__(self) -> Restartable:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
