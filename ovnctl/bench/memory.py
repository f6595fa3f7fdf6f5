"""Scenario ``memory``: controller RSS with many pods and NADs cached, and per object.

Two starts of ``ovnctl run``, each on a fresh API server: one on an empty
cluster, one on a cluster holding ``pods`` pods and ``nads`` kube-ovn NADs
(created through the API with the server's latency set to 0 before the
controller starts). Each time the controller is left to finish its start-up
work (queues empty) and its ``VmRSS`` is read from ``/proc/<pid>/status``;
the difference divided by the number of objects is the cost per cached
object (everything the controller keeps for it: the cache's index entries and
records its informer keeps, and any state of the reconcilers; pods and NADs
are watched by ovnctl's reflectors, not Kopf, which watches only Subnets).

The pods are ordinary workload pods (labels, an unrelated annotation, two
containers) with no Multus attachment: the cache keeps a small record of
each, and the controller writes nothing for them.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from ovnctl.bench import objects
from ovnctl.bench.report import Check, ScenarioResult, Series
from ovnctl.bench.runner import ControllerProcess, Driver, Progress, rss_kib, sim_process

__all__ = ["run"]

TARGET_BYTES = 2048
PRELOAD_CONCURRENCY = 64
QUEUES = ("subnets", "pods", "vms")
SETTLE_S = 2.0


def _workload_pod(i: int) -> dict[str, Any]:
    body = objects.pod(f"app{i // 10}-{i % 10}")
    meta = body["metadata"]
    meta["labels"] = {"app": f"app{i // 10}", "pod-template-hash": f"{i // 10:08x}"}
    meta["annotations"] = {"kubectl.kubernetes.io/restartedAt": "2026-01-01T00:00:00Z"}
    body["spec"]["containers"].append({"name": "sidecar", "image": "envoy", "ports": []})
    return body


async def _measure(
    sim_kubeconfig: Path, log_dir: Path, name: str
) -> tuple[int, float, dict[str, float]]:
    with ControllerProcess(
        kubeconfig=sim_kubeconfig, log_dir=log_dir, name=name, extra=["--no-primary-network"]
    ) as controller:
        await controller.wait_ready(within=900)
        settled = await controller.wait_settled(QUEUES, within=900)
        await asyncio.sleep(SETTLE_S)
        rss = controller.rss_kib()
        samples = await controller.metrics()
    caches = {
        dict(labels).get("cache", ""): value
        for (metric, labels), value in samples.items()
        if metric == "ovnctl_cache_objects"
    }
    return rss, settled, caches


async def _run(
    *, pods: int, nads: int, latency_ms: float, log_dir: Path, progress: Progress
) -> ScenarioResult:
    with sim_process(latency_ms=latency_ms) as sim:
        progress("controller on an empty cluster")
        empty_kib, _, _ = await _measure(sim.kubeconfig_path, log_dir, "memory-empty")
        progress(f"empty: RSS {empty_kib / 1024:.1f} MiB")
    with sim_process(latency_ms=latency_ms) as sim:
        async with Driver(sim.url, concurrency=PRELOAD_CONCURRENCY) as driver:
            progress(f"preloading {nads} NADs and {pods} pods (server latency 0 meanwhile)")
            sim.configure(latency_ms=0)
            t0 = time.perf_counter()
            await driver.create_all(
                (objects.nad(f"net{i}") for i in range(nads)), progress=progress
            )
            await driver.create_all((_workload_pod(i) for i in range(pods)), progress=progress)
            progress(f"preloaded in {time.perf_counter() - t0:.1f} s")
            sim.configure(latency_ms=latency_ms)
        progress("controller on the loaded cluster")
        loaded_kib, settled, caches = await _measure(sim.kubeconfig_path, log_dir, "memory-loaded")
        server_kib = rss_kib(sim.pid)
    count = pods + nads
    per_object = (loaded_kib - empty_kib) * 1024 / count
    progress(f"loaded: RSS {loaded_kib / 1024:.1f} MiB, {per_object:.0f} bytes per object")
    rows = [
        (
            "pods + NADs cached",
            f"{caches.get('pods', 0):.0f} + {caches.get('network-attachment-definitions', 0):.0f}",
        ),
        ("controller RSS empty MiB", f"{empty_kib / 1024:.1f}"),
        ("controller RSS loaded MiB", f"{loaded_kib / 1024:.1f}"),
        ("per cached object bytes", f"{per_object:.0f}"),
        ("start -> queues empty (loaded) s", f"{settled:.1f}"),
        ("API server RSS loaded MiB", f"{server_kib / 1024:.1f}"),
    ]
    return ScenarioResult(
        scenario="memory",
        title=f"controller RSS with {pods} pods and {nads} NADs",
        params={"pods": pods, "nads": nads, "latency_ms": latency_ms},
        metrics={
            "pods": pods,
            "nads": nads,
            "empty_rss_kib": empty_kib,
            "loaded_rss_kib": loaded_kib,
            "per_object_bytes": round(per_object),
            "settled_s": round(settled, 2),
            "caches": caches,
            "server_rss_kib": server_kib,
        },
        rows=rows,
        checks=[
            Check(
                "RSS per cached object",
                f"<= {TARGET_BYTES} bytes",
                f"{per_object:.0f} bytes",
                per_object <= TARGET_BYTES,
            )
        ],
        series=[
            Series(
                "MiB",
                ["controller empty", "controller loaded", "API server loaded"],
                [empty_kib / 1024, loaded_kib / 1024, server_kib / 1024],
                kind="bar",
            )
        ],
        y_label="RSS MiB",
    )


def run(
    *, pods: int, nads: int, latency_ms: float, log_dir: Path, progress: Progress
) -> ScenarioResult:
    return asyncio.run(
        _run(pods=pods, nads=nads, latency_ms=latency_ms, log_dir=log_dir, progress=progress)
    )
