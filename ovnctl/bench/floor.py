"""The write floor of the ``alloc`` scenario: the same writes with no controller at all.

What could any controller reach on this server? This module sends exactly
the writes ovnctl sends for N pods x M attachments (M IP object creates, then
one merge patch of the pod's annotations), with ovnctl's own bodies
(:func:`~ovnctl.models.build_ip_object`, :func:`~ovnctl.models.allocation_annotations`)
and ovnctl's concurrency (``pod_workers`` pods at once, a pod's IP objects in
parallel), from a minimal aiohttp client. It needs no watch: each pod is
handed to the workers as soon as the driver's create of it returns.

Time runs from the first pod create to the last patch answered, as ovnctl's
runs from the first pod create to the last annotation seen by the driver's
watch; :mod:`ovnctl.bench.alloc` reports the ratio of the two. The floor runs
on the same server process after the controller has stopped, on pods of its
own (``floor-*``), so the controller sees none of it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
from collections.abc import Mapping
from typing import Any

import aiohttp

from ovnctl.bench import objects
from ovnctl.bench.runner import Driver
from ovnctl.models.annotations import allocation_annotations
from ovnctl.models.ip_object import build_ip_object, ip_object_name

__all__ = ["FLOOR_AGENT", "measure_floor"]

FLOOR_AGENT = "bench-floor/1"
IPS_PATH = "/apis/kubeovn.io/v1/ips"


def _writes(
    i: int, pod: Mapping[str, Any], *, attachments: int, base: int
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The IP objects and the annotation patch ovnctl would write for pod ``i``."""
    name = pod["metadata"]["name"]
    owner = name  # a plain owner name is as long as the VM's: the bodies' size is what counts
    ip_bodies: list[dict[str, Any]] = []
    annotations: dict[str, str] = {}
    for a in range(attachments):
        cidr = f"10.{base + a}.0.0/16"
        network = ipaddress.ip_network(cidr)
        ip = str(network.network_address + 2 + i)
        mac = "0e:f0:00:" + ":".join(f"{(i >> s) & 0xFF:02x}" for s in (16, 8, 0))
        provider = objects.provider(f"net{a}")
        ip_bodies.append(
            build_ip_object(
                name=ip_object_name(owner=owner, namespace=objects.NAMESPACE, provider=provider),
                pod_name=owner,
                namespace=objects.NAMESPACE,
                subnet=f"floor{a}",
                ips=[ip],
                mac=mac,
            )
        )
        annotations.update(
            allocation_annotations(
                provider=provider,
                subnet=f"floor{a}",
                cidr_block=cidr,
                gateway=str(network.network_address + 1),
                ips=[ip],
                mac=mac,
            )
        )
    patch = {"metadata": {"uid": pod["metadata"].get("uid", ""), "annotations": annotations}}
    return ip_bodies, patch


async def measure_floor(
    url: str,
    pods: list[dict[str, Any]],
    *,
    attachments: int,
    workers: int,
    base: int = 200,
) -> float:
    """Seconds from the first pod create to the last annotation patch answered.

    ``pods`` are created by a :class:`Driver` exactly as in the ovnctl run;
    ``workers`` pods are written at once (ovnctl's ``pod_workers``), each
    pod's IP objects in parallel and then its patch, as the pod reconciler does.
    """
    queue: asyncio.Queue[tuple[int, dict[str, Any]] | None] = asyncio.Queue()
    connector = aiohttp.TCPConnector(limit=workers * attachments + 4)
    async with (
        aiohttp.ClientSession(connector=connector, headers={"User-Agent": FLOOR_AGENT}) as session,
        Driver(url) as driver,
    ):

        async def send(method: str, path: str, body: Any, content_type: str) -> None:
            async with session.request(
                method, url + path, data=json.dumps(body), headers={"Content-Type": content_type}
            ) as response:
                await response.read()
                if response.status >= 300:
                    raise RuntimeError(f"floor {method} {path}: {response.status}")

        async def worker() -> None:
            while (item := await queue.get()) is not None:
                i, created = item
                ip_bodies, patch = _writes(i, created, attachments=attachments, base=base)
                await asyncio.gather(
                    *(send("POST", IPS_PATH, b, "application/json") for b in ip_bodies)
                )
                path = f"/api/v1/namespaces/{objects.NAMESPACE}/pods/{created['metadata']['name']}"
                await send("PATCH", path, patch, "application/merge-patch+json")

        async def create(item: tuple[int, dict[str, Any]]) -> None:
            i, body = item
            created = await driver.request(
                "POST",
                f"/api/v1/namespaces/{objects.NAMESPACE}/pods",
                body=body,
                content_type="application/json",
            )
            queue.put_nowait((i, created))

        tasks = [asyncio.create_task(worker()) for _ in range(workers)]
        t0 = time.perf_counter()
        await driver.each(list(enumerate(pods)), create)
        for _ in tasks:
            queue.put_nowait(None)
        await asyncio.gather(*tasks)
        return time.perf_counter() - t0
