"""The northbound port the controller talks to, and the values its calls return.

Where it sits: the composition root builds an
:class:`~ovnctl.ovn.client.OvnNorthbound` when ``--ovn-nb`` is given and a
:class:`~ovnctl.ovn.null.NullNorthbound` otherwise; reconcilers receive it as a
:class:`Northbound` and never know which. Every call is a coroutine that never
blocks the event loop, takes pure data (:mod:`ovnctl.ovn.specs`) and is
idempotent, so a reconciler may simply call it again after any failure.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ovnctl.ovn.specs import PortSpec, SwitchSpec

__all__ = ["Change", "ConvergeReport", "Drift", "Northbound"]


@dataclass(frozen=True, slots=True)
class Drift:
    """Names whose NB rows someone changed or deleted (ovnctl's own writes included).

    Raised from IDL row events by :mod:`ovnctl.ovn.drift`; defined here, beside the
    port it travels through, so reading it never imports ovsdbapp.
    """

    switches: frozenset[str] = frozenset()
    ports: frozenset[str] = frozenset()


class Change(enum.Enum):
    """What one ensure or delete did to the NB."""

    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
    UNCHANGED = "unchanged"  # already as desired (or already absent): nothing was written


@dataclass(frozen=True, slots=True)
class ConvergeReport:
    """What a convergence pass changed, by kind; names are sorted.

    ``foreign`` names desired objects that exist but belong to someone else
    (left alone); ``orphans`` names ports whose switch neither exists nor is
    desired (nothing could be written); ``kept`` names stale ovnctl switches
    left in place because foreign ports are still attached to them.
    """

    switches_created: tuple[str, ...] = ()
    switches_updated: tuple[str, ...] = ()
    switches_deleted: tuple[str, ...] = ()
    ports_created: tuple[str, ...] = ()
    ports_updated: tuple[str, ...] = ()
    ports_deleted: tuple[str, ...] = ()
    foreign: tuple[str, ...] = ()
    orphans: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    transactions: int = 0

    def summary(self) -> str:
        """Counts per kind of change: one short log line even for 100k ports."""
        counts = {
            "switches created": self.switches_created,
            "switches updated": self.switches_updated,
            "switches deleted": self.switches_deleted,
            "ports created": self.ports_created,
            "ports updated": self.ports_updated,
            "ports deleted": self.ports_deleted,
            "foreign": self.foreign,
            "orphans": self.orphans,
            "kept": self.kept,
        }
        parts = [f"{len(names)} {label}" for label, names in counts.items() if names]
        return ", ".join(parts) or "no change"

    @property
    def changed(self) -> bool:
        """True when the NB differed from the desired state."""
        return any(
            (
                self.switches_created,
                self.switches_updated,
                self.switches_deleted,
                self.ports_created,
                self.ports_updated,
                self.ports_deleted,
            )
        )


@runtime_checkable
class Northbound(Protocol):
    """Desired-state writes into an OVN Northbound database.

    Each ensure/delete is one NB transaction. Errors: subclasses of
    :class:`~ovnctl.ovn.errors.NorthboundError` (retryable: NB down, timeout,
    missing switch) and :class:`~ovnctl.ovn.errors.ForeignObjectError`
    (permanent: the name is someone else's row).
    """

    @property
    def enabled(self) -> bool:
        """False for the pure-IPAM stand-in: nothing is written anywhere."""
        ...

    @property
    def connected(self) -> bool:
        """Readiness: whether calls can reach the NB right now."""
        ...

    def describe(self) -> str:
        """One line for the start-up log: where the NB is, or that there is none."""
        ...

    async def start(self) -> None:
        """Begin connecting; returns at once, the client keeps trying in the background."""

    async def close(self) -> None:
        """Disconnect and stop the background thread; idempotent."""

    async def ping(self) -> bool:
        """Health probe: True when connected and the connection thread answers."""
        ...

    async def ensure_subnet(self, switch: SwitchSpec) -> Change:
        """Make the switch, its router port and the router exist exactly as ``switch`` says."""
        ...

    async def delete_subnet(self, name: str) -> Change:
        """Remove ovnctl's switch ``name`` (and its ports) and its router port."""
        ...

    async def ensure_port(self, port: PortSpec) -> Change:
        """Make the logical switch port exist exactly as ``port`` says."""
        ...

    async def delete_port(self, name: str) -> Change:
        """Remove ovnctl's logical switch port ``name``."""
        ...

    async def converge(
        self, switches: Iterable[SwitchSpec], ports: Iterable[PortSpec]
    ) -> ConvergeReport:
        """Make the NB hold exactly the desired ovnctl objects; leave foreign ones alone."""
        ...

    def watch_drift(self, sink: Callable[[Drift], None]) -> None:
        """Report changes and deletions of ovnctl's rows to ``sink`` from now on (before
        :meth:`start`); ``sink`` runs on another thread (see :mod:`ovnctl.ovn.drift`)."""

    async def repair(
        self, switches: Iterable[SwitchSpec], ports: Iterable[PortSpec]
    ) -> ConvergeReport:
        """Put back exactly these ovnctl objects as desired; remove nothing."""
        ...
