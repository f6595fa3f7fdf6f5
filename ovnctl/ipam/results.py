"""Frozen values the IPAM hands back to the controller.

Callers never see the engine's mutable state: an allocation, a usage snapshot
or a report is a frozen, slotted dataclass they can keep, compare, log or turn
into annotations and Subnet status without a later allocation changing it
under them. Named fields replace Kube-OVN's positional ``(v4, v6, mac)`` string
triples.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ovnctl.ipam.addresses import Family

__all__ = [
    "Allocation",
    "AllocationRecord",
    "ConflictReason",
    "PoolUsage",
    "RebuildConflict",
    "RebuildReport",
    "SubnetUsage",
    "UpdateConflict",
    "UpdateReport",
]


@dataclass(frozen=True, slots=True)
class Allocation:
    """What one owner holds in one subnet: an address per family and a MAC.

    ``ips`` follows the order of the subnet's ``cidrBlock`` (v4 first or v6
    first, as written). ``holders`` are the pods currently using the address
    (live migration: source and target pod of one VM); empty for owners that
    never named a holder.
    """

    subnet: str
    owner: str
    ips: tuple[str, ...]
    mac: str
    holders: frozenset[str] = frozenset()

    @property
    def ip_address(self) -> str:
        """The ``ip_address`` annotation value: ``"10.16.0.5"`` or ``"10.16.0.5,fd00::5"``."""
        return ",".join(self.ips)

    @property
    def v4(self) -> str | None:
        """The IPv4 address, if any."""
        return next((ip for ip in self.ips if ":" not in ip), None)

    @property
    def v6(self) -> str | None:
        """The IPv6 address, if any."""
        return next((ip for ip in self.ips if ":" in ip), None)


class _AllocationBuilder:
    """Same slots as :class:`Allocation`, not frozen: the allocation hot path's builder.

    A frozen dataclass's ``__init__`` stores each field through a generic
    ``object.__setattr__`` call. :meth:`SubnetPool.allocate_auto
    <ovnctl.ipam.subnet.SubnetPool.allocate_auto>` instead fills one of these
    (``object.__new__``, then plain slot stores) and makes it an ``Allocation``
    by ``__class__`` assignment, which CPython allows between types of identical
    layout and refuses with :class:`TypeError` otherwise
    (``tests/ipam/test_allocation.py`` guards it). That saves a quarter of an
    automatic allocation's cost; everything else uses the normal constructor.
    The result is an ordinary ``Allocation`` (equal, hashable, replaceable).
    """

    __slots__ = Allocation.__slots__  # the same layout, so __class__ can be reassigned

    subnet: str
    owner: str
    ips: tuple[str, ...]
    mac: str
    holders: frozenset[str]


@dataclass(frozen=True, slots=True)
class PoolUsage:
    """Counts and range strings of one family of one subnet, for Subnet status.

    ``available + using + reserved == size``. Reserved are the addresses nobody
    holds that are never handed out automatically: network and (v4) broadcast,
    the gateway and ``excludeIps``. An excluded address that was requested
    statically is *using*, not reserved.
    """

    family: Family
    cidr: str
    size: int
    available: int
    using: int
    reserved: int
    available_range: str
    using_range: str


@dataclass(frozen=True, slots=True)
class SubnetUsage:
    """Usage of both families of a subnet; a family the subnet lacks is None."""

    subnet: str
    v4: PoolUsage | None
    v6: PoolUsage | None

    def status_fields(self) -> dict[str, int | str]:
        """The Subnet ``status`` fields Kube-OVN writes; an absent family reads 0 and ``""``."""
        fields: dict[str, int | str] = {}
        for label, usage in ((Family.V4.label, self.v4), (Family.V6.label, self.v6)):
            fields[f"{label}availableIPs"] = usage.available if usage else 0
            fields[f"{label}usingIPs"] = usage.using if usage else 0
            fields[f"{label}availableIPrange"] = usage.available_range if usage else ""
            fields[f"{label}usingIPrange"] = usage.using_range if usage else ""
        return fields


class ConflictReason(enum.Enum):
    """Why an existing or claimed address cannot stand as it is."""

    OUTSIDE_CIDR = "outside-cidr"  # the (changed) CIDR no longer contains it
    RESERVED = "reserved"  # network or broadcast address of the (changed) CIDR
    GATEWAY = "gateway"  # it is the (new) gateway
    EXCLUDED = "excluded"  # it falls in (newly) excluded space
    FAMILY_REMOVED = "family-removed"  # the subnet no longer has this family
    IP_TAKEN = "ip-taken"  # rebuild: another owner claimed the address first
    MAC_TAKEN = "mac-taken"  # rebuild: another owner claimed the MAC first
    MAC_EXHAUSTED = "mac-exhausted"  # rebuild: no MAC names it and none is free to give it
    DUPLICATE_OWNER = "duplicate-owner"  # rebuild: the owner already holds other addresses
    INVALID = "invalid"  # rebuild: malformed address or MAC, or wrong family
    UNKNOWN_SUBNET = "unknown-subnet"  # rebuild: the record names no registered subnet


@dataclass(frozen=True, slots=True)
class UpdateConflict:
    """An allocation that a Subnet update made questionable; it is kept, the caller decides."""

    owner: str
    ip: str
    reason: ConflictReason


@dataclass(frozen=True, slots=True)
class UpdateReport:
    """Result of applying a changed Subnet spec."""

    subnet: str
    conflicts: tuple[UpdateConflict, ...] = ()
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AllocationRecord:
    """An allocation as found at start-up (typically from an IP object).

    ``ips`` holds the addresses; an element may itself be comma-joined
    (``"10.16.0.5,fd00::5"``, the IP object's ``ipAddress``). ``mac`` may be
    empty, in which case a fresh one is generated.
    """

    owner: str
    ips: tuple[str, ...]
    mac: str = ""
    subnet: str = ""
    holders: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class RebuildConflict:
    """A record the rebuild refused: nothing of it was recorded."""

    record: AllocationRecord
    reason: ConflictReason
    detail: str
    holder: str | None = None  # the owner that claimed the address or MAC first


@dataclass(frozen=True, slots=True)
class RebuildReport:
    """Result of a rebuild: how many records were recorded and which were refused."""

    recorded: int
    conflicts: tuple[RebuildConflict, ...] = ()
