"""A burst of 1,000 pods with two attachments each: all allocated, with few API requests.

Runs in about 10 s on a 2-core machine (most of it the embedded server's own
work: 1,000 pod creates, 2,000 IP creates, 1,000 patches and their watch
events); speed itself is measured by ``benchmarks/bench_alloc.py``, not here.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from ovnctl.k8s.resources import PODS
from tests.controller import probes
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, kube_ovn_nad, macvlan_nad, pod, subnet
from tests.controller.probes import key

PODS_N = 1000
PROVIDERS = ("net-a.default.ovn", "net-b.default")


async def _allocated(kube: Any) -> list[dict[str, Any]]:
    return [
        body
        for body in (await probes.pods(kube)).values()
        if all(
            (body["metadata"].get("annotations") or {}).get(key(p, "allocated")) == "true"
            for p in PROVIDERS
        )
    ]


async def test_thousand_pods_two_attachments(sim, start_controller, kube) -> None:
    """1,000 pods x 2 attachments: unique addresses, no NAD/Subnet GET, one patch per pod."""
    await create_all(
        kube,
        kube_ovn_nad("net-a"),
        macvlan_nad("net-b"),
        subnet("sub-a", "10.100.0.0/16", provider=PROVIDERS[0]),
        subnet("sub-b", "10.200.0.0/16", provider=PROVIDERS[1]),
    )
    await start_controller(primary_network=False)
    sim.reset_request_log()
    limit = asyncio.Semaphore(16)

    async def make(i: int) -> None:
        async with limit:
            await kube.create(PODS, pod(f"p{i:04d}", networks="net-a,net-b"), namespace="default")

    await asyncio.gather(*(make(i) for i in range(PODS_N)))
    done = await eventually(
        lambda: _allocated(kube), until=lambda pods: len(pods) == PODS_N, within=90, interval=0.5
    )
    ip_objects = await probes.ip_objects(kube)
    assert len(ip_objects) == 2 * PODS_N
    for provider, subnet_name in zip(PROVIDERS, ("sub-a", "sub-b"), strict=True):
        annotations = [body["metadata"]["annotations"] for body in done]
        assert len({a[key(provider, "ip_address")] for a in annotations}) == PODS_N
        assert len({a[key(provider, "mac_address")] for a in annotations}) == PODS_N
        recorded = [
            b["spec"]["ipAddress"]
            for b in ip_objects.values()
            if b["spec"]["subnet"] == subnet_name
        ]
        assert len(set(recorded)) == len(recorded) == PODS_N

    log = sim.request_log
    assert log.count(verb="get", resource="network-attachment-definitions") == 0
    assert log.count(verb="list", resource="network-attachment-definitions") == 0
    assert log.count(verb="get", resource="subnets") == 0
    patches = Counter(e.name for e in log.find(verb="patch", resource="pods"))
    assert max(patches.values()) == 1
    assert sum(patches.values()) == PODS_N
    assert log.count(verb="create", resource="ips") == 2 * PODS_N
    assert log.count(verb="patch", resource="ips") == 0
