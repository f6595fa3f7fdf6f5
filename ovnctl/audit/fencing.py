"""The fencing promise, checked on an API server's request log: one writer at a time.

Leader election is only worth its name if a replica that lost the Lease stops
writing before another may take over. The request log shows who sent what in
arrival order; the Lease writes in it say who held the Lease at each point.
Pure, like the rest of :mod:`ovnctl.audit`: records in, findings out.

One case no client-side fence can stop: a replica frozen (SIGSTOP, a VM
pause) after its last fence check and before its request reached the socket
sends that request when it resumes, whatever it holds by then. Only the
server could refuse it (a fencing token), and the Kubernetes API has none for
arbitrary writes. Such writes, at most one per request thread of the replica
and only right after a resume the caller reports, are told apart as
``stale-in-flight`` rather than hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ovnctl.audit.invariants import Finding, FindingKind

__all__ = ["IN_FLIGHT_LIMIT", "WriteRecord", "unfenced_writes"]

IN_FLIGHT_LIMIT = 16
"""Requests a replica can have past its fence at once: its API client's thread pool."""


@dataclass(frozen=True, slots=True)
class WriteRecord:
    """One request as an API server logged it, in arrival order."""

    agent: str
    """The sender's User-Agent (each replica's names its identity)."""
    verb: str
    resource: str
    status: int
    path: str
    position: int = 0
    """Where in the server's log (0 = first request it received)."""


_WRITE_VERBS = frozenset({"create", "update", "patch", "delete"})
_LEADER_OBJECTS = frozenset({"leases"})
_UNFENCED_KINDS = frozenset({"events"})
"""Events are best-effort notes a replica may send whatever its role; they hold no state."""


def unfenced_writes(
    requests: Iterable[WriteRecord],
    *,
    agent_prefix: str,
    resumed: Mapping[str, Sequence[int]] | None = None,
    in_flight: int = IN_FLIGHT_LIMIT,
) -> list[Finding]:
    """Writes by a replica that did not hold the Lease when the server received them.

    The holder at each point of the log is the sender of the last successful
    Lease write before it (a replica renews or takes over only by writing the
    Lease). Agents not starting with ``agent_prefix`` (users, checkers) are
    not controller replicas and are ignored. ``resumed`` gives, per agent, the
    log positions at which it was resumed from a freeze: its first
    ``in_flight`` writes after each are ``stale-in-flight``, not unfenced.
    """
    holder = ""
    resumes = {agent: sorted(positions) for agent, positions in (resumed or {}).items()}
    since_resume: dict[str, tuple[int, int]] = {}  # agent -> (resume position, writes since)
    found: list[Finding] = []
    for request in requests:
        agent = request.agent
        if not agent.startswith(agent_prefix) or request.verb not in _WRITE_VERBS:
            continue
        if request.resource in _LEADER_OBJECTS:
            if request.status < 300:
                holder = agent
            continue
        if request.resource in _UNFENCED_KINDS:
            continue
        last = max((p for p in resumes.get(agent, ()) if p <= request.position), default=None)
        if last is not None:
            mark, count = since_resume.get(agent, (last, 0))
            since_resume[agent] = (last, count + 1 if mark == last else 1)
        if agent == holder:
            continue
        stale = last is not None and since_resume[agent][1] <= in_flight
        kind = FindingKind.STALE_IN_FLIGHT if stale else FindingKind.UNFENCED_WRITE
        found.append(
            Finding(
                kind,
                agent,
                f"{request.verb} {request.path} (HTTP {request.status}) received while the "
                f"Lease was held by {holder or 'nobody'}",
            )
        )
    return found
