"""``ovnctl bench --scenario chaos``: the IPAM's promises under every fault at once.

Setup, as in a cluster: the API server in its own process (``ovnctl sim
serve``), an OVN NB ``ovsdb-server`` (when Debian's ``ovn-central`` is
installed), and two ``ovnctl run`` replicas with leader election on short
Lease timings (3 s Lease, 2 s renew deadline, the production ratios). The
workload (:mod:`.chaos_workload`) churns pods, multi-homed pods, VMs and
subnets while :mod:`.chaos_faults` kills leaders, fails API requests, cuts
watches, restarts the NB and freezes a replica past its Lease, all drawn from
one printed seed. The checker (:mod:`.chaos_checker`) reads only the API and
the NB, between ticks and again after quiescing, with the invariants of
``ovnctl ipam check``. The goal is zero violations.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from ovnctl.bench.chaos_checker import ChaosChecker
from ovnctl.bench.chaos_faults import FaultPlan, Faults, Replica
from ovnctl.bench.chaos_workload import Workload, setup_objects
from ovnctl.bench.report import Check, ScenarioResult
from ovnctl.bench.runner import ControllerProcess, Driver, Progress, crd_paths
from ovnctl.ipamtool.collect import CheckFailed
from ovnctl.k8s.connection import connect
from ovnctl.ovn.sandbox import NbSandbox, missing_tools
from ovnctl.sim import SimProcess

__all__ = ["ChaosSettings", "run"]

LEASE = ("--lease-duration", "3", "--renew-deadline", "2", "--retry-period", "0.5")
IDENTITIES = ("chaos-a", "chaos-b")
CONTROLLER_AGENT = "ovnctl/"
CHECK_EVERY_TICKS = 5


@dataclasses.dataclass(frozen=True, kw_only=True)
class ChaosSettings:
    """What a chaos run is asked for: the ``--chaos-*`` options of ``ovnctl bench``."""

    lifecycles: int
    """Pod and VM lifecycles to complete (and ``min_seconds`` to pass)."""
    seed: int | None
    """Seed of the faults and the churn; None draws one (and prints it)."""
    population: int
    """Pods kept alive at once."""
    min_seconds: float
    max_seconds: float
    converge_within: float
    """Seconds allowed to converge after the faults stop."""
    fault_scale: float = 1.0
    """Multiplies every fault interval of :class:`FaultPlan`'s defaults."""

    def plan(self) -> FaultPlan:
        """The default fault intervals, each stretched by ``fault_scale``."""
        base, scale = FaultPlan(), self.fault_scale

        def scaled(every: tuple[float, float]) -> tuple[float, float]:
            return (every[0] * scale, every[1] * scale)

        return dataclasses.replace(
            base,
            kill_every=scaled(base.kill_every),
            watch_cut_every=scaled(base.watch_cut_every),
            nb_restart_every=scaled(base.nb_restart_every),
            pause_every=scaled(base.pause_every),
        )


def run(
    settings: ChaosSettings, *, latency_ms: float, log_dir: Path, progress: Progress
) -> ScenarioResult:
    seed = settings.seed if settings.seed is not None else random.SystemRandom().randrange(2**31)
    progress(f"seed {seed} (replay: --chaos-seed {seed})")
    return asyncio.run(
        _run(settings, seed, latency_ms=latency_ms, log_dir=log_dir, progress=progress)
    )


def _replica_starter(
    sim: SimProcess, nb: NbSandbox | None, log_dir: Path, identity: str
) -> ControllerProcess:
    extra = [
        "--identity", identity,
        "--lease-namespace", "default",
        *LEASE,
        "--gc-interval", "20",
        "--resync-interval", "60",
    ]  # fmt: skip
    if nb is not None:
        extra += ["--ovn-nb", nb.tcp, "--nb-converge-interval", "10"]
    return ControllerProcess(
        kubeconfig=sim.kubeconfig_path,
        log_dir=log_dir,
        name=identity,
        extra=extra,
        leader_election=True,
    )


async def _run(
    settings: ChaosSettings, seed: int, *, latency_ms: float, log_dir: Path, progress: Progress
) -> ScenarioResult:
    lifecycles, min_seconds = settings.lifecycles, settings.min_seconds
    rng = random.Random(seed)
    with (
        tempfile.TemporaryDirectory(prefix="ovnctl-chaos-nb-") as nb_dir,
        SimProcess(manifests=crd_paths(), latency_ms=latency_ms, seed=seed) as sim,
    ):
        nb = NbSandbox(Path(nb_dir)) if missing_tools() is None else None
        if nb is not None:
            nb.start()
        else:
            progress("no local ovsdb-server: the NB and its restarts are left out")
        async with Driver(sim.url, concurrency=8) as driver:
            for obj in setup_objects():
                await driver.create(obj)
            replicas = [
                Replica(functools.partial(_replica_starter, sim, nb, log_dir, identity), identity)
                for identity in IDENTITIES
            ]
            api = connect(kubeconfig=str(sim.kubeconfig_path), user_agent="chaos-checker")
            checker = ChaosChecker(api=api, nb_remote=nb.tcp if nb is not None else None)
            faults = Faults(sim, driver, replicas, nb, seed, settings.plan())
            workload = Workload(driver, rng, settings.population)
            try:
                await _wait_for_leader(faults)
                progress("two replicas up, one leading; faults on")
                started = time.monotonic()
                await faults.start()
                ticks = 0
                while workload.lifecycles < lifecycles or time.monotonic() - started < min_seconds:
                    if time.monotonic() - started > settings.max_seconds:
                        progress(f"time cap of {settings.max_seconds:.0f} s reached")
                        break
                    await workload.tick()
                    ticks += 1
                    if ticks % CHECK_EVERY_TICKS == 0:
                        await checker.step()
                    if ticks % 20 == 0:
                        struck = sum(
                            v
                            for k, v in faults.counts.items()
                            if not k.startswith(("api-", "recovery-"))
                        )
                        progress(
                            f"{workload.lifecycles}/{lifecycles} lifecycles, {struck} faults, "
                            f"{len(checker.violations)} violations"
                        )
                    await asyncio.sleep(0.05)
                churn_seconds = time.monotonic() - started
                await faults.stop()
                progress("faults off; waiting for the cluster to converge")
                converged_after, final = await _converge(checker, faults, settings.converge_within)
                log = await asyncio.to_thread(sim.request_log)
                start, entries = _after_first_lease(log)
                checker.check_fence(
                    entries,
                    agent_prefix=CONTROLLER_AGENT,
                    first_position=start,
                    resumed=faults.resumed,
                )
                injected = sum(1 for e in log.entries if e.status in (429, 500))
            finally:
                api.close()
                for replica in replicas:
                    await asyncio.to_thread(replica.process.stop, within=10)
                if nb is not None:
                    nb.kill()
    return _result(
        seed=seed,
        target=lifecycles,
        workload=workload,
        faults=faults,
        checker=checker,
        churn_seconds=churn_seconds,
        converged_after=converged_after,
        final=final,
        injected=injected,
        log_truncated=log.total > len(log.entries),
        with_nb=nb is not None,
    )


async def _wait_for_leader(faults: Faults, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while await faults.holder() is None:
        if time.monotonic() > deadline:
            raise RuntimeError("no replica took the Lease within 60 s")
        await asyncio.sleep(0.2)
    leader = await faults.holder()
    assert leader is not None
    await leader.process.wait_ready(within=within)


async def _converge(
    checker: ChaosChecker, faults: Faults, within: float
) -> tuple[float | None, int]:
    """Seconds from the last fault until a full check is clean (None: never); findings left."""
    deadline = time.monotonic() + within
    while True:
        try:
            report = await checker.read(with_nb=True)
        except CheckFailed:
            report = None
        if report is not None and report.clean:
            return time.monotonic() - faults.last_fault, 0
        if time.monotonic() > deadline:
            final = await checker.final()  # what is still wrong counts as violations
            return None, len(final.findings)
        await asyncio.sleep(0.5)


def _after_first_lease(log: Any) -> tuple[int, list[Any]]:
    """The log from the first successful Lease write on (a truncated log's head is unknown),
    with the log position of its first entry."""
    entries = list(log.entries)
    offset = log.total - len(entries)
    if offset > 0:
        for index, entry in enumerate(entries):
            if entry.resource == "leases" and entry.status < 300 and entry.verb != "get":
                return offset + index, entries[index:]
    return offset, entries


def _result(
    *,
    seed: int,
    target: int,
    workload: Workload,
    faults: Faults,
    checker: ChaosChecker,
    churn_seconds: float,
    converged_after: float | None,
    final: int,
    injected: int,
    log_truncated: bool,
    with_nb: bool,
) -> ScenarioResult:
    by_phase = dict.fromkeys(("during", "after", "fence"), 0)
    for violation in checker.violations:
        by_phase[violation.phase] += 1
    fault_counts = dict(sorted(faults.counts.items()))
    rows = [
        ("seed (replay with --chaos-seed)", str(seed)),
        (
            "lifecycles done",
            f"{workload.lifecycles} ({workload.pod_lifecycles} pods, {workload.vm_lifecycles} VMs; "
            f"{workload.vm_migrations} live migrations, {workload.subnet_changes} subnet changes)",
        ),
        ("churn time", f"{churn_seconds:.1f} s"),
        ("faults", ", ".join(f"{k} {v}" for k, v in fault_counts.items()) or "none"),
        ("API requests answered 500/429", str(injected)),
        (
            "checker steps (unreadable under faults)",
            f"{checker.steps} ({checker.unreadable_steps})",
        ),
        (
            "invariant violations",
            f"{len(checker.violations)} (during {by_phase['during']}, after quiescing "
            f"{by_phase['after']}, unfenced writes {by_phase['fence']})",
        ),
        ("controller writes checked against the Lease", str(checker.fence_writes)),
        (
            "writes in flight when a replica froze (not counted)",
            str(len(checker.stale_in_flight)),
        ),
        (
            "converged after the last fault",
            f"{converged_after:.1f} s" if converged_after is not None else f"NO ({final} left)",
        ),
    ]
    notes = [f"{v.phase} step {v.step}: {v.finding.kind} {v.finding.subject}: {v.finding.detail}"
             for v in checker.violations[:20]]  # fmt: skip
    notes += [f"stale in flight: {f.subject}: {f.detail}" for f in checker.stale_in_flight[:5]]
    if not with_nb:
        notes.append("no local ovsdb-server: NB checks and NB restarts were left out")
    if log_truncated:
        notes.append("request log truncated: the fence check covers its tail only")
    return ScenarioResult(
        scenario="chaos",
        title="Chaos: churn under leader kills, API errors, cut watches, NB restarts, SIGSTOP",
        params={"seed": seed, "lifecycles": target, "population": workload.population},
        metrics={
            "seed": seed,
            "lifecycles": workload.lifecycles,
            "pod_lifecycles": workload.pod_lifecycles,
            "vm_lifecycles": workload.vm_lifecycles,
            "vm_migrations": workload.vm_migrations,
            "subnet_changes": workload.subnet_changes,
            "faults": fault_counts,
            "api_errors_injected": injected,
            "checker_steps": checker.steps,
            "fence_requests_checked": checker.fence_writes,
            "stale_in_flight_writes": len(checker.stale_in_flight),
            "violations": len(checker.violations),
            "violations_by_phase": by_phase,
            "converged_after_s": converged_after,
            "churn_s": round(churn_seconds, 1),
            "workload_failed_requests": workload.failed_requests,
        },
        rows=rows,
        checks=[
            Check(
                "invariant violations", "0", str(len(checker.violations)), not checker.violations
            ),
            Check(
                "lifecycles",
                f">= {target}",
                str(workload.lifecycles),
                workload.lifecycles >= target,
            ),
            Check(
                "converged after the faults",
                "yes",
                "yes" if converged_after is not None else "no",
                converged_after is not None,
            ),
        ],
        notes=notes,
    )
