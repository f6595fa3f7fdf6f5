"""Scenario ``alloc``: how fast pods get their addresses, end to end.

N pods x M Multus attachments (default 1,000 KubeVirt virt-launcher pods,
with their VMs, x 2), each attachment a kube-ovn NAD with its own subnet.
Time starts when the first pod create is sent and ends when the driver's
watch shows the last pod annotated with every provider ``allocated``; per
pod, latency runs from its create request to that watch event.

CPU is read from ``/proc`` (utime + stime), which stays fair on a shared
machine where wall-clock time does not: the controller's CPU over the burst
only (first create to last annotation) gives ``controller CPU per NIC``, with
the ``/metrics`` scrapes of the queue-depth sampler (every 0.5 s) measured
alone beforehand and subtracted; start-up CPU (process start to ready) and
the whole process's CPU are reported apart. After the controller stops, the
same server serves the write floor (:mod:`ovnctl.bench.floor`): the same
writes from a minimal client, and ovnctl's time is reported as a ratio to it.
Several ``pods`` sizes make a sweep, to show time per pod and CPU per NIC
stay flat as the cluster grows.

This is the measurement of ``benchmarks/bench_alloc.py`` (issue 6), which is
a thin wrapper over :func:`measure`; the controller here is ``ovnctl run``
in its own process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ovnctl.bench import objects
from ovnctl.bench.floor import measure_floor
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
    profiled,
    sim_process,
)

__all__ = ["AllocOutcome", "measure", "run"]

PODS_PATH = f"/api/v1/namespaces/{objects.NAMESPACE}/pods"
SUBNETS_PATH = "/apis/kubeovn.io/v1/subnets"
TARGET_S = 20.0
"""Issue 6's target for 1,000 VM pods x 2 attachments on 2 cores."""
CPU_PER_NIC_TARGET_MS = 0.5
"""Issue 20: controller CPU per NIC over the burst, at 1,000 x 2."""
FLOOR_RATIO_TARGET = 1.5
"""Issue 20: time until all pods are annotated, as a multiple of the write floor."""
GROWTH_TARGET = 1.3
"""Issue 20: time per pod and CPU per NIC at the largest size over the smallest."""
SCRAPE_INTERVAL_S = 0.5
"""How often the queue depth is scraped during the burst; each scrape's CPU is subtracted."""
SCRAPE_PROBES = 10
POD_WORKERS = 8
"""``ovnctl run``'s default ``--pod-workers``: the write floor's concurrency."""


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
    """Controller CPU over the burst (first create to last annotation), scrapes subtracted."""
    server_cpu_s: float = 0.0
    """API server CPU over the same burst."""
    cpu_per_nic_ms: float = 0.0
    """``controller_cpu_s`` per NIC."""
    process_cpu_s: float = 0.0
    """The controller process's CPU from its start to the last annotation."""
    startup_cpu_s: float = 0.0
    """The controller's CPU from its start until ``/readyz`` says ``leading``."""
    scrapes: int = 0
    scrape_cpu_ms: float = 0.0
    """Controller CPU per ``/metrics`` scrape, measured idle before the burst."""
    ms_per_pod: float = 0.0
    floor_s: float = 0.0
    """The write floor: the same writes from a minimal client (0: not measured)."""
    floor_ratio: float = 0.0
    annotated: list[tuple[float, int]] = dataclasses.field(default_factory=list)
    """(seconds since the first create, pods annotated so far)."""
    queue_depth: list[tuple[float, float]] = dataclasses.field(default_factory=list)


def _pod(i: int, *, attachments: int, vms: bool, prefix: str = "") -> dict[str, Any]:
    networks = [f"net{a}" for a in range(attachments)]
    if vms:
        return objects.pod(f"{prefix}virt-launcher-vm{i}-x", networks=networks, vm=f"vm{i}")
    return objects.pod(f"{prefix}pod{i}", networks=networks)


async def _scrape_cpu(controller: ControllerProcess) -> float:
    """Controller CPU seconds per ``/metrics`` scrape, measured with nothing else to do."""
    before = controller.cpu_seconds()
    for _ in range(SCRAPE_PROBES):
        await controller.metrics()
    return (controller.cpu_seconds() - before) / SCRAPE_PROBES


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
    floor: bool,
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
                startup_cpu = controller.cpu_seconds()
                await _subnets_ready(driver, attachments)
                rv = await driver.resource_version(PODS_PATH)
                per_scrape = await _scrape_cpu(controller)
                sim.reset_request_log()
                providers = [objects.provider(f"net{a}") for a in range(attachments)]
                seen: dict[str, float] = {}
                watcher = asyncio.create_task(_watch_allocated(driver, rv, providers, pods, seen))
                sampler = DepthSampler(controller, queues=["pods"], interval=SCRAPE_INTERVAL_S)
                await asyncio.sleep(0.05)  # the watch is open before the first create
                progress(f"creating {pods} pods x {attachments} attachments")
                with profiled(controller.pid, f"alloc-{name}-{pods}x{attachments}"):
                    cpu_controller, cpu_server = controller.cpu_seconds(), cpu_seconds(sim.pid)
                    sampler.start()
                    t0 = time.perf_counter()
                    sent = await driver.create_all(
                        (_pod(i, attachments=attachments, vms=vms) for i in range(pods)),
                        progress=progress,
                    )
                    creates = time.perf_counter() - t0
                    progress(f"creates sent in {creates:.1f} s; waiting for annotations")
                    await asyncio.wait_for(watcher, timeout=600)
                    process_cpu = controller.cpu_seconds()
                cpu_controller = process_cpu - cpu_controller
                cpu_server = cpu_seconds(sim.pid) - cpu_server
                total = max(seen.values()) - t0
                await sampler.stop()
                log = sim.request_log()
            floor_s = 0.0
            if floor:
                progress(f"write floor: the same writes for {pods} pods from a minimal client")
                floor_s = await measure_floor(
                    sim.url,
                    [
                        _pod(i, attachments=attachments, vms=vms, prefix="floor-")
                        for i in range(pods)
                    ],
                    attachments=attachments,
                    workers=POD_WORKERS,
                )
                progress(f"write floor: {floor_s:.2f} s")
    latencies = [(seen[n] - sent[n]) * 1000 for n in sent]
    done = sorted(t - t0 for t in seen.values())
    step = max(1, len(done) // 200)
    curve = [
        (round(t, 3), i + 1) for i, t in enumerate(done) if i % step == 0 or i == len(done) - 1
    ]
    progress(f"all {pods} pods annotated after {total:.2f} s")
    # The sampler's scrapes are the benchmark's, not the allocation's: each cost about
    # what one cost when the controller was idle.
    scrapes = len(sampler.samples)
    burst_cpu = max(0.0, cpu_controller - scrapes * per_scrape)
    nics = pods * attachments
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
        controller_cpu_s=round(burst_cpu, 3),
        server_cpu_s=round(cpu_server, 2),
        cpu_per_nic_ms=round(burst_cpu * 1000 / nics, 3),
        process_cpu_s=round(process_cpu, 2),
        startup_cpu_s=round(startup_cpu, 2),
        scrapes=scrapes,
        scrape_cpu_ms=round(per_scrape * 1000, 2),
        ms_per_pod=round(total * 1000 / pods, 3),
        floor_s=round(floor_s, 2),
        floor_ratio=round(total / floor_s, 2) if floor_s else 0.0,
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
    floor: bool = True,
) -> AllocOutcome:
    """One allocation run on a fresh API server and controller process (then the floor)."""
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
            floor=floor,
        )
    )


def _rows(o: AllocOutcome, tag: str = "") -> list[tuple[str, str]]:
    per_nic_process = o.process_cpu_s * 1000 / o.nics
    floor = f"{o.floor_s} s; ovnctl {o.floor_ratio}x" if o.floor_s else "not measured"
    return [
        (f"{tag}VM pods x attachments", f"{o.pods} x {o.attachments} = {o.nics} NICs"),
        (f"{tag}all annotated after s", f"{o.total_s} ({o.ms_per_pod} ms per pod)"),
        (f"{tag}creates sent in s", f"{o.creates_s}"),
        (f"{tag}per pod p50 / p99 / max ms", f"{o.p50_ms} / {o.p99_ms} / {o.max_ms}"),
        (f"{tag}NICs per second", f"{o.nics_per_s}"),
        (
            f"{tag}IP creates / pod patches / NAD GETs",
            f"{o.ip_creates} / {o.pod_patches} / {o.nad_gets}",
        ),
        (
            f"{tag}controller requests by verb",
            ", ".join(f"{k} {v}" for k, v in o.requests_by_verb.items()),
        ),
        (
            f"{tag}controller CPU per NIC ms",
            f"{o.cpu_per_nic_ms} (burst; whole process {per_nic_process:.3f})",
        ),
        (
            f"{tag}controller CPU s: burst / whole process",
            f"{o.controller_cpu_s} / {o.process_cpu_s}"
            f" ({o.scrapes} /metrics scrapes x {o.scrape_cpu_ms} ms subtracted)",
        ),
        (f"{tag}start-up CPU s", f"{o.startup_cpu_s} (process start to ready)"),
        (f"{tag}API server CPU s (burst)", f"{o.server_cpu_s}"),
        (f"{tag}write floor", floor),
    ]


def _checks(o: AllocOutcome) -> list[Check]:
    if (o.pods, o.attachments) != (1000, 2):
        return []
    checks = [
        Check(
            "1,000 VM pods x 2 annotated (issue 6)",
            f"<= {o.target_s:g} s",
            f"{o.total_s} s",
            o.met,
        ),
        Check(
            "controller CPU per NIC (issue 20)",
            f"<= {CPU_PER_NIC_TARGET_MS} ms",
            f"{o.cpu_per_nic_ms} ms",
            o.cpu_per_nic_ms <= CPU_PER_NIC_TARGET_MS,
        ),
    ]
    if o.floor_s:
        checks.append(
            Check(
                "all annotated vs the write floor (issue 20)",
                f"<= {FLOOR_RATIO_TARGET}x",
                f"{o.floor_ratio}x",
                o.floor_ratio <= FLOOR_RATIO_TARGET,
            )
        )
    return checks


def _growth(outcomes: list[AllocOutcome]) -> tuple[list[tuple[str, str]], list[Check]]:
    """The sweep's table and, between the smallest and largest size, the growth targets."""
    rows = [
        (
            f"sweep {o.pods} pods",
            f"{o.ms_per_pod} ms per pod; {o.cpu_per_nic_ms} ms CPU per NIC;"
            f" floor ratio {o.floor_ratio}x",
        )
        for o in outcomes
    ]
    small = min(outcomes, key=lambda o: o.pods)
    large = max(outcomes, key=lambda o: o.pods)
    checks = []
    if large.pods > small.pods and small.ms_per_pod and small.cpu_per_nic_ms:
        for label, a, b in (
            ("time per pod", small.ms_per_pod, large.ms_per_pod),
            ("CPU per NIC", small.cpu_per_nic_ms, large.cpu_per_nic_ms),
        ):
            ratio = b / a
            checks.append(
                Check(
                    f"{label} at {large.pods} over {small.pods} pods (issue 20)",
                    f"<= {GROWTH_TARGET}x",
                    f"{ratio:.2f}x",
                    ratio <= GROWTH_TARGET,
                )
            )
    return rows, checks


def run(
    *,
    pods: Sequence[int],
    attachments: int,
    latency_ms: float,
    log_dir: Path,
    progress: Progress,
) -> ScenarioResult:
    """One run per size in ``pods`` (several make a sweep), each on a fresh server."""
    outcomes: list[AllocOutcome] = []
    for size in pods:
        if len(pods) > 1:
            progress(f"size {size}")
        outcomes.append(
            measure(
                pods=size,
                attachments=attachments,
                latency_ms=latency_ms,
                log_dir=log_dir,
                progress=progress,
            )
        )
    o = outcomes[0]
    sweep = len(outcomes) > 1
    rows: list[tuple[str, str]] = []
    checks: list[Check] = []
    for outcome in outcomes:
        rows.extend(_rows(outcome, tag=f"[{outcome.pods}] " if sweep else ""))
        checks.extend(_checks(outcome))
    metrics: dict[str, Any] = dataclasses.asdict(o)
    if sweep:
        growth_rows, growth_checks = _growth(outcomes)
        rows.extend(growth_rows)
        checks.extend(growth_checks)
        metrics["sweep"] = [dataclasses.asdict(outcome) for outcome in outcomes]
    return ScenarioResult(
        scenario="alloc",
        title="allocation throughput: VM pods x attachments",
        params={"pods": list(pods), "attachments": attachments, "latency_ms": latency_ms},
        metrics=metrics,
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
