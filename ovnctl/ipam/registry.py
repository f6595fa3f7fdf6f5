"""The IPAM registry: every subnet pool by name, and which subnets each owner uses.

This is the one object the controller holds. The subnet reconciler feeds it
specs (:meth:`IPAM.apply_subnet`, :meth:`IPAM.remove_subnet`), start-up feeds it
the existing IP objects (:meth:`IPAM.rebuild`), pod and VM reconcilers ask it
for addresses (:meth:`IPAM.allocate`) and give them back
(:meth:`IPAM.release`), and garbage collection asks "what does owner X hold,
where" (:meth:`IPAM.lookup`). It adds no allocation policy of its own; it
routes to :class:`SubnetPool` and keeps an owner -> subnets index so that
release and lookup by owner never scan every subnet.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence

from ovnctl.ipam.errors import DuplicateSubnetError, UnknownSubnetError
from ovnctl.ipam.ippool import AddressLimit
from ovnctl.ipam.mac import DEFAULT_MAC_PREFIX, parse_mac_prefix
from ovnctl.ipam.results import (
    Allocation,
    AllocationRecord,
    ConflictReason,
    RebuildConflict,
    RebuildReport,
    SubnetUsage,
    UpdateReport,
)
from ovnctl.ipam.subnet import SubnetPool

__all__ = ["IPAM"]


class IPAM:
    """All subnet pools, by name."""

    def __init__(self, *, mac_prefix: str = DEFAULT_MAC_PREFIX, seed: int | None = None) -> None:
        """``mac_prefix``: 1-5 octets, locally administered unicast.

        ``seed`` makes generated MACs repeatable (tests, benchmarks).
        """
        parse_mac_prefix(mac_prefix)  # fail at construction, not at the first subnet
        self._mac_prefix = mac_prefix
        self._rng = random.Random(seed)
        self._subnets: dict[str, SubnetPool] = {}
        # owner -> names of the subnets it holds something in. A tuple, not a
        # set: almost every owner is in one subnet, and a 1-tuple is a quarter
        # of an empty set's memory.
        self._owner_subnets: dict[str, tuple[str, ...]] = {}

    # -- subnets ---------------------------------------------------------------------------

    def add_subnet(
        self, name: str, cidr_block: str, *, gateway: str = "", exclude_ips: Sequence[str] = ()
    ) -> tuple[str, ...]:
        """Register a subnet; return excludeIps warnings.

        Raises :class:`DuplicateSubnetError` if the name is taken, or an
        :class:`InvalidSpecError` subclass for a bad spec.
        """
        if name in self._subnets:
            raise DuplicateSubnetError(
                f"subnet {name!r} is already registered", value=name, subnet=name
            )
        pool = SubnetPool(
            name,
            cidr_block,
            gateway=gateway,
            exclude_ips=exclude_ips,
            mac_prefix=self._mac_prefix,
            rng=self._rng,
        )
        self._subnets[name] = pool
        return pool.warnings

    def update_subnet(
        self,
        name: str,
        *,
        cidr_block: str | None = None,
        gateway: str | None = None,
        exclude_ips: Sequence[str] | None = None,
    ) -> UpdateReport:
        """Apply a changed spec to a registered subnet; see :meth:`SubnetPool.update`."""
        # Owners keep their holding even if a removed family emptied it, so the
        # owner index needs no change here.
        return self.subnet(name).update(
            cidr_block=cidr_block, gateway=gateway, exclude_ips=exclude_ips
        )

    def apply_subnet(
        self, name: str, cidr_block: str, *, gateway: str = "", exclude_ips: Sequence[str] = ()
    ) -> UpdateReport:
        """Add the subnet if new, else update it to exactly this spec: the reconciler's verb."""
        if name not in self._subnets:
            warnings = self.add_subnet(name, cidr_block, gateway=gateway, exclude_ips=exclude_ips)
            return UpdateReport(name, (), warnings)
        return self.update_subnet(
            name, cidr_block=cidr_block, gateway=gateway, exclude_ips=exclude_ips
        )

    def remove_subnet(self, name: str) -> tuple[Allocation, ...]:
        """Forget a subnet; return the allocations it held. Unknown names are a no-op."""
        pool = self._subnets.pop(name, None)
        if pool is None:
            return ()
        dropped = tuple(pool.allocations())
        for allocation in dropped:
            self._unindex(allocation.owner, name)
        return dropped

    def subnet(self, name: str) -> SubnetPool:
        """The pool of a subnet; :class:`UnknownSubnetError` if not registered."""
        pool = self._subnets.get(name)
        if pool is None:
            raise UnknownSubnetError(f"subnet {name!r} is not registered", value=name, subnet=name)
        return pool

    def __contains__(self, name: object) -> bool:
        return name in self._subnets

    def __iter__(self) -> Iterator[str]:
        return iter(self._subnets)

    def __len__(self) -> int:
        return len(self._subnets)

    def usage(self, name: str) -> SubnetUsage:
        """Counts and range strings per family for the subnet's status."""
        return self.subnet(name).usage()

    def has_room(self, name: str) -> bool:
        """Whether ``name`` is registered and has a free address in every family (a pod
        needs one of each in a dual-stack subnet)."""
        pool = self._subnets.get(name)
        return pool is not None and all(pool.pool(family).free for family in pool.families)

    # -- owners -----------------------------------------------------------------------------

    def allocate(
        self,
        subnet: str,
        owner: str,
        *,
        ips: str | Sequence[str] | None = None,
        mac: str | None = None,
        holder: str | None = None,
        within: AddressLimit | None = None,
        choices: Sequence[Sequence[str]] = (),
    ) -> Allocation:
        """Allocate in ``subnet`` for ``owner``; see :meth:`SubnetPool.allocate`."""
        try:
            pool = self._subnets[subnet]  # a subscript, not a .get() call: the hot path
        except KeyError:
            raise UnknownSubnetError(
                f"subnet {subnet!r} is not registered", value=subnet, subnet=subnet
            ) from None
        if ips is None and mac is None and within is None and not choices:
            result = pool.allocate_auto(owner, holder)  # the common call, without kwargs
        else:
            result = pool.allocate(
                owner, ips=ips, mac=mac, holder=holder, within=within, choices=choices
            )
        # One dict operation for a new owner: setdefault stores the subnet's shared
        # 1-tuple (no tuple built per call, none kept per owner).
        names = self._owner_subnets.setdefault(owner, pool.names)
        if subnet not in names:
            self._owner_subnets[owner] = (*names, subnet)
        return result

    def release(self, owner: str, *, subnet: str | None = None) -> tuple[Allocation, ...]:
        """Release what ``owner`` holds (in one subnet, or everywhere); unknown owner: no-op."""
        if subnet is None:
            # Fast path: release everywhere, the usual verb when a pod or VM goes.
            names = self._owner_subnets.pop(owner, ())
            if len(names) == 1:  # almost every owner: skip the list
                pool = self._subnets.get(names[0])
                allocation = pool.release(owner) if pool is not None else None
                return () if allocation is None else (allocation,)
            everywhere: list[Allocation] = []
            for name in names:
                pool = self._subnets.get(name)
                allocation = pool.release(owner) if pool is not None else None
                if allocation is not None:
                    everywhere.append(allocation)
            return tuple(everywhere)
        names = self._owner_subnets.get(owner, ())
        if subnet not in names:
            return ()
        targets = [subnet]
        released: list[Allocation] = []
        for name in targets:
            pool = self._subnets.get(name)
            allocation = pool.release(owner) if pool is not None else None
            if allocation is not None:
                released.append(allocation)
            self._unindex(owner, name)
        return tuple(released)

    def drop_holder(self, owner: str, holder: str) -> tuple[Allocation, ...]:
        """Remove a pod from the holders of ``owner``'s allocations; the addresses stay."""
        results: list[Allocation] = []
        for name in self._owner_subnets.get(owner, ()):
            allocation = self._subnets[name].drop_holder(owner, holder)
            if allocation is not None:
                results.append(allocation)
        return tuple(results)

    def get(self, subnet: str, owner: str) -> Allocation | None:
        """What ``owner`` holds in ``subnet`` (None if nothing or unknown subnet)."""
        pool = self._subnets.get(subnet)
        return pool.get(owner) if pool is not None else None

    def lookup(self, owner: str) -> tuple[Allocation, ...]:
        """Everything ``owner`` holds, across subnets, sorted by subnet name."""
        found: list[Allocation] = []
        for name in sorted(self._owner_subnets.get(owner, ())):
            allocation = self._subnets[name].get(owner)
            if allocation is not None:
                found.append(allocation)
        return tuple(found)

    def owners(self) -> Iterator[str]:
        """Every owner holding something somewhere."""
        return iter(self._owner_subnets)

    def _index(self, owner: str, subnet: str) -> None:
        names = self._owner_subnets.get(owner, ())
        if subnet not in names:
            self._owner_subnets[owner] = (*names, subnet)

    def _unindex(self, owner: str, subnet: str) -> None:
        names = self._owner_subnets.get(owner)
        if names is not None:
            rest = tuple(n for n in names if n != subnet)
            if rest:
                self._owner_subnets[owner] = rest
            else:
                del self._owner_subnets[owner]

    # -- start-up ----------------------------------------------------------------------------

    def rebuild(self, records: Iterable[AllocationRecord]) -> RebuildReport:
        """Record existing allocations (``record.subnet`` names the subnet); first claim wins.

        Subnets must be registered first; a record naming an unknown subnet is
        reported (reason ``UNKNOWN_SUBNET``), as is every conflict
        :meth:`SubnetPool.rebuild` finds. Nothing conflicting is recorded.
        """
        by_subnet: dict[str, list[AllocationRecord]] = {}
        conflicts: list[RebuildConflict] = []
        position: dict[int, int] = {}  # id(record) -> input position, to report in input order
        for index, record in enumerate(records):
            position.setdefault(id(record), index)
            if record.subnet not in self._subnets:
                conflicts.append(
                    RebuildConflict(
                        record,
                        ConflictReason.UNKNOWN_SUBNET,
                        f"subnet {record.subnet!r} is not registered",
                    )
                )
                continue
            by_subnet.setdefault(record.subnet, []).append(record)
        recorded = 0
        for name, group in by_subnet.items():
            report = self._subnets[name].rebuild(group)
            recorded += report.recorded
            conflicts.extend(report.conflicts)
            refused = {id(c.record) for c in report.conflicts}
            for record in group:
                if id(record) not in refused:
                    self._index(record.owner, name)
        conflicts.sort(key=lambda c: position[id(c.record)])
        return RebuildReport(recorded, tuple(conflicts))
