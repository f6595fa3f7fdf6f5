"""The pool of one Subnet: one :class:`FamilyPool` per CIDR, owners, MACs.

This is where an allocation request becomes a decision. Every request is
handled in two phases: *plan* (parse and check every requested address and
MAC, check each family that needs an automatic address has one free) and
*commit* (mutate the family pools and the MAC table). Only the plan phase can
raise, so a dual-stack allocation is all-or-nothing and a failed request
leaves the subnet exactly as it was. A generated MAC is drawn in the plan
phase too: a full MAC space is refused before any address is taken.

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
    AddressRange,
    Family,
    family_of,
    format_ip,
    parse_cidr_block,
    parse_exclude_ips,
    parse_gateway,
    parse_ip,
)
from ovnctl.ipam.errors import (
    AddressConflictError,
    AddressFamilyError,
    AddressOutOfRangeError,
    GatewayAddressError,
    InvalidAddressError,
    InvalidMACError,
    MACConflictError,
    MACExhaustedError,
    PoolExhaustedError,
    ReservedAddressError,
    SharedAddressMoveError,
)
from ovnctl.ipam.mac import DEFAULT_MAC_PREFIX, MacTable, format_mac, parse_mac
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
    new_allocation,
)

if TYPE_CHECKING:
    from ovnctl.ipam.ippool import AddressLimit

__all__ = ["SubnetPool"]


class _Holding:
    """Mutable per-owner state; ``result`` is the frozen view handed out.

    One int slot per family (None: nothing held in it) rather than a
    ``{family: address}`` dict: a one-entry dict costs ~200 bytes and a build
    per allocation, and this object exists once per owner. ``addrs`` gives the
    dict view the planning and rebuild code works with.
    """

    __slots__ = ("mac", "result", "v4", "v6")

    v4: int | None
    v6: int | None
    mac: int
    result: Allocation

    @property
    def addrs(self) -> dict[Family, int]:
        """A fresh ``{family: address}`` of what is held (mutating it changes nothing)."""
        addrs: dict[Family, int] = {}
        if self.v4 is not None:
            addrs[Family.V4] = self.v4
        if self.v6 is not None:
            addrs[Family.V6] = self.v6
        return addrs

    def count(self) -> int:
        """How many families hold an address."""
        return (self.v4 is not None) + (self.v6 is not None)

    def set_addrs(self, addrs: dict[Family, int]) -> None:
        """Hold exactly ``addrs``."""
        self.v4 = addrs.get(Family.V4)
        self.v6 = addrs.get(Family.V6)


def _holding(addrs: dict[Family, int], mac: int, result: Allocation) -> _Holding:
    # Filling slots directly skips an __init__ frame.
    holding = _new_holding(_Holding)
    holding.set_addrs(addrs)
    holding.mac = mac
    holding.result = result
    return holding


_new_holding = object.__new__
# Module constants: loading an enum member through its class is a slow
# attribute lookup, and the hot paths below compare families once per call.
_V4 = Family.V4
_V6 = Family.V6


_NO_HOLDERS: frozenset[str] = frozenset()


def _split_ips(ips: str | Sequence[str] | None) -> list[str]:
    if ips is None:
        return []
    items = [ips] if isinstance(ips, str) else list(ips)
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


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
        self._owners: dict[str, _Holding] = {}
        self._macs = MacTable(prefix=mac_prefix, rng=rng or random.Random())
        self._pools: dict[Family, FamilyPool] = {}
        self._order: tuple[Family, ...] = ()
        self._ordered_pools: tuple[FamilyPool, ...] = ()
        self.warnings: tuple[str, ...] = ()
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
        self.cidr_block = ",".join(str(n) for n in networks)
        self.gateway = ",".join(str(g) for g in gateways)  # effective, defaults filled in
        self.gateway_spec = gateway  # as written: "" keeps following the CIDR's default
        self.exclude_ips = tuple(exclude_ips)
        self.warnings = warnings
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
            ips = self._first_free_choice(owner, choices, within)
        if ips is None and mac is None and within is None:
            return self.allocate_auto(owner, holder)
        return self._allocate_planned(
            owner, holding, ips=ips, mac=mac, holder=holder, within=within
        )

    def allocate_auto(self, owner: str, holder: str | None = None) -> Allocation:
        """``allocate(owner, holder=holder)``: no static request, no pool limit, no choices.

        This is the overwhelmingly common call (every NIC without address
        annotations), so the registry calls it directly and it is written for
        speed: no keyword plumbing, no plan dictionaries, the frozen result
        built by :func:`new_allocation`. It keeps the planned path's guarantee:
        nothing changes unless a MAC and every family's address are free (the
        MAC is drawn first; single-stack: the pop itself raises before touching
        anything; dual-stack: every family is checked before the first pop).
        """
        holding = self._owners.get(owner)
        if holding is not None:
            if holding.count() != len(self._order):
                # The subnet gained a family since: fill it in, planned.
                return self._allocate_planned(owner, holding, ips=None, mac=None, holder=holder)
            if holder is not None and holder not in holding.result.holders:
                holding.result = self._result(
                    owner, holding.addrs, holding.mac, holding.result.holders | {holder}
                )
            return holding.result
        # MacTable.fresh, inlined (one call frame is ~3% of this path). Drawn before
        # any address moves: a full MAC space must refuse with nothing taken.
        macs = self._macs
        prefix, by_mac = macs._prefix, macs._by_mac
        mac_value = prefix | macs._getrandbits(macs._mask)
        if mac_value in by_mac or mac_value == prefix:
            mac_value = self._fresh_mac()
        pools = self._ordered_pools
        holding = _new_holding(_Holding)
        holding.v4 = holding.v6 = None
        if len(pools) == 1:
            pool = pools[0]
            try:
                address = pool.pop_lowest(owner)
            except IndexError:  # the free set was empty; nothing was changed
                raise self._exhausted(pool) from None
            texts: tuple[str, ...] = (pool.format(address),)
            if pool.family is _V4:
                holding.v4 = address
            else:
                holding.v6 = address
        else:
            for pool in pools:
                if not pool.free:
                    raise self._exhausted(pool)
            text_list: list[str] = []
            for pool in pools:
                address = pool.pop_lowest(owner)
                text_list.append(pool.format(address))
                if pool.family is _V4:
                    holding.v4 = address
                else:
                    holding.v6 = address
            texts = tuple(text_list)
        by_mac[mac_value] = owner
        holding.mac = mac_value
        holding.result = result = new_allocation(
            self.name,
            owner,
            texts,
            mac_value.to_bytes(6, "big").hex(":"),  # format_mac, inlined
            _NO_HOLDERS if holder is None else frozenset((holder,)),
        )
        self._owners[owner] = holding
        return result

    def _first_free_choice(
        self, owner: str, choices: Sequence[Sequence[str]], within: AddressLimit | None
    ) -> Sequence[str]:
        for choice in choices:
            free = True
            for text in choice:
                held_by = self.owner_of(text)
                if held_by is not None and held_by != owner:
                    free = False
                    break
            if free:
                return choice
        name = within.name if within is not None else "the requested list"
        raise PoolExhaustedError(f"every entry of {name} is in use", value=name, subnet=self.name)

    def _exhausted(
        self, pool: FamilyPool, within: AddressLimit | None = None
    ) -> PoolExhaustedError:
        if within is not None:
            return PoolExhaustedError(
                f"no free IPv{int(pool.family)} address left in {within.name}",
                value=within.name,
                subnet=self.name,
            )
        return PoolExhaustedError(
            f"no free IPv{int(pool.family)} address left in {pool.network}",
            value=str(pool.network),
            subnet=self.name,
        )

    def _fresh_mac(self) -> int:
        """A free MAC for a new owner, drawn before anything is taken (plan phase)."""
        try:
            return self._macs.fresh()
        except OverflowError:
            raise MACExhaustedError(
                f"no free MAC address left under prefix {self._macs.prefix_text}",
                value=self._macs.prefix_text,
                subnet=self.name,
            ) from None

    def _check_static(self, owner: str, text: str) -> tuple[Family, int]:
        try:
            family, address = parse_ip(text)
        except ValueError:
            raise InvalidAddressError(
                f"requested IP {text!r} is not a valid IP address", value=text, subnet=self.name
            ) from None
        pool = self._pools.get(family)
        if pool is None:
            raise AddressFamilyError(
                f"requested IP {text} is IPv{int(family)} but the subnet's CIDR is "
                f"{self.cidr_block}",
                value=text,
                subnet=self.name,
            )
        reason = pool.reason(address)
        if reason is ConflictReason.OUTSIDE_CIDR:
            raise AddressOutOfRangeError(
                f"requested IP {text} is outside CIDR {pool.network}", value=text, subnet=self.name
            )
        if reason is ConflictReason.RESERVED:
            raise ReservedAddressError(
                f"requested IP {text} is the network or broadcast address of {pool.network}",
                value=text,
                subnet=self.name,
            )
        if reason is ConflictReason.GATEWAY:
            raise GatewayAddressError(
                f"requested IP {text} is the subnet's gateway", value=text, subnet=self.name
            )
        held_by = pool.held.get(address)
        if held_by is not None and held_by != owner:
            raise AddressConflictError(
                f"requested IP {text} is already held by {held_by!r}",
                value=text,
                subnet=self.name,
                holder=held_by,
            )
        return family, address

    def _allocate_planned(
        self,
        owner: str,
        holding: _Holding | None,
        *,
        ips: str | Sequence[str] | None,
        mac: str | None,
        holder: str | None,
        within: AddressLimit | None = None,
    ) -> Allocation:
        # -- plan: every check, no mutation --
        wanted: dict[Family, int] = {}
        for text in _split_ips(ips):
            family, address = self._check_static(owner, text)
            if family in wanted:
                raise AddressFamilyError(
                    f"requested IPs {ips!r} name two IPv{int(family)} addresses",
                    value=text,
                    subnet=self.name,
                )
            wanted[family] = address
        wanted_mac: int | None = None
        if mac is not None and mac.strip():
            try:
                wanted_mac = parse_mac(mac)
            except ValueError:
                raise InvalidMACError(
                    f"requested MAC {mac!r} is not a unicast MAC address",
                    value=mac,
                    subnet=self.name,
                ) from None
            mac_holder = self._macs.holder(wanted_mac)
            if mac_holder is not None and mac_holder != owner:
                raise MACConflictError(
                    f"requested MAC {format_mac(wanted_mac)} is already held by {mac_holder!r}",
                    value=mac,
                    subnet=self.name,
                    holder=mac_holder,
                )
        current = holding.addrs if holding else {}
        moving = any(f in current and current[f] != a for f, a in wanted.items())
        if holding is not None and wanted_mac is not None and holding.mac != wanted_mac:
            moving = True
        if moving and holding is not None:
            others = holding.result.holders - {holder} if holder else holding.result.holders
            if others:
                raise SharedAddressMoveError(
                    f"owner {owner!r} cannot move to {ips or mac!r} while "
                    f"{', '.join(sorted(others))} still use its address",
                    value=str(ips or mac),
                    subnet=self.name,
                )
        auto = [f for f in self._order if f not in wanted and f not in current]
        limits = within.ranges if within is not None else {}
        for family in auto:
            pool = self._pools[family]
            limit = limits.get(family)
            if limit is not None:
                if pool.free.lowest_in(limit) is None:
                    raise self._exhausted(pool, within)
            elif not pool.free:
                raise self._exhausted(pool)
        # Drawn now, not in the commit: a full MAC space must refuse before any address moves.
        drawn_mac = self._fresh_mac() if holding is None and wanted_mac is None else 0

        # -- commit: cannot fail --
        addrs = dict(current)
        for family, address in wanted.items():
            old = addrs.get(family)
            if old == address:
                continue
            pool = self._pools[family]
            if old is not None:
                pool.release(old)
            pool.take(address, owner)
            addrs[family] = address
        for family in auto:
            limit = limits.get(family)
            if limit is None:
                addrs[family] = self._pools[family].pop_lowest(owner)
            else:
                found = self._pools[family].pop_lowest_in(limit, owner)
                assert found is not None  # checked in the plan, nothing changed since
                addrs[family] = found
        if holding is None:
            mac_value = wanted_mac if wanted_mac is not None else drawn_mac
        else:
            mac_value = holding.mac
            if wanted_mac is not None and wanted_mac != holding.mac:
                self._macs.drop(holding.mac, owner)
                mac_value = wanted_mac
        self._macs.take(mac_value, owner)
        holders = holding.result.holders if holding else frozenset()
        if holder is not None:
            holders = holders | {holder}
        result = self._result(owner, addrs, mac_value, holders)
        self._owners[owner] = _holding(addrs, mac_value, result)
        return result

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
        for text in _split_ips(record.ips):
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
        self._owners[owner] = _holding(addrs, mac_value, result)
        return None
