"""Scenario ``restart``: from process start to ready with existing IP objects.

The cluster already holds what a previous ovnctl left behind: ``ips`` pods
attached to one kube-ovn NAD, each annotated with its address, and one IP
object per NIC (both built with ovnctl's own models, so they are exactly what
the controller writes). They are created through the API with the server's
latency set to 0 (``--load`` would parse YAML at ~1.3 ms per object), then the
latency is restored and ``ovnctl run`` starts.

Measured: seconds from ``Popen`` to ``/readyz`` answering ``leading`` (caches
listed, IPAM rebuilt from the IP objects, every subnet reconciled: pods may be
allocated from then on), then until the queues are empty (every pod checked
once), and the API requests of the restart: a consistent state needs no
writes at all. A start on an empty cluster gives the fixed cost (interpreter,
imports, the reflectors' first LISTs and Kopf's start-up for the Subnet
kind) for comparison.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ovnctl.bench import objects
from ovnctl.bench.report import Check, ScenarioResult, Series
from ovnctl.bench.runner import (
    ControllerProcess,
    Driver,
    Progress,
    controller_count,
    controller_requests,
    sim_process,
)

__all__ = ["run"]

TARGET_S = 5.0
PRELOAD_CONCURRENCY = 64
QUEUES = ("subnets", "pods", "vms")


def _cidr(count: int) -> str:
    return "10.128.0.0/16" if count < 65_000 else "10.64.0.0/10"


async def _start(
    sim_kubeconfig: Path, log_dir: Path, name: str
) -> tuple[float, float, dict[str, float]]:
    with ControllerProcess(
        kubeconfig=sim_kubeconfig, log_dir=log_dir, name=name, extra=["--no-primary-network"]
    ) as controller:
        ready = await controller.wait_ready()
        settled = await controller.wait_settled(QUEUES)
        samples = await controller.metrics()
    caches = {
        dict(labels).get("cache", ""): value
        for (metric, labels), value in samples.items()
        if metric == "ovnctl_cache_objects"
    }
    caches["nics"] = samples.get(("ovnctl_nics", ()), 0.0)
    return ready, settled, caches


async def _run(*, ips: int, latency_ms: float, log_dir: Path, progress: Progress) -> ScenarioResult:
    cidr = _cidr(ips)
    with sim_process(latency_ms=latency_ms) as sim:
        async with Driver(sim.url, concurrency=PRELOAD_CONCURRENCY) as driver:
            await driver.create(objects.nad("net0"))
            await driver.create(objects.subnet("restart", cidr, nad_name="net0"))
            progress("baseline: start on a cluster with one subnet and no pods")
            base_ready, base_settled, _ = await _start(
                sim.kubeconfig_path, log_dir, "restart-empty"
            )
            progress(f"baseline ready after {base_ready:.2f} s")

            progress(f"preloading {ips} pods and {ips} IP objects (server latency 0 meanwhile)")
            sim.configure(latency_ms=0)
            t0 = time.perf_counter()
            where = {"subnet_name": "restart", "cidr": cidr, "nad_name": "net0"}
            await driver.create_all(
                (objects.allocated_pod(f"pod{i}", index=i, **where) for i in range(ips)),
                progress=progress,
            )
            await driver.create_all(
                (objects.ip_object(f"pod{i}", index=i, **where) for i in range(ips)),
                progress=progress,
            )
            progress(f"preloaded in {time.perf_counter() - t0:.1f} s")
            sim.configure(latency_ms=latency_ms)
            sim.reset_request_log()
            progress("starting ovnctl run")
            ready, settled, caches = await _start(sim.kubeconfig_path, log_dir, "restart")
            log = sim.request_log()
    by_verb = controller_requests(log)
    writes = sum(n for verb, n in by_verb.items() if verb not in ("get", "list", "watch"))
    progress(f"ready after {ready:.2f} s, queues empty after {settled:.2f} s")
    rows = [
        ("IP objects (and pods) existing", f"{ips}"),
        ("start -> ready (leading) s", f"{ready:.2f}"),
        ("start -> queues empty s", f"{settled:.2f}"),
        ("empty cluster: start -> ready s", f"{base_ready:.2f}"),
        (
            "cached pods / NICs rebuilt",
            f"{caches.get('pods', 0):.0f} / {caches.get('nics', 0):.0f}",
        ),
        ("controller requests by verb", ", ".join(f"{k} {v}" for k, v in by_verb.items())),
        (
            "IP creates / pod patches",
            f"{controller_count(log, verb='create', resource='ips')} / "
            f"{controller_count(log, verb='patch', resource='pods')}",
        ),
    ]
    checks = [
        Check(
            f"ready with {ips} IP objects",
            f"<= {TARGET_S:g} s",
            f"{ready:.2f} s",
            ready <= TARGET_S,
        )
    ]
    return ScenarioResult(
        scenario="restart",
        title=f"start to ready with {ips} existing IP objects",
        params={"ips": ips, "latency_ms": latency_ms},
        metrics={
            "ips": ips,
            "ready_s": round(ready, 3),
            "settled_s": round(settled, 3),
            "empty_ready_s": round(base_ready, 3),
            "empty_settled_s": round(base_settled, 3),
            "caches": caches,
            "requests_by_verb": by_verb,
            "writes": writes,
        },
        rows=rows,
        checks=checks,
        series=[
            Series(
                "seconds",
                ["empty: ready", f"{ips} IPs: ready", f"{ips} IPs: queues empty", "target"],
                [base_ready, ready, settled, TARGET_S],
                kind="bar",
            )
        ],
        y_label="seconds since process start",
    )


def run(*, ips: int, latency_ms: float, log_dir: Path, progress: Progress) -> ScenarioResult:
    return asyncio.run(_run(ips=ips, latency_ms=latency_ms, log_dir=log_dir, progress=progress))
