"""The chaos scenario's faults, all at once, on a schedule drawn from one seed.

* the Lease holder killed with SIGKILL every ``kill_every`` seconds (a range)
  and restarted a moment later under the same identity;
* a fraction of API requests answered 500 or 429 (the code alternates);
* watches cut, and the next few watches answered ``410 Gone``;
* the NB ``ovsdb-server`` killed and restarted now and then;
* a replica (the leader, when there is one) stopped with SIGSTOP for longer
  than the Lease lasts, then resumed: the fenced-writer case.

A replica that exits on its own (a start-up it could not finish exits 1, so
that it is restarted) is started again after a second, as the kubelet restarts
a Deployment's container; those restarts are counted apart from the faults.

Each kind of fault draws from its own RNG seeded from the scenario's seed, so
the schedule (which fault when) depends on the seed alone, not on how the
loops interleave; the controllers' own timing is not replayed, so a replay
reproduces the faults, not every thread switch. Each fault is counted by kind
for the report.
"""

from __future__ import annotations

import asyncio
import collections
import random
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ovnctl.bench.runner import ControllerProcess, Driver
from ovnctl.ovn.sandbox import NbSandbox
from ovnctl.sim import SimProcess

__all__ = ["RESTARTED_AFTER_EXIT", "FaultPlan", "Faults", "Replica"]

RESTARTED_AFTER_EXIT = "recovery-restart-after-exit"
"""Not a fault: a replica that exited by itself, started again (see the module docstring)."""

LEASE_PATH = "/apis/coordination.k8s.io/v1/namespaces/default/leases/ovnctl-controller"


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """How often each fault strikes (seconds, drawn uniformly from each range)."""

    kill_every: tuple[float, float] = (15.0, 30.0)
    error_rate: tuple[float, float] = (0.05, 0.10)
    watch_cut_every: tuple[float, float] = (3.0, 8.0)
    nb_restart_every: tuple[float, float] = (20.0, 40.0)
    pause_every: tuple[float, float] = (30.0, 60.0)
    lease_duration: float = 3.0


class Replica:
    """One ``ovnctl run`` replica that can be killed and started again with its identity."""

    def __init__(self, start: Callable[[], ControllerProcess], identity: str) -> None:
        self._start = start
        self.identity = identity
        self.process = start()

    @property
    def user_agent(self) -> str:
        """What its requests carry (``ovnctl run`` names its identity in its User-Agent)."""
        from ovnctl import __version__

        return f"ovnctl/{__version__} ({self.identity})"

    def restart(self) -> None:
        self.process.stop(within=5)
        self.process = self._start()

    @property
    def alive(self) -> bool:
        return self.process.process.poll() is None

    @property
    def exited_by_itself(self) -> bool:
        """Ended with an exit code, not by a signal (the kills here are SIGKILL)."""
        code = self.process.process.poll()
        return code is not None and code >= 0


@dataclass
class Faults:
    """Injects the faults until :meth:`stop`; ``counts`` by kind."""

    sim: SimProcess
    driver: Driver
    replicas: list[Replica]
    nb: NbSandbox | None
    seed: int
    plan: FaultPlan
    counts: collections.Counter[str] = field(default_factory=collections.Counter)
    last_fault: float = 0.0
    """``time.monotonic()`` when the last fault ended (the convergence clock starts there)."""
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _paused: set[int] = field(default_factory=set)
    _rngs: dict[str, random.Random] = field(default_factory=dict)
    resumed: dict[str, list[int]] = field(default_factory=dict)
    """Per replica User-Agent, the server's request count when it was resumed from SIGSTOP."""

    def _rng(self, kind: str) -> random.Random:
        """The RNG of one kind of fault (its own stream: schedules do not interfere)."""
        if kind not in self._rngs:
            self._rngs[kind] = random.Random(f"{self.seed}:{kind}")
        return self._rngs[kind]

    async def _victim(self, *, any_replica: bool = False) -> Replica:
        """The live Lease holder (or, with ``any_replica``, any live replica if none leads)."""
        while True:
            victim = await self.holder()
            if victim is None and any_replica:
                victim = next((r for r in self.replicas if r.alive), None)
            if victim is not None and victim.process.pid not in self._paused:
                return victim
            await asyncio.sleep(0.25)

    def _mark(self, kind: str) -> None:
        self.counts[kind] += 1
        self.last_fault = time.monotonic()

    async def start(self) -> None:
        rng = self._rng("api")
        rate = round(rng.uniform(*self.plan.error_rate), 3)
        await asyncio.to_thread(
            self.sim.configure, error_rate=rate, error_code=500, seed=rng.randrange(2**31)
        )
        self.counts["api-error-rate-permille"] = int(rate * 1000)
        loops = [self._kills, self._watch_cuts, self._pauses, self._error_codes, self._kubelet]
        if self.nb is not None:
            loops.append(self._nb_restarts)
        self._tasks = [asyncio.create_task(loop()) for loop in loops]

    async def stop(self) -> None:
        """Stop injecting; resume paused replicas, restart dead ones, bring the NB back."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.to_thread(self.sim.configure, error_rate=0.0)
        for replica in self.replicas:
            if replica.process.pid in self._paused:
                position = int((await asyncio.to_thread(self.sim.stats))["requests"])
                self.resumed.setdefault(replica.user_agent, []).append(position)
                replica.process.process.send_signal(signal.SIGCONT)
            if not replica.alive:
                await asyncio.to_thread(replica.restart)
        if self.nb is not None and not self.nb.running:
            await asyncio.to_thread(self.nb.start)
        self._paused.clear()
        self.last_fault = time.monotonic()

    async def holder(self) -> Replica | None:
        try:
            lease = await self.driver.request("GET", LEASE_PATH)
        except RuntimeError:
            return None
        identity = (lease.get("spec") or {}).get("holderIdentity")
        return next((r for r in self.replicas if r.identity == identity and r.alive), None)

    async def _kills(self) -> None:
        rng = self._rng("kill")
        while True:
            await asyncio.sleep(rng.uniform(*self.plan.kill_every))
            victim = await self._victim()
            victim.process.process.send_signal(signal.SIGKILL)
            self._mark("leader-kill-9")
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            await asyncio.to_thread(victim.restart)

    async def _pauses(self) -> None:
        rng = self._rng("pause")
        while True:
            await asyncio.sleep(rng.uniform(*self.plan.pause_every))
            victim = await self._victim(any_replica=True)
            pid = victim.process.pid
            victim.process.process.send_signal(signal.SIGSTOP)
            self._paused.add(pid)
            self._mark("sigstop-past-lease")
            # Past the Lease: the other replica takes over while this one is frozen.
            await asyncio.sleep(self.plan.lease_duration + rng.uniform(1.0, 3.0))
            # Where the log stands just before it resumes: what it sends next came after.
            position = int((await asyncio.to_thread(self.sim.stats))["requests"])
            self.resumed.setdefault(victim.user_agent, []).append(position)
            victim.process.process.send_signal(signal.SIGCONT)
            self._paused.discard(pid)
            self.last_fault = time.monotonic()

    async def _kubelet(self) -> None:
        """Restart a replica that exited by itself, as the kubelet restarts a container."""
        while True:
            await asyncio.sleep(1.0)
            for replica in self.replicas:
                if replica.exited_by_itself:
                    await asyncio.to_thread(replica.restart)
                    self.counts[RESTARTED_AFTER_EXIT] += 1

    async def _watch_cuts(self) -> None:
        rng = self._rng("watch")
        while True:
            await asyncio.sleep(rng.uniform(*self.plan.watch_cut_every))
            if rng.random() < 0.5:
                await asyncio.to_thread(self.sim.cut_watches)
                self._mark("watches-cut")
            else:
                await asyncio.to_thread(self.sim.fail_next_watches, rng.randint(1, 4))
                self._mark("watch-410")

    async def _error_codes(self) -> None:
        rng = self._rng("code")
        while True:
            await asyncio.sleep(rng.uniform(2.0, 6.0))
            code = rng.choice((500, 429))
            await asyncio.to_thread(self.sim.configure, error_code=code)
            self._mark(f"api-errors-now-{code}")

    async def _nb_restarts(self) -> None:
        assert self.nb is not None
        rng = self._rng("nb")
        while True:
            await asyncio.sleep(rng.uniform(*self.plan.nb_restart_every))
            await asyncio.to_thread(self.nb.kill)
            self._mark("nb-restart")
            await asyncio.sleep(rng.uniform(0.5, 2.0))
            await asyncio.to_thread(self.nb.start)
