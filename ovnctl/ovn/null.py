"""The northbound stand-in for pure-IPAM mode (no ``--ovn-nb``).

Where it sits: the composition root passes it instead of
:class:`~ovnctl.ovn.client.OvnNorthbound` when no NB is configured, so
reconcilers call the same :class:`~ovnctl.ovn.api.Northbound` verbs either
way and contain no "is OVN on?" branches. Addresses then live only in IP
objects and pod annotations, as for IPAM-only (macvlan/ipvlan) providers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import final

from ovnctl.ovn.api import Change, ConvergeReport, Drift
from ovnctl.ovn.specs import PortSpec, SwitchSpec

__all__ = ["NullNorthbound"]

logger = logging.getLogger(__name__)

PURE_IPAM = (
    "no OVN northbound configured (--ovn-nb): running as pure IPAM; "
    "no logical switches or ports are written"
)


@final
class NullNorthbound:
    """Writes nothing, is always ready, and says so once at start."""

    __slots__ = ()

    @property
    def enabled(self) -> bool:
        return False

    @property
    def connected(self) -> bool:
        # Nothing to be disconnected from: readiness must not wait for an NB.
        return True

    def describe(self) -> str:
        return PURE_IPAM

    async def start(self) -> None:
        logger.info(PURE_IPAM)

    async def close(self) -> None:
        pass

    async def ping(self) -> bool:
        return True

    async def ensure_subnet(self, switch: SwitchSpec) -> Change:
        return Change.UNCHANGED

    async def delete_subnet(self, name: str) -> Change:
        return Change.UNCHANGED

    async def ensure_port(self, port: PortSpec) -> Change:
        return Change.UNCHANGED

    async def delete_port(self, name: str) -> Change:
        return Change.UNCHANGED

    async def converge(
        self, switches: Iterable[SwitchSpec], ports: Iterable[PortSpec]
    ) -> ConvergeReport:
        return ConvergeReport()

    def watch_drift(self, sink: Callable[[Drift], None]) -> None:
        return None  # no NB, no drift

    async def repair(
        self, switches: Iterable[SwitchSpec], ports: Iterable[PortSpec]
    ) -> ConvergeReport:
        return ConvergeReport()
