"""The chaos scenario's independent checker: it reads only what a user could read.

It never looks into a controller: it lists the cluster through the API server
(its own client, retrying the faults the scenario injects) and the NB through
its own connection, and checks them with :mod:`ovnctl.audit`, the very code
behind ``ovnctl ipam check``. During the faults it runs the checks that are
exact at any moment (:attr:`~ovnctl.audit.Scope.LIVE`: no address or MAC held
twice); after the faults stop and the cluster quiesces, all of them
(:attr:`~ovnctl.audit.Scope.FULL`). It also reads the server's request log to
check the fencing promise: every write comes from the replica that held the
Lease when the server received it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ovnctl.audit import (
    AuditReport,
    Finding,
    FindingKind,
    Scope,
    WriteRecord,
    audit,
    unfenced_writes,
)
from ovnctl.ipamtool.collect import CheckFailed, read_northbound, read_snapshot
from ovnctl.k8s.api import KubeApi
from ovnctl.sim.requestlog import LoggedRequest

__all__ = ["ChaosChecker", "Violation"]


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken promise seen by the checker: when (step), and what."""

    step: int
    phase: str
    """``during`` (faults running, live checks), ``after`` (quiesced, full checks), ``fence``."""
    finding: Finding


@dataclass
class ChaosChecker:
    """Runs the shared invariants over what the API (and the NB) show, step after step."""

    api: KubeApi
    nb_remote: str | None = None
    steps: int = 0
    unreadable_steps: int = 0
    """Steps whose reads failed even after retries (faults): skipped, counted."""
    violations: list[Violation] = field(default_factory=list)
    fence_writes: int = 0
    """Controller writes the fence check looked at (to show it was not vacuous)."""
    stale_in_flight: list[Finding] = field(default_factory=list)
    """Writes a frozen replica had past its fence when frozen: reported, not violations."""
    _seen: set[tuple[str, Finding]] = field(default_factory=set)

    async def read(self, *, with_nb: bool) -> AuditReport | None:
        snapshot = await read_snapshot(self.api)
        if with_nb and self.nb_remote is not None:
            snapshot.add_ports(await read_northbound(self.nb_remote, within=5.0))
        return audit(snapshot, scope=Scope.FULL) if with_nb else audit(snapshot, scope=Scope.LIVE)

    async def step(self) -> None:
        """One check while the faults run: live invariants only."""
        self.steps += 1
        try:
            report = await self.read(with_nb=False)
        except CheckFailed:
            self.unreadable_steps += 1
            return
        assert report is not None
        self._record("during", report.findings)

    async def final(self) -> AuditReport:
        """The full check after quiescing (NB included); raises CheckFailed if unreadable."""
        self.steps += 1
        report = await self.read(with_nb=True)
        assert report is not None
        self._record("after", report.findings)
        return report

    def check_fence(
        self,
        log: Iterable[LoggedRequest],
        *,
        agent_prefix: str,
        first_position: int,
        resumed: Mapping[str, Sequence[int]],
    ) -> None:
        """The request log's writes against the Lease holder of the moment.

        ``first_position`` is the log position of the first entry given;
        ``resumed`` the positions at which frozen replicas were resumed.
        """
        writes = [
            WriteRecord(e.user_agent or "", e.verb, e.resource, e.status, e.path, position)
            for position, e in enumerate(log, start=first_position)
            if (e.user_agent or "").startswith(agent_prefix)
        ]
        self.fence_writes = sum(
            1
            for w in writes
            if w.verb in ("create", "update", "patch", "delete")
            and w.resource not in ("leases", "events")
        )
        findings = unfenced_writes(writes, agent_prefix=agent_prefix, resumed=resumed)
        self.stale_in_flight = [f for f in findings if f.kind is FindingKind.STALE_IN_FLIGHT]
        self._record("fence", [f for f in findings if f.kind is not FindingKind.STALE_IN_FLIGHT])

    def _record(self, phase: str, findings: Iterable[Finding]) -> None:
        for finding in findings:
            key = (phase, finding)
            if key not in self._seen:  # one violation per distinct finding, not per step
                self._seen.add(key)
                self.violations.append(Violation(self.steps, phase, finding))
