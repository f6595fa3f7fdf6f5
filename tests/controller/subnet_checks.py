"""Probes for Subnet tests: conditions, readiness, Events, listing."""

from __future__ import annotations

from typing import Any

from ovnctl.k8s.api import KubeApi, NotFound
from ovnctl.k8s.resources import EVENTS, SUBNETS
from tests.controller.conftest import eventually


def find_condition(subnet: dict[str, Any], type_: str) -> dict[str, Any] | None:
    for c in (subnet.get("status") or {}).get("conditions") or []:
        if c.get("type") == type_:
            return dict(c)
    return None


def condition(subnet: dict[str, Any], type_: str) -> dict[str, Any]:
    """The condition of ``type_``; fails the test when there is none."""
    found = find_condition(subnet, type_)
    assert found is not None, f"no {type_} condition in {subnet.get('status')!r}"
    return found


def has_condition(type_: str, status: str, reason: str | None = None) -> Any:
    def check(subnet: dict[str, Any]) -> bool:
        c = find_condition(subnet, type_)
        return (
            c is not None
            and c["status"] == status
            and (reason is None or c["reason"] == reason)
            and c.get("observedGeneration") == subnet["metadata"].get("generation")
        )

    return check


async def wait_ready(kube: KubeApi, name: str, *, within: float = 15.0) -> dict[str, Any]:
    """The Subnet once its Ready condition is True for its current generation."""
    return await eventually(
        lambda: kube.get(SUBNETS, name=name), until=has_condition("Ready", "True"), within=within
    )


async def wait_condition(
    kube: KubeApi, name: str, type_: str, status: str, reason: str | None = None
) -> dict[str, Any]:
    return await eventually(
        lambda: kube.get(SUBNETS, name=name), until=has_condition(type_, status, reason)
    )


async def warning_events(kube: KubeApi, name: str) -> list[dict[str, Any]]:
    """Warning Events about Subnet ``name`` (posted in namespace ``default``)."""
    found: list[dict[str, Any]] = []
    async for page in kube.list_pages(EVENTS, namespace="default"):
        found.extend(
            e
            for e in page
            if e["involvedObject"].get("name") == name
            and e["involvedObject"].get("kind") == "Subnet"
            and e["type"] == "Warning"
        )
    return found


async def wait_event(kube: KubeApi, name: str, reason: str) -> dict[str, Any]:
    """The first Warning Event with ``reason`` on Subnet ``name``, waiting for it."""
    events = await eventually(
        lambda: warning_events(kube, name), until=lambda es: any(e["reason"] == reason for e in es)
    )
    return next(e for e in events if e["reason"] == reason)


async def gone(kube: KubeApi, name: str) -> bool:
    try:
        await kube.get(SUBNETS, name=name)
    except NotFound:
        return True
    return False


async def settled(controller: Any, name: str, resource_version: str) -> None:
    """Wait until the controller saw ``resource_version`` of Subnet ``name`` and went idle.

    Idle: nothing queued or being processed in the subnet queue, twice in a row
    (a watch event updates the index just before its handler enqueues the key).
    """
    from tests.controller.conftest import call

    def probe(c: Any) -> bool:
        record = c.subnets.get(name) if c.subnets is not None else None
        seen = record is None or int(record.resource_version) >= int(resource_version)
        queue = c.subnet_queue
        return seen and not queue.queued() and not queue.processing()

    async def twice() -> bool:
        return bool(await call(controller, probe)) and bool(await call(controller, probe))

    await eventually(twice, until=bool)
