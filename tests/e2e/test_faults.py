"""Under injected API faults and cut watches, every pod still ends with one unique address."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from ovnctl.k8s.resources import IPS, PODS
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, pod, subnet
from tests.e2e.conftest import retrying

PODS_UNDER_FAULTS = 500


async def _list(kube, resource, **kwargs) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []

    async def read() -> None:
        items.clear()
        async for page in kube.list_pages(resource, **kwargs):
            items.extend(page)

    await retrying(read)
    return items


def _allocated(pods: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        p
        for p in pods
        if (p["metadata"].get("annotations") or {}).get("ovn.kubernetes.io/allocated") == "true"
    ]


async def test_pods_allocated_despite_errors_and_cut_watches(
    controllers, kube, sim_process
) -> None:
    """10% of requests fail (500, then 429), watches are cut each second; all 500 pods allocate."""
    await create_all(kube, subnet("ovn-default", "10.16.0.0/16", default=True))
    proc = controllers("faulty", "--no-leader-elect")
    await proc.wait_probe("/readyz", text="leading")
    await asyncio.to_thread(sim_process.configure, error_rate=0.1, error_code=500, seed=7)

    async def cut_watches() -> None:
        while True:
            await asyncio.sleep(1.0)
            await asyncio.to_thread(sim_process.cut_watches)

    cutter = asyncio.create_task(cut_watches())
    semaphore = asyncio.Semaphore(32)

    async def create(i: int) -> None:
        async with semaphore:
            await retrying(lambda: create_all(kube, pod(f"f{i:03d}")))
        if i == PODS_UNDER_FAULTS // 2:
            await asyncio.to_thread(sim_process.configure, error_code=429)

    try:
        await asyncio.gather(*(create(i) for i in range(PODS_UNDER_FAULTS)))
        pods = await eventually(
            lambda: _list(kube, PODS, namespace="default"),
            until=lambda ps: len(_allocated(ps)) == PODS_UNDER_FAULTS,
            within=120,
        )
    finally:
        cutter.cancel()
        await asyncio.to_thread(sim_process.configure, error_rate=0.0)

    addresses = [p["metadata"]["annotations"]["ovn.kubernetes.io/ip_address"] for p in pods]
    assert len(set(addresses)) == PODS_UNDER_FAULTS
    ips = await _list(kube, IPS)
    assert sorted(ip["spec"]["ipAddress"] for ip in ips) == sorted(addresses)
    _, metrics = proc.probe("/metrics")
    retries = re.search(r'ovnctl_workqueue_retries_total\{name="pods"\} (\d+)', metrics)
    assert retries is not None
    assert int(float(retries.group(1))) > 0
