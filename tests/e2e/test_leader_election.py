"""Two replicas: exactly one writes; killing it mid-burst loses and duplicates nothing."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

from ovnctl.k8s.resources import IPS, LEASES, PODS, SUBNETS
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, pod, subnet

PODS_IN_BURST = 300
LEASE_OBJECTS = {"leases", "events"}


async def _holder(kube) -> str:
    try:
        lease = await kube.get(LEASES, name="ovnctl-controller", namespace="default")
    except Exception:
        return ""
    return str(lease["spec"].get("holderIdentity") or "")


async def _pods(kube) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    async for page in kube.list_pages(PODS, namespace="default"):
        items.extend(page)
    return items


async def _ip_names(kube) -> set[str]:
    names: set[str] = set()
    async for page in kube.list_pages(IPS):
        names.update(item["metadata"]["name"] for item in page)
    return names


def _allocated(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        p
        for p in pods
        if (p["metadata"].get("annotations") or {}).get("ovn.kubernetes.io/allocated") == "true"
    ]


async def test_standby_takes_over_after_kill_9_without_duplicates_or_leaks(
    controllers, kube, sim_process
) -> None:
    """Only the leader writes; after kill -9 the standby leads; every pod gets one unique IP."""
    await create_all(kube, subnet("ovn-default", "10.16.0.0/16", default=True))
    first, second = controllers("replica-a"), controllers("replica-b")
    holder = await eventually(lambda: _holder(kube), until=bool, within=30)
    leader, standby = (first, second) if holder == first.identity else (second, first)
    await leader.wait_probe("/readyz", text="leading")
    await standby.wait_probe("/readyz", text="standby")

    semaphore = asyncio.Semaphore(32)

    async def create(i: int) -> None:
        async with semaphore:
            await create_all(kube, pod(f"p{i:03d}"))

    burst = asyncio.ensure_future(asyncio.gather(*(create(i) for i in range(PODS_IN_BURST))))
    await eventually(lambda: _pods(kube), until=lambda ps: len(_allocated(ps)) >= 50, within=60)
    leader.process.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    leader.process.wait(10)
    await burst

    await eventually(lambda: _holder(kube), until=lambda h: h == standby.identity, within=30)
    took_over_after = time.monotonic() - killed_at
    await standby.wait_probe("/readyz", text="leading")
    pods = await eventually(
        lambda: _pods(kube), until=lambda ps: len(_allocated(ps)) == PODS_IN_BURST, within=90
    )

    addresses = [p["metadata"]["annotations"]["ovn.kubernetes.io/ip_address"] for p in pods]
    assert len(set(addresses)) == PODS_IN_BURST, "a duplicate address was handed out"
    assert await _ip_names(kube) == {f"p{i:03d}.default" for i in range(PODS_IN_BURST)}
    status = await eventually(
        lambda: kube.get(SUBNETS, name="ovn-default"),
        until=lambda s: s.get("status", {}).get("v4usingIPs") == PODS_IN_BURST,
        within=30,
    )
    assert status["status"]["v4availableIPs"] == 65533 - PODS_IN_BURST
    # The standby only campaigns after the lease expires on its own clock.
    assert took_over_after < 3 + 15

    # Writers in the request log: the old leader first, then only the new one.
    log = await asyncio.to_thread(sim_process.request_log)
    writers = [
        entry.user_agent
        for entry in log.entries
        if entry.verb in ("create", "update", "patch", "delete")
        and entry.resource not in LEASE_OBJECTS
        and (entry.user_agent or "").startswith("ovnctl/")
    ]
    assert set(writers) <= {leader.user_agent, standby.user_agent}
    first_standby_write = writers.index(standby.user_agent)
    assert leader.user_agent not in writers[first_standby_write:]
    assert writers[0] == leader.user_agent
