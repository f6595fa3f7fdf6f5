"""The plan phase of an allocation request: every check, no mutation.

A :class:`~ovnctl.ipam.subnet.SubnetPool` handles a request in two phases (see
its module): *plan*, here, and *commit*, there. :meth:`Planner.plan` runs the
checks in a fixed order and raises the first failure as an
:class:`~ovnctl.ipam.errors.AllocationError`, or returns a :class:`Plan` the
subnet can carry out without any further check:

1. static addresses (:meth:`Planner.check_static`, one address per family);
2. a static MAC (well-formed, not held by another owner);
3. a move (an owner asking for other addresses or another MAC than it holds)
   while another pod still uses its address;
4. a free address in every family that needs an automatic one (inside the
   request's :class:`~ovnctl.ipam.ippool.AddressLimit`, if any);
5. a fresh MAC for a new owner without a static one, drawn now so a full MAC
   space refuses before any address moves.

The subnet builds one planner per spec (:meth:`SubnetPool._apply_spec
<ovnctl.ipam.subnet.SubnetPool>`): it reads the family pools and MAC table it
was given and never writes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ovnctl.ipam.addresses import Family, parse_ip
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
from ovnctl.ipam.holding import Holding, split_ips
from ovnctl.ipam.mac import MacTable, format_mac, parse_mac
from ovnctl.ipam.pool import FamilyPool
from ovnctl.ipam.results import ConflictReason

if TYPE_CHECKING:
    from ovnctl.ipam.ippool import AddressLimit
    from ovnctl.ipam.ranges import IntervalSet

__all__ = ["Plan", "Planner"]

_NO_LIMITS: Mapping[Family, IntervalSet] = {}


@dataclass(slots=True)
class Plan:
    """A checked request: what the commit phase takes, in which families, with which MAC."""

    current: dict[Family, int]
    """What the owner holds now (empty for a new owner)."""
    wanted: dict[Family, int]
    """Static addresses, by family; each is free or already the owner's."""
    wanted_mac: int | None
    """The static MAC, free or already the owner's; None: keep or draw one."""
    auto: list[Family]
    """Families that get their lowest free address (within ``limits``), in cidrBlock order."""
    limits: Mapping[Family, IntervalSet]
    """Per family, the ranges an automatic address must come from (absent: anywhere)."""
    drawn_mac: int
    """A fresh free MAC for a new owner without a static MAC; 0 otherwise."""


class Planner:
    """Checks requests against one subnet's pools and MACs; see the module docstring."""

    __slots__ = ("_cidr_block", "_macs", "_order", "_pools", "subnet")

    def __init__(
        self,
        subnet: str,
        cidr_block: str,
        pools: Mapping[Family, FamilyPool],
        order: tuple[Family, ...],
        macs: MacTable,
    ) -> None:
        self.subnet = subnet
        self._cidr_block = cidr_block
        self._pools = pools
        self._order = order
        self._macs = macs

    def plan(
        self,
        owner: str,
        holding: Holding | None,
        *,
        ips: str | Sequence[str] | None,
        mac: str | None,
        holder: str | None,
        within: AddressLimit | None,
    ) -> Plan:
        """Check a request of ``owner`` (``holding``: what it holds, if anything); see above."""
        wanted = self._static_addresses(owner, ips)
        wanted_mac = self._static_mac(owner, mac)
        current = holding.addrs if holding else {}
        if holding is not None:
            self._check_move(owner, holding, current, wanted, wanted_mac, holder, ips or mac)
        auto = [f for f in self._order if f not in wanted and f not in current]
        limits = within.ranges if within is not None else _NO_LIMITS
        self._check_free(auto, limits, within)
        # Drawn now, not in the commit: a full MAC space must refuse before any address moves.
        drawn_mac = self.fresh_mac() if holding is None and wanted_mac is None else 0
        return Plan(current, wanted, wanted_mac, auto, limits, drawn_mac)

    # -- the phases, in the order plan() runs them ------------------------------------------

    def _static_addresses(self, owner: str, ips: str | Sequence[str] | None) -> dict[Family, int]:
        wanted: dict[Family, int] = {}
        for text in split_ips(ips):
            family, address = self.check_static(owner, text)
            if family in wanted:
                raise AddressFamilyError(
                    f"requested IPs {ips!r} name two IPv{int(family)} addresses",
                    value=text,
                    subnet=self.subnet,
                )
            wanted[family] = address
        return wanted

    def check_static(self, owner: str, text: str) -> tuple[Family, int]:
        """One requested address: well-formed, of the subnet's families, allocatable, free."""
        try:
            family, address = parse_ip(text)
        except ValueError:
            raise InvalidAddressError(
                f"requested IP {text!r} is not a valid IP address", value=text, subnet=self.subnet
            ) from None
        pool = self._pools.get(family)
        if pool is None:
            raise AddressFamilyError(
                f"requested IP {text} is IPv{int(family)} but the subnet's CIDR is "
                f"{self._cidr_block}",
                value=text,
                subnet=self.subnet,
            )
        reason = pool.reason(address)
        if reason is ConflictReason.OUTSIDE_CIDR:
            raise AddressOutOfRangeError(
                f"requested IP {text} is outside CIDR {pool.network}",
                value=text,
                subnet=self.subnet,
            )
        if reason is ConflictReason.RESERVED:
            raise ReservedAddressError(
                f"requested IP {text} is the network or broadcast address of {pool.network}",
                value=text,
                subnet=self.subnet,
            )
        if reason is ConflictReason.GATEWAY:
            raise GatewayAddressError(
                f"requested IP {text} is the subnet's gateway", value=text, subnet=self.subnet
            )
        held_by = pool.held.get(address)
        if held_by is not None and held_by != owner:
            raise AddressConflictError(
                f"requested IP {text} is already held by {held_by!r}",
                value=text,
                subnet=self.subnet,
                holder=held_by,
            )
        return family, address

    def _static_mac(self, owner: str, mac: str | None) -> int | None:
        if mac is None or not mac.strip():
            return None
        try:
            wanted_mac = parse_mac(mac)
        except ValueError:
            raise InvalidMACError(
                f"requested MAC {mac!r} is not a unicast MAC address",
                value=mac,
                subnet=self.subnet,
            ) from None
        mac_holder = self._macs.holder(wanted_mac)
        if mac_holder is not None and mac_holder != owner:
            raise MACConflictError(
                f"requested MAC {format_mac(wanted_mac)} is already held by {mac_holder!r}",
                value=mac,
                subnet=self.subnet,
                holder=mac_holder,
            )
        return wanted_mac

    def _check_move(
        self,
        owner: str,
        holding: Holding,
        current: dict[Family, int],
        wanted: dict[Family, int],
        wanted_mac: int | None,
        holder: str | None,
        request: str | Sequence[str] | None,
    ) -> None:
        """An owner moving to other addresses or another MAC: refused while others use it."""
        moving = any(f in current and current[f] != a for f, a in wanted.items())
        if wanted_mac is not None and holding.mac != wanted_mac:
            moving = True
        if not moving:
            return
        others = holding.result.holders - {holder} if holder else holding.result.holders
        if others:
            raise SharedAddressMoveError(
                f"owner {owner!r} cannot move to {request!r} while "
                f"{', '.join(sorted(others))} still use its address",
                value=str(request),
                subnet=self.subnet,
            )

    def _check_free(
        self,
        auto: list[Family],
        limits: Mapping[Family, IntervalSet],
        within: AddressLimit | None,
    ) -> None:
        """Every family in ``auto`` has a free address (inside its limit, if it has one)."""
        for family in auto:
            pool = self._pools[family]
            limit = limits.get(family)
            if limit is not None:
                if pool.free.lowest_in(limit) is None:
                    raise self.exhausted(pool, within)
            elif not pool.free:
                raise self.exhausted(pool)

    # -- shared with the subnet's fast path ---------------------------------------------------

    def exhausted(self, pool: FamilyPool, within: AddressLimit | None = None) -> PoolExhaustedError:
        """The error for a family with no free address (in ``within``, if given)."""
        if within is not None:
            return PoolExhaustedError(
                f"no free IPv{int(pool.family)} address left in {within.name}",
                value=within.name,
                subnet=self.subnet,
            )
        return PoolExhaustedError(
            f"no free IPv{int(pool.family)} address left in {pool.network}",
            value=str(pool.network),
            subnet=self.subnet,
        )

    def fresh_mac(self) -> int:
        """A free MAC for a new owner, not yet recorded; :class:`MACExhaustedError` if none."""
        try:
            return self._macs.fresh()
        except OverflowError:
            raise MACExhaustedError(
                f"no free MAC address left under prefix {self._macs.prefix_text}",
                value=self._macs.prefix_text,
                subnet=self.subnet,
            ) from None

    def first_free_choice(
        self, owner: str, choices: Sequence[Sequence[str]], within: AddressLimit | None
    ) -> Sequence[str]:
        """The first candidate static request whose addresses are all free (or ``owner``'s)."""
        for choice in choices:
            if all(self._free_for(owner, text) for text in choice):
                return choice
        name = within.name if within is not None else "the requested list"
        raise PoolExhaustedError(f"every entry of {name} is in use", value=name, subnet=self.subnet)

    def _free_for(self, owner: str, text: str) -> bool:
        try:
            family, address = parse_ip(text)
        except ValueError:
            return True  # not held by anyone: the plan refuses it with a clear error
        pool = self._pools.get(family)
        held_by = pool.held.get(address) if pool else None
        return held_by is None or held_by == owner
