"""Scenario ``alloc``: how fast pods get their addresses, end to end.

N pods x M Multus attachments (default 1,000 KubeVirt virt-launcher pods,
with their VMs, x 2), each attachment a kube-ovn NAD with its own subnet.
Time starts when the first pod create is sent and ends when the driver's
watch shows the last pod annotated with every provider ``allocated``; per
pod, latency runs from its create request to that watch event.

This is the measurement of ``benchmarks/bench_alloc.py`` (issue 6), which is
a thin wrapper over :func:`measure`; the controller here is ``ovnctl run``
in its own process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Any

from ovnctl.bench import objects
from ovnctl.bench.report import Check, ScenarioResult, Series
from ovnctl.bench.runner import (
    ControllerProcess,
    DepthSampler,
    Driver,
    Progress,
    controller_count,
    controller_requests,
    cpu_seconds,
    percentile,
    sim_process,
)

__all__ = ["AllocOutcome", "measure", "run"]

PODS_PATH = f"/api/v1/namespaces/{objects.NAMESPACE}/pods"
SUBNETS_PATH = "/apis/kubeovn.io/v1/subnets"
TARGET_S = 20.0
"""Issue 6's target for 1,000 VM pods x 2 attachments on 2 cores."""


@dataclasses.dataclass(frozen=True)
class AllocOutcome:
    scenario: str
    pods: int
    attachments: int
    nics: int
    total_s: float
    creates_s: float
    """How long sending the creates took (the driver and server's share of the total)."""
    p50_ms: float
    p99_ms: float
    max_ms: float
    nics_per_s: float
    target_s: float
    met: bool
    ip_creates: int
    pod_patches: int
    nad_gets: int
    requests_by_verb: dict[str, int] = dataclasses.field(default_factory=dict)
    controller_cpu_s: float = 0.0
    server_cpu_s: float = 0.0
    annotated: list[tuple[float, int]] = dataclasses.field(default_factory=list)
    """(seconds since the first create, pods annotated so far)."""
    queue_depth: list[tuple[float, float]] = dataclasses.field(default_factory=list)


def _pod(i: int, *, attachments: int, vms: bool) -> dict[str, Any]:
    networks = [f"net{a}" for a in range(attachments)]
    if vms:
        return objects.pod(f"virt-launcher-vm{i}-x", networks=networks, vm=f"vm{i}")
    return objects.pod(f"pod{i}", networks=networks)


async def _subnets_ready(driver: Driver, count: int) -> None:
    deadline = time.monotonic() + 120
    while True:
        items = (await driver.list(SUBNETS_PATH))["items"]
        ready = [
            s
            for s in items
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (s.get("status") or {}).get("conditions", [])
            )
        ]
        if len(ready) == count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{len(ready)} of {count} subnets Ready after 120 s")
        await asyncio.sleep(0.05)


async def _watch_allocated(
    driver: Driver, rv: str, providers: list[str], expected: int, seen: dict[str, float]
) -> None:
    """Record when each pod is first seen with every provider allocated."""
    keys = [f"{p}.kubernetes.io/allocated" for p in providers]
    async for event in driver.watch(PODS_PATH, resource_version=rv):
        meta = (event.get("object") or {}).get("metadata") or {}
        annotations = meta.get("annotations") or {}
        name = meta.get("name")
        if name and name not in seen and all(annotations.get(k) == "true" for k in keys):
            seen[name] = time.perf_counter()
            if len(seen) >= expected:
                return


async def _measure(
    *,
    name: str,
    pods: int,
    attachments: int,
    vms: bool,
    latency_ms: float,
    log_dir: Path,
    progress: Progress,
    target_s: float,
) -> AllocOutcome:
    with sim_process(latency_ms=latency_ms) as sim:
        async with Driver(sim.url) as driver:
            for a in range(attachments):
                await driver.create(objects.nad(f"net{a}"))
                await driver.create(
                    objects.subnet(f"sub{a}", f"10.{100 + a}.0.0/16", nad_name=f"net{a}")
                )
            if vms:
                progress(f"creating {pods} VMs")
                await driver.create_all(objects.vm(f"vm{i}") for i in range(pods))
            with ControllerProcess(
                kubeconfig=sim.kubeconfig_path,
                log_dir=log_dir,
                name=f"controller-alloc-{name}",
                extra=["--no-primary-network"],
            ) as controller:
                await controller.wait_ready()
                await _subnets_ready(driver, attachments)
                rv = await driver.resource_version(PODS_PATH)
                sim.reset_request_log()
                cpu_controller, cpu_server = controller.cpu_seconds(), cpu_seconds(sim.pid)
                providers = [objects.provider(f"net{a}") for a in range(attachments)]
                seen: dict[str, float] = {}
                watcher = asyncio.create_task(_watch_allocated(driver, rv, providers, pods, seen))
                sampler = DepthSampler(controller, queues=["pods"])
                sampler.start()
                await asyncio.sleep(0.05)  # the watch is open before the first create
                progress(f"creating {pods} pods x {attachments} attachments")
                t0 = time.perf_counter()
                sent = await driver.create_all(
                    (_pod(i, attachments=attachments, vms=vms) for i in range(pods)),
                    progress=progress,
                )
                creates = time.perf_counter() - t0
                progress(f"creates sent in {creates:.1f} s; waiting for annotations")
                await asyncio.wait_for(watcher, timeout=600)
                total = max(seen.values()) - t0
                await sampler.stop()
                cpu_controller = controller.cpu_seconds() - cpu_controller
                cpu_server = cpu_seconds(sim.pid) - cpu_server
                log = sim.request_log()
    latencies = [(seen[n] - sent[n]) * 1000 for n in sent]
    done = sorted(t - t0 for t in seen.values())
    step = max(1, len(done) // 200)
    curve = [
        (round(t, 3), i + 1) for i, t in enumerate(done) if i % step == 0 or i == len(done) - 1
    ]
    progress(f"all {pods} pods annotated after {total:.2f} s")
    return AllocOutcome(
        scenario=name,
        pods=pods,
        attachments=attachments,
        nics=pods * attachments,
        total_s=round(total, 2),
        creates_s=round(creates, 2),
        p50_ms=round(percentile(latencies, 0.5), 1),
        p99_ms=round(percentile(latencies, 0.99), 1),
        max_ms=round(max(latencies), 1),
        nics_per_s=round(pods * attachments / total),
        target_s=target_s,
        met=total <= target_s,
        ip_creates=controller_count(log, verb="create", resource="ips"),
        pod_patches=controller_count(log, verb="patch", resource="pods"),
        nad_gets=controller_count(log, verb="get", resource="network-attachment-definitions"),
        requests_by_verb=controller_requests(log),
        controller_cpu_s=round(cpu_controller, 2),
        server_cpu_s=round(cpu_server, 2),
        annotated=curve,
        queue_depth=sampler.series("pods"),
    )


def measure(
    *,
    name: str = "vm",
    pods: int,
    attachments: int,
    vms: bool = True,
    latency_ms: float,
    log_dir: Path,
    progress: Progress | None = None,
    target_s: float = TARGET_S,
) -> AllocOutcome:
    """One allocation run on a fresh API server and controller process."""
    return asyncio.run(
        _measure(
            name=name,
            pods=pods,
            attachments=attachments,
            vms=vms,
            latency_ms=latency_ms,
            log_dir=log_dir,
            progress=progress or Progress(quiet=True),
            target_s=target_s,
        )
    )


def run(
    *, pods: int, attachments: int, latency_ms: float, log_dir: Path, progress: Progress
) -> ScenarioResult:
    o = measure(
        pods=pods,
        attachments=attachments,
        latency_ms=latency_ms,
        log_dir=log_dir,
        progress=progress,
    )
    rows = [
        ("VM pods x attachments", f"{o.pods} x {o.attachments} = {o.nics} NICs"),
        ("all annotated after s", f"{o.total_s}"),
        ("creates sent in s", f"{o.creates_s}"),
        ("per pod p50 / p99 / max ms", f"{o.p50_ms} / {o.p99_ms} / {o.max_ms}"),
        ("NICs per second", f"{o.nics_per_s}"),
        ("IP creates / pod patches / NAD GETs", f"{o.ip_creates} / {o.pod_patches} / {o.nad_gets}"),
        (
            "controller requests by verb",
            ", ".join(f"{k} {v}" for k, v in o.requests_by_verb.items()),
        ),
        ("controller CPU s / API server CPU s", f"{o.controller_cpu_s} / {o.server_cpu_s}"),
    ]
    checks = []
    if (o.pods, o.attachments) == (1000, 2):
        checks.append(
            Check(
                "1,000 VM pods x 2 annotated (issue 6)",
                f"<= {o.target_s:g} s",
                f"{o.total_s} s",
                o.met,
            )
        )
    return ScenarioResult(
        scenario="alloc",
        title="allocation throughput: VM pods x attachments",
        params={"pods": pods, "attachments": attachments, "latency_ms": latency_ms},
        metrics=dataclasses.asdict(o),
        rows=rows,
        checks=checks,
        series=[
            Series(
                "pods annotated", [t for t, _ in o.annotated], [float(n) for _, n in o.annotated]
            ),
            Series(
                "pods queue depth", [t for t, _ in o.queue_depth], [d for _, d in o.queue_depth]
            ),
        ],
        x_label="seconds since the first pod create",
        y_label="pods",
    )
