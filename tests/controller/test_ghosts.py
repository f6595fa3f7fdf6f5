"""Pods deleted while the watch was away (no DELETED event) are found by a re-list and released."""

from __future__ import annotations

from typing import Any

from ovnctl.k8s.resources import IPS, PODS
from tests.controller.conftest import call, eventually
from tests.controller.objects import create_all, pod, subnet


async def _ip_names(kube) -> set[str]:
    names: set[str] = set()
    async for page in kube.list_pages(IPS):
        names.update(item["metadata"]["name"] for item in page)
    return names


def _allocated(pod_body: dict[str, Any]) -> bool:
    annotations = pod_body["metadata"].get("annotations") or {}
    return bool(annotations.get("ovn.kubernetes.io/allocated") == "true")


def _cached(controller, name: str) -> bool:
    return controller.pods is not None and controller.pods.get("default", name) is not None


async def _wait_allocated(kube, name: str) -> dict[str, Any]:
    result: dict[str, Any] = await eventually(
        lambda: kube.get(PODS, name=name, namespace="default"), until=_allocated
    )
    return result


def _vanish(sim, name: str) -> None:
    def drop(server) -> None:
        store = server.store
        store.vanish(store.resource("", "v1", "pods"), "default", name)

    sim.call(drop)


async def test_ghost_pod_is_found_and_its_address_released(sim, start_controller, kube) -> None:
    """A pod gone without an event stays cached until a re-list's diff reports it gone."""
    await create_all(kube, subnet("ovn-default", "10.16.0.0/16", default=True))
    controller = await start_controller()
    await create_all(kube, pod("ghost"), pod("alive"))
    for name in ("ghost", "alive"):
        await _wait_allocated(kube, name)
    _vanish(sim, "ghost")
    # Nothing told the controller: its cache still holds the pod and its address.
    assert await call(controller, lambda c: _cached(c, "ghost"))

    await call(controller, lambda c: c.resync())
    await eventually(lambda: _ip_names(kube), until=lambda n: n == {"alive.default"})
    assert not await call(controller, lambda c: _cached(c, "ghost"))
    assert "ghost.default" not in await call(controller, lambda c: set(c.ipam.owners()))

    # A new pod of the same name is allocated as usual.
    await create_all(kube, pod("ghost"))
    body = await _wait_allocated(kube, "ghost")
    assert body["metadata"]["annotations"]["ovn.kubernetes.io/ip_address"]


async def test_resync_spares_pods_that_exist(sim, start_controller, kube) -> None:
    """A re-list that finds nothing new changes nothing."""
    await create_all(kube, subnet("ovn-default", "10.16.0.0/16", default=True))
    controller = await start_controller()
    await create_all(kube, *(pod(f"p{i}") for i in range(20)))
    for i in range(20):  # annotated last: then every write of the allocation is done
        await _wait_allocated(kube, f"p{i}")
    patches_before = sim.request_log.count(verb="patch", resource="pods")
    await call(controller, lambda c: c.resync())
    await eventually(
        lambda: call(controller, lambda c: min(i.reflector.lists for i in c._informers)),
        until=lambda lists: lists >= 2,
    )
    assert len(await _ip_names(kube)) == 20
    assert sim.request_log.count(verb="patch", resource="pods") == patches_before
