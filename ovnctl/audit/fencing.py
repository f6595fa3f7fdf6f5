"""The fencing promise, checked on an API server's request log: one writer at a time.

Leader election is only worth its name if a replica that lost the Lease stops
writing before another may take over. The request log shows who sent what in
arrival order; the Lease writes in it say who held the Lease at each point.
Pure, like the rest of :mod:`ovnctl.audit`: records in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ovnctl.audit.invariants import Finding, FindingKind

__all__ = ["WriteRecord", "unfenced_writes"]


@dataclass(frozen=True, slots=True)
class WriteRecord:
    """One request as an API server logged it, in arrival order."""

    agent: str
    """The sender's User-Agent (each replica's names its identity)."""
    verb: str
    resource: str
    status: int
    path: str


_WRITE_VERBS = frozenset({"create", "update", "patch", "delete"})
_LEADER_OBJECTS = frozenset({"leases"})
_UNFENCED_KINDS = frozenset({"events"})
"""Events are best-effort notes a replica may send whatever its role; they hold no state."""


def unfenced_writes(requests: Iterable[WriteRecord], *, agent_prefix: str) -> list[Finding]:
    """Writes by a replica that did not hold the Lease when the server received them.

    The holder at each point of the log is the sender of the last successful
    Lease write before it (a replica renews or takes over only by writing the
    Lease). Agents not starting with ``agent_prefix`` (users, checkers) are
    not controller replicas and are ignored.
    """
    holder = ""
    found: list[Finding] = []
    for request in requests:
        if not request.agent.startswith(agent_prefix) or request.verb not in _WRITE_VERBS:
            continue
        if request.resource in _LEADER_OBJECTS:
            if request.status < 300:
                holder = request.agent
            continue
        if request.resource in _UNFENCED_KINDS or request.agent == holder:
            continue
        found.append(
            Finding(
                FindingKind.UNFENCED_WRITE,
                request.agent,
                f"{request.verb} {request.path} (HTTP {request.status}) received while the "
                f"Lease was held by {holder or 'nobody'}",
            )
        )
    return found
