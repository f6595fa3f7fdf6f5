"""Scenario ``nad-cache``: the NAD read cache versus a live GET per lookup (Kube-OVN #5353).

Hundreds of subnets, each bound to its own kube-ovn NAD, under churn, in a
cluster where multi-homed pods run (the resident pods: two attachments each,
on two subnets the churn leaves alone). Four modes, each on a fresh API
server and controller process, everything else equal:

- ``cache``: ovnctl as shipped;
- ``live``: a GET of the NAD wherever ovnctl's subnet reconciler looks one up;
- ``walk-cache`` and ``walk-live``: Kube-OVN 1.13's NAD reads added to every
  subnet reconcile (each alive pod's attachments, see
  :mod:`ovnctl.bench.kube_ovn_walk`), read from the cache (Kube-OVN after
  #5386) or with a GET each (before it: #5353's condition).

The issue's targets compare ``walk-cache`` with ``walk-live``: the NAD cache
versus live lookups, under the access pattern #5353 measured. ``cache`` versus
``live`` is reported beside it: what live lookups would cost ovnctl's own
design, which never walks pods in a subnet reconcile.

The churn, each step waited for through the driver's own watch of subnets:

1. create every NAD, then every subnet: time from each subnet's create to the
   watch showing it ``Ready`` for its generation;
2. update: a new ``excludeIps`` on every subnet (ready again with the new count);
3. delete ``churn`` of the subnets and the NADs of another ``churn`` (those
   subnets turn ``NadNotFound``), then re-create both: re-created subnets count
   as creations, and NAD re-creation to Ready is the recovery time;
4. delete every subnet.

Residents are created and allocated before measuring starts.
Measured per mode: queue depth of the ``subnets`` queue over time (scraped
from ``/metrics``), creation-to-Ready p50/p99, the controller's API requests
by verb (the server's log, the driver's User-Agent left out), CPU seconds of
the controller and of the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ovnctl.bench import objects
from ovnctl.bench.launch import MODES
from ovnctl.bench.report import Check, ScenarioResult, Series
from ovnctl.bench.runner import (
    DRIVER_AGENT,
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
from ovnctl.sim.requestlog import RequestLog

__all__ = ["run"]

SUBNETS_PATH = "/apis/kubeovn.io/v1/subnets"
PODS_PATH = f"/api/v1/namespaces/{objects.NAMESPACE}/pods"
NAD_RESOURCE = "network-attachment-definitions"
TIMEOUT = 600.0
RESIDENT_NETWORKS = ("resident0", "resident1")
"""NAD (and subnet) names every resident pod attaches to: two attachments per pod."""


def _cidr(i: int) -> str:
    return f"10.{50 + i // 200}.{i % 200}.0/24"


def _subnet(i: int) -> dict[str, Any]:
    return objects.subnet(f"s{i}", _cidr(i), nad_name=f"net{i}")


def _ready(obj: Mapping[str, Any]) -> bool:
    generation = obj["metadata"].get("generation")
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return bool(c.get("status") == "True" and c.get("observedGeneration") == generation)
    return False


def _reason(obj: Mapping[str, Any]) -> str:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return str(c.get("reason", ""))
    return ""


class SubnetWatch:
    """The driver's watch of subnets: current objects, and when each became Ready."""

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self.current: dict[str, dict[str, Any]] = {}
        self.became_ready: dict[str, list[float]] = {}
        """Per name: each time the watch showed it turn Ready (for its generation)."""
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        rv = await self._driver.resource_version(SUBNETS_PATH)
        self._task = asyncio.get_running_loop().create_task(self._run(rv))

    async def _run(self, rv: str) -> None:
        async for event in self._driver.watch(SUBNETS_PATH, resource_version=rv):
            obj = event.get("object") or {}
            meta = obj.get("metadata") or {}
            name = meta.get("name")
            if not name:
                continue
            before = self.current.get(name)
            if event.get("type") == "DELETED":
                self.current.pop(name, None)
            else:
                self.current[name] = obj
                if _ready(obj) and (before is None or not _ready(before)):
                    self.became_ready.setdefault(name, []).append(time.perf_counter())
            self._changed.set()

    async def until(self, what: str, check: Callable[[dict[str, dict[str, Any]]], bool]) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not check(self.current):
            if self._task is not None and self._task.done():
                self._task.result()
                raise RuntimeError("the subnet watch ended")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError(f"timed out waiting for {what}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(1.0, remaining))

    def latency(self, name: str, since: float) -> float:
        """Seconds from ``since`` until the subnet first turned Ready after it."""
        return next(t for t in self.became_ready.get(name, ()) if t >= since) - since

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _all(names: Iterable[str], check: Callable[[dict[str, Any]], bool]) -> Any:
    wanted = list(names)
    return lambda current: all(n in current and check(current[n]) for n in wanted)


def _resident_subnet(a: int) -> dict[str, Any]:
    name = RESIDENT_NETWORKS[a]
    return objects.subnet(name, f"10.{30 + a}.0.0/16", nad_name=name)


async def _start_residents(driver: Driver, count: int, watch: SubnetWatch) -> None:
    """Create the resident NADs, subnets and pods; return once every pod is allocated."""
    await driver.create_all(objects.nad(name) for name in RESIDENT_NETWORKS)
    await driver.create_all(_resident_subnet(a) for a in range(len(RESIDENT_NETWORKS)))
    await watch.until("resident subnets Ready", _all(RESIDENT_NETWORKS, _ready))
    await driver.create_all(
        objects.pod(f"resident{i}", networks=list(RESIDENT_NETWORKS)) for i in range(count)
    )
    keys = [f"{objects.provider(n)}.kubernetes.io/allocated" for n in RESIDENT_NETWORKS]
    deadline = time.monotonic() + TIMEOUT
    while True:
        items = (await driver.list(PODS_PATH))["items"]
        done = sum(
            1
            for pod in items
            if all((pod["metadata"].get("annotations") or {}).get(k) == "true" for k in keys)
        )
        if done == count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{done} of {count} resident pods allocated")
        await asyncio.sleep(0.1)


@dataclasses.dataclass(frozen=True, slots=True)
class _Churn:
    """Which subnets each step of the churn touches."""

    n: int
    churn: float

    @property
    def names(self) -> list[str]:
        return [f"s{i}" for i in range(self.n)]

    @property
    def _cut(self) -> int:
        return max(1, int(self.n * self.churn))

    @property
    def deleted(self) -> range:
        """Subnets deleted and re-created in step 3."""
        return range(self._cut)

    @property
    def nad_deleted(self) -> range:
        """Subnets whose NAD is deleted and re-created in step 3."""
        return range(self._cut, min(self.n, 2 * self._cut))


@dataclasses.dataclass(slots=True)
class _Latencies:
    """Seconds from each change until the watch showed the subnet Ready."""

    create: list[float] = dataclasses.field(default_factory=list)
    update: list[float] = dataclasses.field(default_factory=list)
    recovery: list[float] = dataclasses.field(default_factory=list)


async def _create_step(
    driver: Driver, watch: SubnetWatch, plan: _Churn, latencies: _Latencies
) -> None:
    """Step 1: every NAD, then every subnet; each subnet's create -> Ready."""
    await driver.create_all(objects.nad(f"net{i}") for i in range(plan.n))
    created = await driver.create_all(_subnet(i) for i in range(plan.n))
    await watch.until("every subnet Ready", _all(plan.names, _ready))
    latencies.create += [watch.latency(name, created[name]) for name in plan.names]


async def _update_step(
    driver: Driver, watch: SubnetWatch, plan: _Churn, latencies: _Latencies
) -> None:
    """Step 2: a new ``excludeIps`` on every subnet; each patch -> Ready with the new count."""
    updated: dict[str, float] = {}

    async def exclude(i: int) -> None:
        base = _cidr(i).rsplit(".", 1)[0]
        updated[f"s{i}"] = time.perf_counter()
        await driver.merge_patch(_subnet(i), {"spec": {"excludeIps": [f"{base}.2..{base}.10"]}})

    await driver.each(range(plan.n), exclude)
    await watch.until(
        "excludeIps applied",
        _all(
            plan.names,
            lambda s: _ready(s) and (s.get("status") or {}).get("v4availableIPs") == 244,
        ),
    )
    latencies.update += [watch.latency(name, updated[name]) for name in plan.names]


async def _delete_and_recreate_step(
    driver: Driver, watch: SubnetWatch, plan: _Churn, latencies: _Latencies
) -> None:
    """Step 3: delete subnets and other subnets' NADs, then re-create both."""
    first, second = plan.deleted, plan.nad_deleted
    await driver.each([_subnet(i) for i in first], driver.delete)
    await driver.each([objects.nad(f"net{i}") for i in second], driver.delete)
    await watch.until(
        "subnets deleted and NADs missing",
        lambda cur: (
            not any(f"s{i}" in cur for i in first)
            and _all([f"s{i}" for i in second], lambda s: _reason(s) == "NadNotFound")(cur)
        ),
    )
    recreated = await driver.create_all(_subnet(i) for i in first)
    nads_back = await driver.create_all(objects.nad(f"net{i}") for i in second)
    await watch.until("every subnet Ready again", _all(plan.names, _ready))
    latencies.create += [watch.latency(f"s{i}", recreated[f"s{i}"]) for i in first]
    latencies.recovery += [watch.latency(f"s{i}", nads_back[f"net{i}"]) for i in second]


async def _delete_step(driver: Driver, watch: SubnetWatch, plan: _Churn) -> None:
    """Step 4: every subnet goes."""
    await driver.each([_subnet(i) for i in range(plan.n)], driver.delete)
    names = plan.names
    await watch.until("every subnet gone", lambda cur: not any(name in cur for name in names))


async def _run_mode(
    mode: str,
    *,
    subnets: int,
    churn: float,
    residents: int,
    latency_ms: float,
    log_dir: Path,
    progress: Progress,
) -> dict[str, Any]:
    """One mode on a fresh server and controller: residents, then the four churn steps."""
    plan = _Churn(subnets, churn)
    latencies = _Latencies()
    with (
        sim_process(latency_ms=latency_ms) as sim,
        ControllerProcess(
            kubeconfig=sim.kubeconfig_path,
            log_dir=log_dir,
            name=f"controller-{mode}",
            extra=["--no-primary-network"],
            nad_mode=mode,
        ) as controller,
    ):
        await controller.wait_ready()
        async with Driver(sim.url) as driver:
            watch = SubnetWatch(driver)
            await watch.start()
            progress(f"[{mode}] starting {residents} resident pods x {len(RESIDENT_NETWORKS)}")
            await _start_residents(driver, residents, watch)
            await controller.wait_settled(["subnets", "pods", "vms"])
            sampler = DepthSampler(controller, queues=["subnets"])
            sim.reset_request_log()
            cpu_controller, cpu_server = controller.cpu_seconds(), cpu_seconds(sim.pid)
            sampler.start()
            t0 = time.perf_counter()

            progress(f"[{mode}] creating {plan.n} NADs and {plan.n} subnets")
            await _create_step(driver, watch, plan, latencies)
            progress(
                f"[{mode}] all Ready after {time.perf_counter() - t0:.1f} s; updating excludeIps"
            )
            await _update_step(driver, watch, plan, latencies)
            progress(
                f"[{mode}] deleting {len(plan.deleted)} subnets and {len(plan.nad_deleted)} "
                "NADs, then re-creating"
            )
            await _delete_and_recreate_step(driver, watch, plan, latencies)
            progress(f"[{mode}] deleting every subnet")
            await _delete_step(driver, watch, plan)

            elapsed = time.perf_counter() - t0
            await sampler.stop()
            await watch.stop()
            cpu_controller = controller.cpu_seconds() - cpu_controller
            cpu_server = cpu_seconds(sim.pid) - cpu_server
            log = sim.request_log()

    result = _mode_result(mode, residents=residents, elapsed=elapsed, latencies=latencies, log=log)
    result.update(
        peak_queue_depth=sampler.peak("subnets"),
        controller_cpu_s=round(cpu_controller, 2),
        server_cpu_s=round(cpu_server, 2),
        queue_depth=sampler.series("subnets"),
    )
    progress(
        f"[{mode}] done in {elapsed:.1f} s: {result['requests_total']} controller requests, "
        f"p99 ready {result['ready_p99_ms']} ms"
    )
    return result


def _mode_result(
    mode: str, *, residents: int, elapsed: float, latencies: _Latencies, log: RequestLog
) -> dict[str, Any]:
    """Latency percentiles and the controller's requests of one mode."""

    def ms(values: list[float], q: float) -> float:
        return round(percentile(values, q) * 1000, 1)

    by_verb = controller_requests(log)
    return {
        "mode": mode,
        "resident_pods": residents,
        "elapsed_s": round(elapsed, 2),
        "ready_p50_ms": ms(latencies.create, 0.5),
        "ready_p99_ms": ms(latencies.create, 0.99),
        "ready_max_ms": round(max(latencies.create) * 1000, 1),
        "update_p50_ms": ms(latencies.update, 0.5),
        "update_p99_ms": ms(latencies.update, 0.99),
        "nad_recovery_p99_ms": ms(latencies.recovery, 0.99),
        "creations_timed": len(latencies.create),
        "requests_by_verb": by_verb,
        "requests_total": sum(by_verb.values()),
        "nad_gets": controller_count(log, verb="get", resource=NAD_RESOURCE),
        "status_patches": sum(
            1
            for e in log.entries
            if e.user_agent != DRIVER_AGENT
            and e.resource == "subnets"
            and e.subresource == "status"
        ),
    }


def _ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("inf")


_ROWS = (
    ("elapsed s", "elapsed_s"),
    ("create->Ready p50 ms", "ready_p50_ms"),
    ("create->Ready p99 ms", "ready_p99_ms"),
    ("update->Ready p50 ms", "update_p50_ms"),
    ("update->Ready p99 ms", "update_p99_ms"),
    ("NAD back->Ready p99 ms", "nad_recovery_p99_ms"),
    ("peak subnets queue depth", "peak_queue_depth"),
    ("controller API requests", "requests_total"),
    ("  NAD GETs", "nad_gets"),
    ("  status patches", "status_patches"),
    ("controller CPU s", "controller_cpu_s"),
    ("API server CPU s", "server_cpu_s"),
)


def _rows(modes: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """One column per mode, then live/cache and walk-live/walk-cache."""

    def line(values: list[Any], own: float, walk: float) -> str:
        return "".join(f"{v:>12}" for v in values) + f"{own:>12}{walk:>17}"

    head = "".join(f"{m:>12}" for m in MODES) + f"{'live/cache':>12}{'walk-live/-cache':>17}"
    rows: list[tuple[str, str]] = [("", head)]
    for label, key in _ROWS:
        values = [modes[m][key] for m in MODES]
        rows.append(
            (
                label,
                line(
                    values,
                    _ratio(modes["live"][key], modes["cache"][key]),
                    _ratio(modes["walk-live"][key], modes["walk-cache"][key]),
                ),
            )
        )
    verbs = sorted({verb for m in MODES for verb in modes[m]["requests_by_verb"]})
    for verb in verbs:
        counts = [modes[m]["requests_by_verb"].get(verb, 0) for m in MODES]
        rows.append(
            (f"  {verb}", line(counts, _ratio(counts[1], counts[0]), _ratio(counts[3], counts[2])))
        )
    return rows


def run(
    *,
    subnets: int,
    churn: float,
    residents: int,
    latency_ms: float,
    log_dir: Path,
    progress: Progress,
) -> ScenarioResult:
    modes = {
        mode: asyncio.run(
            _run_mode(
                mode,
                subnets=subnets,
                churn=churn,
                residents=residents,
                latency_ms=latency_ms,
                log_dir=log_dir,
                progress=progress,
            )
        )
        for mode in MODES
    }
    cache, live = modes["cache"], modes["live"]
    walk_cache, walk_live = modes["walk-cache"], modes["walk-live"]
    request_ratio = _ratio(walk_live["requests_total"], walk_cache["requests_total"])
    p99_ratio = _ratio(walk_live["ready_p99_ms"], walk_cache["ready_p99_ms"])
    own_request_ratio = _ratio(live["requests_total"], cache["requests_total"])
    own_p99_ratio = _ratio(live["ready_p99_ms"], cache["ready_p99_ms"])
    cached_gets = cache["nad_gets"] + walk_cache["nad_gets"]
    checks = [
        Check("NAD GETs in the cache modes", "0", str(cached_gets), cached_gets == 0),
        Check(
            "API requests walk-live/walk-cache",
            ">= 10x",
            f"{request_ratio}x",
            request_ratio >= 10,
        ),
        Check(
            "p99 create->Ready walk-live/walk-cache",
            ">= 5x",
            f"{p99_ratio}x",
            p99_ratio >= 5,
        ),
    ]
    notes = [
        "walk-*: Kube-OVN 1.13's NAD reads in every subnet reconcile (each alive pod's "
        "attachments, ovnctl/bench/kube_ovn_walk.py); the targets compare these two",
        f"ovnctl's own lookups (no walk), live/cache: {own_request_ratio}x requests, "
        f"{own_p99_ratio}x p99 (no target: ovnctl never reads NADs per pod in a subnet reconcile)",
    ]
    series = [
        Series(
            f"{mode} (subnets queue)",
            [t for t, _ in modes[mode]["queue_depth"]],
            [d for _, d in modes[mode]["queue_depth"]],
        )
        for mode in modes
    ]
    return ScenarioResult(
        scenario="nad-cache",
        title="NAD cache vs live NAD lookups under subnet churn",
        params={
            "subnets": subnets,
            "churn": churn,
            "resident_pods": residents,
            "latency_ms": latency_ms,
        },
        metrics={
            **modes,
            "request_ratio": request_ratio,
            "p99_ratio": p99_ratio,
            "own_request_ratio": own_request_ratio,
            "own_p99_ratio": own_p99_ratio,
        },
        rows=_rows(modes),
        checks=checks,
        notes=notes,
        series=series,
        x_label="seconds since the churn began",
        y_label="subnets queue depth",
    )
