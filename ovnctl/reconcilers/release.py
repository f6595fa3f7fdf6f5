"""Releasing NICs: the durable record goes first, the address last.

Order matters for "no duplicate IP ever": the IP object (the record a
restarted controller rebuilds from) is deleted before the IPAM frees the
address. If the deletion fails, the address stays held and the release is
retried; if the controller dies in between, the restart finds no record and
the address is free, which is what was intended. Freed subnets are reported
so their status is refreshed and pods waiting for room are woken.

While a NIC's release awaits its DELETEs it is marked *releasing* in the
ledger, and the pod reconciler will not allocate that NIC name: a VM deleted
and recreated under the same name would otherwise be handed the address this
release is about to free. When the release ends (done, or abandoned on an
error) ``on_nic_settled`` wakes the pods that waited for it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

from ovnctl.ipam import IPAM
from ovnctl.k8s.api import NotFound
from ovnctl.k8s.resources import IPS
from ovnctl.k8s.writer import Writer
from ovnctl.ovn import Northbound, NullNorthbound
from ovnctl.reconcilers.ledger import NicLedger
from ovnctl.reconcilers.subnet_states import SubnetStateView

__all__ = ["NicReleaser"]


class NicReleaser:
    """Deletes IP objects, frees addresses, forgets NICs."""

    def __init__(
        self,
        *,
        api: Writer,
        ipam: IPAM,
        ledger: NicLedger,
        on_subnet_freed: Callable[[str], None],
        subnet_states: SubnetStateView,
        northbound: Northbound | None = None,
        on_nic_settled: Callable[[str], None] = lambda nic: None,
    ) -> None:
        self._api = api
        self._ipam = ipam
        self._ledger = ledger
        self._on_subnet_freed = on_subnet_freed
        self._northbound: Northbound = northbound if northbound is not None else NullNorthbound()
        self._states = subnet_states  # its switches: where a NIC may have a port to delete
        self._on_nic_settled = on_nic_settled
        self.released = 0
        """NICs released since start (exported as a metric)."""

    async def release(self, nics: Iterable[str]) -> None:
        # A NIC already being released is that release's business (it ends it).
        mine = [nic for nic in sorted(nics) if not self._ledger.releasing(nic)]
        # Marked before the first await: from here on no pod can be given these NICs.
        for nic in mine:
            self._ledger.begin_release(nic)
        freed: set[str] = set()
        try:
            for nic in mine:
                await self._release_one(nic, freed)
        finally:
            for nic in mine:
                self._ledger.end_release(nic)
                self._on_nic_settled(nic)
            for subnet in sorted(freed):
                self._on_subnet_freed(subnet)

    async def _release_one(self, nic: str, freed: set[str]) -> None:
        with contextlib.suppress(NotFound):
            await self._api.delete(IPS, name=nic)
        if self._northbound.enabled and (
            self._ledger.port(nic) is not None
            or any(a.subnet in self._states.switches for a in self._ipam.lookup(nic))
        ):
            # The port goes before the address is free: no two ports ever carry it.
            await self._northbound.delete_port(nic)
        for allocation in self._ipam.release(nic):
            freed.add(allocation.subnet)
        self._ledger.forget(nic)
        self.released += 1
