"""Kopf's two patterns for a watched kind: ``@kopf.on.event`` alone, or with ``@kopf.index``.

Why ovnctl's Subnet handlers are ``@kopf.on.event`` only and nothing with many
objects gets a Kopf index (docs/architecture.md). For each N, N Subnets are
created on the embedded API server (in a thread), then a bare Kopf operator
(Kopf 1.45, on this loop, logged in to that server) is started with either

- ``event``: one ``@kopf.on.event`` handler, or
- ``index``: a ``@kopf.index`` on the same kind plus the same event handler,

and the time until every Subnet's event handler ran once is reported. With an
index, each object's worker waits on Kopf's shared readiness toggle set until
the whole kind is indexed, and each indexed object wakes every waiter: growth
is quadratic. Ratios within one run are what to read, not absolute seconds.

    python -m benchmarks.bench_kopf_index 250 500 1000 2000
    python -m benchmarks.bench_kopf_index --patterns event 5000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import time
from typing import Any

import kopf

from ovnctl.k8s.connection import connect
from ovnctl.k8s.resources import SUBNETS
from ovnctl.sim import ThreadedSimServer
from tests.conftest import crd_manifests
from tests.controller.objects import subnet

PATTERNS = ("event", "index")


async def _create(url_kubeconfig: str, count: int) -> None:
    kube = connect(kubeconfig=url_kubeconfig, max_concurrency=32)
    semaphore = asyncio.Semaphore(32)

    async def create(i: int) -> None:
        async with semaphore:
            await kube.create(SUBNETS, subnet(f"s{i}", f"10.{i // 256}.{i % 256}.0/24"))

    try:
        await asyncio.gather(*(create(i) for i in range(count)))
    finally:
        kube.close()


async def measure(count: int, *, pattern: str, within: float = 3600.0) -> float:
    """Seconds from Kopf's start until each of ``count`` Subnets was handled once."""
    with ThreadedSimServer(manifests=crd_manifests()) as sim:
        await _create(str(sim.kubeconfig_path), count)
        registry = kopf.OperatorRegistry()
        handled: set[str] = set()
        everyone = asyncio.Event()

        @kopf.on.login(registry=registry)
        def login(**_: Any) -> kopf.ConnectionInfo:
            return kopf.ConnectionInfo(server=sim.url, token="ovnctl-sim")

        @kopf.on.event(SUBNETS.group, SUBNETS.version, SUBNETS.plural, registry=registry)
        async def on_event(name: str, **_: Any) -> None:
            handled.add(name)
            if len(handled) >= count:
                everyone.set()

        if pattern == "index":

            @kopf.index(SUBNETS.group, SUBNETS.version, SUBNETS.plural, registry=registry)
            async def by_name(name: str, **_: Any) -> dict[str, bool]:
                return {name: True}

        settings = kopf.OperatorSettings()
        settings.posting.enabled = False
        settings.scanning.disabled = True
        settings.peering.standalone = True
        stop: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        started = time.monotonic()
        tasks = await kopf.spawn_tasks(
            registry=registry, settings=settings, clusterwide=True, stop_flag=stop
        )
        try:
            await asyncio.wait_for(everyone.wait(), within)
            return time.monotonic() - started
        finally:
            stop.set_result(None)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", nargs="*", type=int, default=[250, 500, 1000, 2000])
    parser.add_argument("--patterns", nargs="+", choices=PATTERNS, default=list(PATTERNS))
    args = parser.parse_args()
    logging.getLogger("kopf").setLevel(logging.ERROR)
    print(f"{'subnets':>8}  {'pattern':>7}  {'all handled after s':>19}  {'ms per subnet':>13}")
    for n in args.counts:
        for pattern in args.patterns:
            seconds = asyncio.run(measure(n, pattern=pattern))
            print(f"{n:>8}  {pattern:>7}  {seconds:>19.2f}  {seconds / n * 1000:>13.3f}")


if __name__ == "__main__":
    main()
