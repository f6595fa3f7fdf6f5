"""NB drift repaired within a second: debounce the suspects, put back exactly those rows.

Where it sits: the runtime registers :meth:`DriftRepair.sink` with the
northbound client's ``watch_drift`` (row events on ovnctl's rows, see
:mod:`ovnctl.ovn.drift`), and calls :meth:`DriftRepair.start` once the IPAM
is rebuilt (before that, the desired state is not known). Suspect names pile
up for ``debounce`` seconds (a burst of events, like a deleted switch taking
its ports along, becomes one repair), then the desired state of exactly those
names (:func:`~ovnctl.reconcilers.northbound.desired_subset`) goes to the
client's ``repair``: one transaction, which writes nothing for rows that are
already right, ovnctl's own writes included. Nothing is ever removed here:
the interval convergence (``--nb-converge-interval``) stays as the safety
net that also removes stale rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from ovnctl.ovn import ConvergeReport, Drift, Northbound, NorthboundError, PortSpec, SwitchSpec

__all__ = ["DriftRepair"]

logger = logging.getLogger(__name__)

Desired = Callable[[set[str], set[str]], tuple[list[SwitchSpec], list[PortSpec]]]


class DriftRepair:
    """Collects drift from any thread and repairs it on the event loop."""

    def __init__(
        self,
        *,
        northbound: Northbound,
        desired: Desired,
        debounce: float = 0.05,
        retry: float = 0.5,
    ) -> None:
        self.northbound = northbound
        self.desired = desired
        self.debounce = debounce
        self.retry = retry
        self.repairs = 0
        """Repairs that changed the NB (for logs and tests)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._switches: set[str] = set()
        self._ports: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._active = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """The loop :meth:`sink` hands drift over to (call on that loop, before events flow)."""
        self._loop = loop

    def sink(self, drift: Drift) -> None:
        """Thread-safe: note ``drift``; called on ovsdbapp's notify thread."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._note, drift)

    def start(self) -> None:
        """From now on, drift is repaired (the desired state is known)."""
        self._active = True

    async def close(self) -> None:
        self._active = False
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _note(self, drift: Drift) -> None:
        if not self._active:
            return  # before start-up convergence: it covers everything anyway
        self._switches |= drift.switches
        self._ports |= drift.ports
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._drain(), name="ovnctl-nb-drift"
            )

    async def _drain(self) -> None:
        while self._active and (self._switches or self._ports):
            await asyncio.sleep(self.debounce)
            switch_names, port_names = self._switches, self._ports
            self._switches, self._ports = set(), set()
            try:
                report = await self._repair(switch_names, port_names)
            except NorthboundError as exc:
                logger.warning("northbound drift repair failed, retried: %s", exc)
                self._switches |= switch_names
                self._ports |= port_names
                await asyncio.sleep(self.retry)
                continue
            if report.changed:
                self.repairs += 1
                logger.info("northbound drift repaired: %s", report.summary())

    async def _repair(self, switch_names: set[str], port_names: set[str]) -> ConvergeReport:
        switches, ports = self.desired(switch_names, port_names)
        if not switches and not ports:
            return ConvergeReport()
        # A port whose switch drifted too goes back after it, in the same transaction.
        return await self.northbound.repair(switches, ports)
