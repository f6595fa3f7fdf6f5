"""The pool of one Subnet: one :class:`FamilyPool` per CIDR, owners, MACs.

This is where an allocation request becomes a decision. Every request is
handled in two phases: *plan* (parse and check every requested address and
MAC, check each family that needs an automatic address has one free;
:mod:`.planning`) and *commit* (mutate the family pools and the MAC table;
here). Only the plan phase can raise, so a dual-stack allocation is
all-or-nothing and a failed request leaves the subnet exactly as it was. A
generated MAC is drawn in the plan phase too: a full MAC space is refused
before any address is taken. What each owner holds is a
:class:`~ovnctl.ipam.holding.Holding`.

The common request (no static address or MAC, no pool limit) skips the plan
objects: :meth:`SubnetPool.allocate_auto` does both phases inline, in the same
order, for speed (``docs/ipam.md``, Performance).

Semantics (see ``docs/ipam.md``):

- Owners are opaque strings; the controller uses ``namespace/name/provider``,
  with the *VM* name for KubeVirt pods so every virt-launcher pod of a VM,
  including both pods of a live migration, gets the same allocation.
- Idempotent: an owner that holds an allocation gets it back.
- Static requests may name an address inside ``excludeIps`` (Kube-OVN allows
  it); not the gateway, the network or broadcast address, or one held by
  someone else. An owner asking for a different address or MAC than it holds
  *moves*: the old one is released and the new one taken, atomically.
- Holders: an allocation may list the pods using it. A move is refused while
  another holder still uses the address (the source pod of a live migration).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import netaddr

from ovnctl.ipam.addresses import (
    DECIMAL_OCTETS,
    AddressRange,
    Family,
    family_of,
    format_ip,
    parse_cidr_block,
    parse_exclude_ips,
    parse_gateway,
    parse_ip,
)
from ovnctl.ipam.holding import Holding, holding_of, new_holding, split_ips
from ovnctl.ipam.mac import DEFAULT_MAC_PREFIX, MacTable, format_mac, parse_mac
from ovnctl.ipam.planning import Plan, Planner
from ovnctl.ipam.pool import FamilyPool
from ovnctl.ipam.results import (
    Allocation,
    AllocationRecord,
    ConflictReason,
    RebuildConflict,
    RebuildReport,
    SubnetUsage,
    UpdateConflict,
    UpdateReport,
    _AllocationBuilder,
)

if TYPE_CHECKING:
    from ovnctl.ipam.ippool import AddressLimit

__all__ = ["SubnetPool"]


# Module constants: loading an enum member through its class is a slow
# attribute lookup, and the hot paths below compare families once per call.
_V4 = Family.V4
_V6 = Family.V6
_OCTETS = DECIMAL_OCTETS
_new_object = object.__new__
_NO_HOLDERS: frozenset[str] = frozenset()


class SubnetPool:
    """Addresses and MACs of one Subnet."""

    def __init__(
        self,
        name: str,
        cidr_block: str,
        *,
        gateway: str = "",
        exclude_ips: Sequence[str] = (),
        mac_prefix: str = DEFAULT_MAC_PREFIX,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.names: tuple[str] = (name,)
        """``(name,)``, built once: the registry's owner index shares it among owners."""
        self._owners: dict[str, Holding] = {}
        self._macs = MacTable(prefix=mac_prefix, rng=rng or random.Random())
        self._pools: dict[Family, FamilyPool] = {}
        self._order: tuple[Family, ...] = ()
        self._ordered_pools: tuple[FamilyPool, ...] = ()
        self._single: FamilyPool | None = None
        self._single_v4 = False
        self.warnings: tuple[str, ...] = ()
        self._planner: Planner  # built by _apply_spec, with each spec
        self._apply_spec(cidr_block, gateway, exclude_ips)

    # -- spec -----------------------------------------------------------------------------

    def _parse_spec(
        self, cidr_block: str, gateway: str, exclude_ips: Sequence[str]
    ) -> tuple[
        tuple[netaddr.IPNetwork, ...],
        tuple[netaddr.IPAddress, ...],
        tuple[AddressRange, ...],
        tuple[str, ...],
    ]:
        networks = parse_cidr_block(cidr_block, subnet=self.name)
        gateways = parse_gateway(gateway, networks, subnet=self.name)
        ranges, warnings = parse_exclude_ips(exclude_ips, networks, subnet=self.name)
        return networks, gateways, ranges, warnings

    def _apply_spec(
        self, cidr_block: str, gateway: str, exclude_ips: Sequence[str]
    ) -> list[UpdateConflict]:
        # Parse everything before touching state, so a bad spec changes nothing.
        networks, gateways, ranges, warnings = self._parse_spec(cidr_block, gateway, exclude_ips)
        conflicts: list[UpdateConflict] = []
        old_order = self._order
        new_pools: dict[Family, FamilyPool] = {}
        for net, gw in zip(networks, gateways, strict=True):
            family = family_of(net)
            pool = self._pools.get(family)
            if pool is None:
                new_pools[family] = FamilyPool(net, int(gw), ranges)
            else:
                for owner, address, reason in pool.reconfigure(net, int(gw), ranges):
                    conflicts.append(UpdateConflict(owner, format_ip(family, address), reason))
                new_pools[family] = pool
        for family, pool in self._pools.items():
            if family in new_pools:
                continue
            # A family the subnet no longer has: nothing can hold its addresses,
            # so they are dropped from their owners and reported.
            for address, owner in sorted(pool.held.items()):
                conflicts.append(
                    UpdateConflict(owner, format_ip(family, address), ConflictReason.FAMILY_REMOVED)
                )
                holding = self._owners[owner]
                if family is Family.V4:
                    holding.v4 = None
                else:
                    holding.v6 = None
        self._pools = new_pools
        self._order = tuple(family_of(n) for n in networks)
        self._ordered_pools = tuple(new_pools[f] for f in self._order)
        # The single-stack fast path of allocate_auto reads these two instead of
        # the tuple: no len(), no family compare per allocation.
        self._single = self._ordered_pools[0] if len(self._ordered_pools) == 1 else None
        self._single_v4 = self._order[0] is _V4
        self.cidr_block = ",".join(str(n) for n in networks)
        self.gateway = ",".join(str(g) for g in gateways)  # effective, defaults filled in
        self.gateway_spec = gateway  # as written: "" keeps following the CIDR's default
        self.exclude_ips = tuple(exclude_ips)
        self.warnings = warnings
        self._planner = Planner(self.name, self.cidr_block, new_pools, self._order, self._macs)
        if old_order != self._order:
            # Cached results list ips in cidrBlock order, which changed (or lost
            # a family): refresh them. Rare, so the O(owners) cost is fine.
            for owner, holding in self._owners.items():
                holding.result = self._result(
                    owner, holding.addrs, holding.mac, holding.result.holders
                )
        return conflicts

    def update(
        self,
        *,
        cidr_block: str | None = None,
        gateway: str | None = None,
        exclude_ips: Sequence[str] | None = None,
    ) -> UpdateReport:
        """Apply a changed spec (None leaves a field as it is); keep every allocation.

        Allocations that now lie outside the CIDR, on a network/broadcast
        address, on the gateway or in newly excluded space are reported (and
        stay held: the caller decides whether to move them). Addresses of a
        family the subnet no longer has are dropped and reported. Raises an
        :class:`InvalidSpecError` subclass, changing nothing, on a bad spec.
        """
        conflicts = self._apply_spec(
            self.cidr_block if cidr_block is None else cidr_block,
            self.gateway_spec if gateway is None else gateway,
            self.exclude_ips if exclude_ips is None else exclude_ips,
        )
        return UpdateReport(self.name, tuple(conflicts), self.warnings)

    # -- queries --------------------------------------------------------------------------

    @property
    def families(self) -> tuple[Family, ...]:
        """Families in ``cidrBlock`` order."""
        return self._order

    def pool(self, family: Family) -> FamilyPool:
        """The family pool (KeyError if the subnet lacks the family)."""
        return self._pools[family]

    def get(self, owner: str) -> Allocation | None:
        """The allocation of ``owner``, or None."""
        holding = self._owners.get(owner)
        return holding.result if holding else None

    def owner_of(self, ip: str) -> str | None:
        """Who holds ``ip`` in this subnet (None if nobody or malformed)."""
        try:
            family, address = parse_ip(ip)
        except ValueError:
            return None
        pool = self._pools.get(family)
        return pool.held.get(address) if pool else None

    def owner_of_mac(self, mac: str) -> str | None:
        """Who holds ``mac`` in this subnet (None if nobody or malformed)."""
        try:
            return self._macs.holder(parse_mac(mac))
        except ValueError:
            return None

    def allocations(self) -> Iterator[Allocation]:
        """Every allocation, in no particular order."""
        return (h.result for h in self._owners.values())

    def __len__(self) -> int:
        return len(self._owners)

    def __contains__(self, owner: object) -> bool:
        return owner in self._owners

    def usage(self) -> SubnetUsage:
        """Counts and range strings per family for Subnet status."""
        v4 = self._pools.get(Family.V4)
        v6 = self._pools.get(Family.V6)
        return SubnetUsage(self.name, v4.usage() if v4 else None, v6.usage() if v6 else None)

    # -- allocation -------------------------------------------------------------------------

    def _result(
        self, owner: str, addrs: dict[Family, int], mac: int, holders: frozenset[str]
    ) -> Allocation:
        return Allocation(
            self.name,
            owner,
            tuple(self._pools[f].format(addrs[f]) for f in self._order if f in addrs),
            format_mac(mac),
            holders,
        )

    def allocate(
        self,
        owner: str,
        *,
        ips: str | Sequence[str] | None = None,
        mac: str | None = None,
        holder: str | None = None,
        within: AddressLimit | None = None,
        choices: Sequence[Sequence[str]] = (),
    ) -> Allocation:
        """Give ``owner`` one address per family and a MAC; return what it holds.

        ``within`` limits automatic addresses to a pool's ranges (an IPPool, an
        ``ip_pool`` list); ``choices`` are candidate static requests (``ip_pool``
        dual-stack pairs), of which the first whose addresses are all free is taken.
        An owner already holding its addresses keeps them either way.

        ``ips`` is a static request: one address per family, comma-joined or a
        sequence (an ``/prefix`` suffix is refused as malformed). A family not
        requested gets the lowest free address. ``mac`` is a static MAC request.
        ``holder`` adds a pod to the allocation's holders.

        Raises (changing nothing): :class:`InvalidAddressError`,
        :class:`AddressFamilyError`, :class:`AddressOutOfRangeError`,
        :class:`ReservedAddressError`, :class:`GatewayAddressError`,
        :class:`AddressConflictError`, :class:`InvalidMACError`,
        :class:`MACConflictError`, :class:`SharedAddressMoveError`,
        :class:`PoolExhaustedError`.
        """
        holding = self._owners.get(owner)
        if choices and ips is None and not (holding and holding.count() == len(self._order)):
            ips = self._planner.first_free_choice(owner, choices, within)
        if ips is None and mac is None and within is None:
            return self.allocate_auto(owner, holder)
        return self._allocate_planned(
            owner, holding, ips=ips, mac=mac, holder=holder, within=within
        )

    def allocate_auto(self, owner: str, holder: str | None = None) -> Allocation:
        """``allocate(owner, holder=holder)``: no static request, no pool limit, no choices.

        This is the overwhelmingly common call (every NIC without address
        annotations), so the registry calls it directly and it is written for
        speed: no keyword plumbing, no plan dictionaries, no helper calls on
        the single-stack path (the MAC draw, the pop, the IPv4 text and the MAC
        text are inlined, and each inlined copy names its original; the frozen
        result is built as :class:`~ovnctl.ipam.results._AllocationBuilder`
        explains). It keeps the planned path's guarantees and order: every
        family is checked for a free address, then a MAC is drawn, and only then
        is anything taken, so a refusal changes nothing and names the cause the
        plan phase would.
        """
        if owner in self._owners:  # an operator, not a .get() call: new owners are the norm
            return self._allocate_again(owner, self._owners[owner], holder)
        # The plan's order: a free address in every family first, then the MAC. A subnet
        # out of both refuses for want of an address on every path, drawing no MAC.
        single = self._single
        if single is not None:
            free = single.free
            starts = free._starts
            if not starts:
                raise self._planner.exhausted(single)
        else:
            # Planner._check_free's unlimited case, inlined (no extra frame on dual-stack).
            for pool in self._ordered_pools:
                if not pool.free:
                    raise self._planner.exhausted(pool)
        # MacTable.fresh, inlined (one call frame is ~3% of this path). Drawn before
        # any address moves: a full MAC space must refuse with nothing taken.
        macs = self._macs
        prefix = macs._prefix
        mac_value = prefix | macs._getrandbits(macs._mask)
        by_mac = macs._by_mac
        if mac_value in by_mac or mac_value == prefix:
            mac_value = self._planner.fresh_mac()
        holding = new_holding(Holding)
        if single is not None:
            # FamilyPool.pop_lowest, inlined: take the first free interval's start
            # (checked non-empty above).
            address = starts[0]
            ends = free._ends
            if address == ends[0]:
                del starts[0]
                del ends[0]
            else:
                starts[0] = address + 1
            free._size -= 1
            single.held[address] = owner
            single._usage = None
            if self._single_v4:
                # FamilyPool._format_v4_cached, inlined for its common case: the
                # neighbour of the last address formatted shares "a.b.c.".
                if address >> 8 == single._text_key:
                    texts: tuple[str, ...] = (single._text_prefix + _OCTETS[address & 255],)
                else:
                    texts = (single.format(address),)
                holding.v4 = address
                holding.v6 = None
            else:
                texts = (single.format(address),)
                holding.v4 = None
                holding.v6 = address
        else:
            texts = self._pop_every_family(owner, holding)
        by_mac[mac_value] = owner
        holding.mac = mac_value
        # The frozen result without its __init__: see _AllocationBuilder for why the
        # __class__ assignment is safe.
        result = _new_object(_AllocationBuilder)
        result.subnet = self.name
        result.owner = owner
        result.ips = texts
        result.mac = mac_value.to_bytes(6).hex(":")  # format_mac, inlined
        result.holders = _NO_HOLDERS if holder is None else frozenset((holder,))
        result.__class__ = Allocation  # type: ignore[assignment]
        holding.result = result  # type: ignore[assignment]
        self._owners[owner] = holding
        return result  # type: ignore[return-value]

    def _allocate_again(self, owner: str, holding: Holding, holder: str | None) -> Allocation:
        """:meth:`allocate_auto` for an owner that already holds an allocation."""
        if holding.count() != len(self._order):
            # The subnet gained a family since: fill it in, planned.
            return self._allocate_planned(owner, holding, ips=None, mac=None, holder=holder)
        if holder is not None and holder not in holding.result.holders:
            holding.result = self._result(
                owner, holding.addrs, holding.mac, holding.result.holders | {holder}
            )
        return holding.result

    def _pop_every_family(self, owner: str, holding: Holding) -> tuple[str, ...]:
        """Dual-stack commit of :meth:`allocate_auto`: every family's lowest free address
        (:meth:`allocate_auto` checked that each has one)."""
        holding.v4 = holding.v6 = None
        texts: list[str] = []
        for pool in self._ordered_pools:
            address = pool.pop_lowest(owner)
            texts.append(pool.format(address))
            if pool.family is _V4:
                holding.v4 = address
            else:
                holding.v6 = address
        return tuple(texts)

    def _allocate_planned(
        self,
        owner: str,
        holding: Holding | None,
        *,
        ips: str | Sequence[str] | None,
        mac: str | None,
        holder: str | None,
        within: AddressLimit | None = None,
    ) -> Allocation:
        """Plan (every check, :mod:`.planning`), then commit (cannot fail)."""
        plan = self._planner.plan(owner, holding, ips=ips, mac=mac, holder=holder, within=within)
        addrs = self._commit_addresses(owner, plan)
        mac_value = self._commit_mac(owner, holding, plan)
        holders = holding.result.holders if holding else _NO_HOLDERS
        if holder is not None:
            holders = holders | {holder}
        result = self._result(owner, addrs, mac_value, holders)
        self._owners[owner] = holding_of(addrs, mac_value, result)
        return result

    def _commit_addresses(self, owner: str, plan: Plan) -> dict[Family, int]:
        """Take the static addresses (releasing the ones they replace), then the automatic ones."""
        addrs = dict(plan.current)
        for family, address in plan.wanted.items():
            old = addrs.get(family)
            if old == address:
                continue
            pool = self._pools[family]
            if old is not None:
                pool.release(old)
            pool.take(address, owner)
            addrs[family] = address
        for family in plan.auto:
            limit = plan.limits.get(family)
            if limit is None:
                addrs[family] = self._pools[family].pop_lowest(owner)
            else:
                found = self._pools[family].pop_lowest_in(limit, owner)
                assert found is not None  # checked in the plan, nothing changed since
                addrs[family] = found
        return addrs

    def _commit_mac(self, owner: str, holding: Holding | None, plan: Plan) -> int:
        """Record the owner's MAC: static, drawn in the plan, or kept (a move drops the old one)."""
        wanted_mac = plan.wanted_mac
        if holding is None:
            mac_value = wanted_mac if wanted_mac is not None else plan.drawn_mac
        else:
            mac_value = holding.mac
            if wanted_mac is not None and wanted_mac != holding.mac:
                self._macs.drop(holding.mac, owner)
                mac_value = wanted_mac
        self._macs.take(mac_value, owner)
        return mac_value

    def release(self, owner: str) -> Allocation | None:
        """Release everything ``owner`` holds; return what it held (None: unknown owner)."""
        holding = self._owners.pop(owner, None)
        if holding is None:
            return None
        if holding.v4 is not None:
            self._pools[_V4].release(holding.v4)
        if holding.v6 is not None:
            self._pools[_V6].release(holding.v6)
        self._macs.drop(holding.mac, owner)
        return holding.result

    def drop_holder(self, owner: str, holder: str) -> Allocation | None:
        """Remove ``holder`` from the allocation's holders; the address stays with ``owner``."""
        holding = self._owners.get(owner)
        if holding is None:
            return None
        if holder in holding.result.holders:
            holding.result = self._result(
                owner, holding.addrs, holding.mac, holding.result.holders - {holder}
            )
        return holding.result

    # -- rebuild ----------------------------------------------------------------------------

    def rebuild(self, records: Iterable[AllocationRecord]) -> RebuildReport:
        """Record existing allocations (IP objects at start-up); first claim wins.

        A record that claims an address or MAC someone else already holds, that
        names an owner already holding different addresses, that is malformed,
        of a family the subnet lacks, outside the CIDR, or on the gateway or a
        network/broadcast address, is reported and not recorded at all. A record
        inside ``excludeIps`` is accepted (it was a static request). Records
        identical to what the owner already holds are accepted silently.
        """
        conflicts: list[RebuildConflict] = []
        recorded = 0
        touched: set[Family] = set()
        for record in records:
            conflict = self._rebuild_one(record, touched)
            if conflict is None:
                recorded += 1
            else:
                conflicts.append(conflict)
        for family in touched:
            self._pools[family].rebuild_free()
        return RebuildReport(recorded, tuple(conflicts))

    def _rebuild_one(
        self, record: AllocationRecord, touched: set[Family]
    ) -> RebuildConflict | None:
        owner = record.owner

        def refuse(
            reason: ConflictReason, detail: str, holder: str | None = None
        ) -> RebuildConflict:
            return RebuildConflict(record, reason, f"subnet {self.name!r}: {detail}", holder)

        addrs: dict[Family, int] = {}
        for text in split_ips(record.ips):
            try:
                family, address = parse_ip(text)
            except ValueError:
                return refuse(ConflictReason.INVALID, f"{text!r} is not a valid IP address")
            pool = self._pools.get(family)
            if pool is None or family in addrs:
                return refuse(ConflictReason.INVALID, f"{text} is of the wrong family")
            reason = pool.reason(address)
            if reason is not None and reason is not ConflictReason.EXCLUDED:
                return refuse(reason, f"{text} cannot be held ({reason.value})")
            held_by = pool.held.get(address)
            if held_by is not None and held_by != owner:
                return refuse(ConflictReason.IP_TAKEN, f"{text} is held by {held_by!r}", held_by)
            addrs[family] = address
        if not addrs:
            return refuse(ConflictReason.INVALID, f"owner {owner!r} claims no IP address")
        mac_value: int | None = None
        if record.mac.strip():
            try:
                mac_value = parse_mac(record.mac)
            except ValueError:
                return refuse(ConflictReason.INVALID, f"{record.mac!r} is not a MAC address")
            mac_holder = self._macs.holder(mac_value)
            if mac_holder is not None and mac_holder != owner:
                return refuse(
                    ConflictReason.MAC_TAKEN,
                    f"MAC {record.mac} is held by {mac_holder!r}",
                    mac_holder,
                )
        existing = self._owners.get(owner)
        if existing is not None:
            if existing.addrs == addrs and mac_value in (None, existing.mac):
                if record.holders - existing.result.holders:
                    existing.result = self._result(
                        owner,
                        existing.addrs,
                        existing.mac,
                        existing.result.holders | record.holders,
                    )
                return None
            return refuse(
                ConflictReason.DUPLICATE_OWNER,
                f"owner {owner!r} already holds {existing.result.ip_address}",
                owner,
            )
        if mac_value is None:
            try:
                mac_value = self._macs.generate()
            except OverflowError:
                return refuse(ConflictReason.MAC_EXHAUSTED, "no free MAC address to give it")
        for family, address in addrs.items():
            # Bulk path: no per-address interval surgery; free is recomputed once.
            self._pools[family].held[address] = owner
            touched.add(family)
        self._macs.take(mac_value, owner)
        result = self._result(owner, addrs, mac_value, frozenset(record.holders))
        self._owners[owner] = holding_of(addrs, mac_value, result)
        return None
