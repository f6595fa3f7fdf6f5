"""Address pools inside a subnet: Kube-OVN's IPPool and the ``ip_pool`` list, as ranges.

An IPPool (``spec.ips``: single IPs, ``a..b`` ranges and CIDRs) and the
``ovn.kubernetes.io/ip_pool`` pod annotation both narrow where *automatic*
allocation may look inside one subnet. Here both become an
:class:`AddressLimit`: one :class:`IntervalSet` per family, so a pool of a /16
is one interval, never 65,536 entries. :meth:`SubnetPool.allocate` takes the
limit and hands out the lowest free address inside it (or refuses with
:class:`PoolExhaustedError`); nothing else in the IPAM changes, so the owner
bookkeeping, rebuild and release paths are the subnet's own.

This module also answers the questions asked about a pool's spec, by the
IPPool reconciler (conditions) and the IPPool admission review (denials)
alike (see ``docs/allocation.md``): does an entry lie outside the subnet,
inside ``excludeIps``, or overlap another pool of the subnet; and what are
its used and available counts and range strings for status.
Pure: no Kubernetes, no I/O.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ovnctl.ipam.addresses import Family, format_ranges, parse_ip
from ovnctl.ipam.ranges import IntervalSet
from ovnctl.ipam.subnet import SubnetPool

__all__ = [
    "AddressLimit",
    "PoolEntryError",
    "PoolProblem",
    "PoolUsageCounts",
    "check_overlaps",
    "check_pool",
    "limit_of",
    "overlap",
    "parse_ip_list",
    "parse_pool_ips",
    "pool_usage",
    "without",
]


class PoolEntryError(ValueError):
    """An entry of ``spec.ips`` (or of an ``ip_pool`` list) that is not an IP, range or CIDR."""

    def __init__(self, detail: str, *, value: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.value = value


@dataclass(frozen=True, slots=True)
class AddressLimit:
    """Where automatic allocation may look: per family, a set of ranges.

    A family the limit does not list is not limited (a pool of IPv4 addresses on
    a dual-stack subnet leaves the IPv6 address to the subnet). ``name`` appears
    in the exhaustion message: ``IP pool 'tenant-a'``.
    """

    name: str
    ranges: Mapping[Family, IntervalSet]

    def size(self, family: Family) -> int:
        ranges = self.ranges.get(family)
        return ranges.size if ranges is not None else 0


@dataclass(frozen=True, slots=True)
class PoolProblem:
    """Why a pool cannot serve: a condition reason and a message naming the entry."""

    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class PoolUsageCounts:
    """One family of a pool, for IPPool status."""

    available: int
    using: int
    available_range: str
    using_range: str


def _parse_entry(entry: str) -> tuple[Family, int, int]:
    text = entry.strip()
    try:
        if ".." in text:
            parts = text.split("..")
            if len(parts) != 2:
                raise ValueError(text)
            first_family, first = parse_ip(parts[0].strip())
            last_family, last = parse_ip(parts[1].strip())
            if first_family is not last_family:
                raise PoolEntryError(f"range {entry!r} mixes IPv4 and IPv6", value=entry) from None
            if first > last:
                raise PoolEntryError(f"range {entry!r} starts after it ends", value=entry)
            return first_family, first, last
        if "/" in text:
            network = ipaddress.ip_network(text, strict=False)
            family = Family.V4 if network.version == 4 else Family.V6
            return family, int(network.network_address), int(network.broadcast_address)
        family, value = parse_ip(text)
        return family, value, value
    except PoolEntryError:
        raise
    except ValueError:
        raise PoolEntryError(
            f"entry {entry!r} is not an IP address, an 'a..b' range or a CIDR", value=entry
        ) from None


def parse_pool_ips(entries: Iterable[object]) -> dict[Family, IntervalSet]:
    """``spec.ips`` as ranges per family; :class:`PoolEntryError` names a bad entry."""
    by_family: dict[Family, list[tuple[int, int]]] = {}
    for entry in entries:
        if not isinstance(entry, str):
            raise PoolEntryError(f"entry {entry!r} is not a string", value=repr(entry))
        family, first, last = _parse_entry(entry)
        by_family.setdefault(family, []).append((first, last))
    return {f: IntervalSet.from_sorted(sorted(r)) for f, r in by_family.items()}


def parse_ip_list(value: str) -> list[tuple[str, ...]]:
    """The ``ip_pool`` annotation as a list of entries, each one IP per family.

    ``"a,b,c"`` is three single-family entries; ``"a4,a6;b4,b6"`` is two
    dual-stack pairs. Raises :class:`PoolEntryError` naming a bad address or a
    pair with two addresses of one family.
    """
    entries: list[tuple[str, ...]] = []
    if ";" in value:
        groups = [g for g in (part.strip() for part in value.split(";")) if g]
        for group in groups:
            ips = tuple(p.strip() for p in group.split(",") if p.strip())
            families: set[Family] = set()
            for ip in ips:
                family = _family_of(ip)
                if family in families:
                    raise PoolEntryError(
                        f"pair {group!r} names two IPv{int(family)} addresses", value=group
                    )
                families.add(family)
            entries.append(ips)
        return entries
    for ip in (p.strip() for p in value.split(",")):
        if ip:
            _family_of(ip)
            entries.append((ip,))
    return entries


def _family_of(ip: str) -> Family:
    try:
        return parse_ip(ip)[0]
    except ValueError:
        raise PoolEntryError(f"{ip!r} is not an IP address", value=ip) from None


def check_pool(ips: Sequence[str], subnet: SubnetPool) -> list[PoolProblem]:
    """Entries of ``spec.ips`` outside ``subnet`` or inside its excludeIps, one problem each.

    The IPPool reconciler (conditions) and the IPPool admission review (denials)
    both call this, so a pool is refused by the same rule, with the same
    message, at ``kubectl apply`` time and in its status. Each message names
    the entry (``spec.ips[2]: 10.16.0.5 ...``) and, for a range, the part at fault.
    """
    problems: list[PoolProblem] = []
    for index, entry in enumerate(ips):
        field = f"spec.ips[{index}]"
        try:
            family, first, last = _parse_entry(entry)
        except PoolEntryError as exc:
            problems.append(PoolProblem("InvalidSpec", f"{field}: {exc.detail}"))
            continue
        if family not in subnet.families:
            problems.append(
                PoolProblem(
                    "IPOutsideSubnet",
                    f"{field}: {entry} is IPv{int(family)} but subnet {subnet.name!r} "
                    f"is {subnet.cidr_block}",
                )
            )
            continue
        pool = subnet.pool(family)
        wanted = IntervalSet([(first, last)])
        cidr = IntervalSet([(int(pool.network.first), int(pool.network.last))])
        inside = wanted.intersection(cidr)
        if inside.size != wanted.size:
            problems.append(
                PoolProblem(
                    "IPOutsideSubnet",
                    f"{field}: {_part(entry, family, _difference(wanted, inside), wanted)} "
                    f"outside subnet {subnet.name!r} ({pool.network})",
                )
            )
        excluded = wanted.intersection(pool.excluded())
        if excluded:
            problems.append(
                PoolProblem(
                    "IPInExcludeIps",
                    f"{field}: {_part(entry, family, excluded, wanted)} inside the excludeIps "
                    f"of subnet {subnet.name!r}",
                )
            )
    return problems


def check_overlaps(
    ips: Sequence[str], rivals: Iterable[tuple[str, Mapping[Family, IntervalSet]]]
) -> list[PoolProblem]:
    """Entries of ``spec.ips`` sharing addresses with a rival pool, one problem per entry.

    ``rivals`` are ``(name, ranges)`` of the other pools of the same subnet the
    caller holds against this one: the reconciler passes the older pools (the
    older one keeps serving), the admission review every other pool (a new
    pool, or an edit, may not take addresses another pool already has).
    """
    entries: list[tuple[int, str, Family, int, int]] = []
    for index, entry in enumerate(ips):
        try:
            entries.append((index, entry, *_parse_entry(entry)))
        except PoolEntryError:
            continue  # check_pool reports it
    whole: dict[Family, list[tuple[int, int]]] = {}
    for _, _, family, first, last in entries:
        whole.setdefault(family, []).append((first, last))
    mine = {f: IntervalSet.from_sorted(sorted(r)) for f, r in whole.items()}
    # Only rivals sharing something with the whole pool are looked at entry by entry:
    # a pool of thousands of entries against many disjoint rivals stays one pass each.
    sharing = [(name, ranges) for name, ranges in rivals if overlap(mine, ranges)]
    problems: list[PoolProblem] = []
    if not sharing:
        return problems
    for index, entry, family, first, last in entries:
        wanted = {family: IntervalSet([(first, last)])}
        for name, ranges in sharing:
            shared = overlap(wanted, ranges)
            if shared:
                problems.append(
                    PoolProblem(
                        "OverlappingPools",
                        f"spec.ips[{index}]: {_shared(entry, shared)} also in IPPool {name!r}",
                    )
                )
                break
    return problems


def _part(entry: str, family: Family, part: IntervalSet, whole: IntervalSet) -> str:
    """``10.16.0.5 is`` when the whole entry is at fault, else ``a..b has <ranges>``."""
    if part.size == whole.size:
        return f"{entry} is"
    return f"{entry} has {format_ranges(family, list(part))}"


def _shared(entry: str, shared: str) -> str:
    return f"{entry} is" if _same(entry, shared) else f"{entry} has {shared}"


def _same(entry: str, ranges: str) -> bool:
    """Whether the range string covers exactly the entry (a single IP formats as itself)."""
    try:
        family, first, last = _parse_entry(entry)
    except PoolEntryError:
        return False
    return ranges == format_ranges(family, [(first, last)])


def overlap(a: Mapping[Family, IntervalSet], b: Mapping[Family, IntervalSet]) -> str:
    """The addresses two pools share, as a range string ("" when they share none)."""
    parts: list[str] = []
    for family in sorted(set(a) & set(b)):
        common = a[family].intersection(b[family])
        if common:
            parts.append(format_ranges(family, list(common)))
    return ",".join(parts)


def without(
    a: Mapping[Family, IntervalSet], b: Mapping[Family, IntervalSet]
) -> dict[Family, IntervalSet]:
    """The addresses of ``a`` that are not in ``b``, per family."""
    return {f: _difference(r, b[f]) if f in b else r.copy() for f, r in a.items()}


def pool_usage(
    ranges: Mapping[Family, IntervalSet], subnet: SubnetPool
) -> dict[Family, PoolUsageCounts]:
    """Available (free in the subnet and in the pool) and using (held inside the pool).

    Available is an interval intersection; using walks the subnet's held
    addresses once (it holds one entry per allocation anyway).
    """
    usage: dict[Family, PoolUsageCounts] = {}
    for family, wanted in ranges.items():
        if family not in subnet.families:
            usage[family] = PoolUsageCounts(0, 0, "", "")
            continue
        pool = subnet.pool(family)
        free = pool.free.intersection(wanted)
        held = sorted(a for a in pool.held if a in wanted)
        using = IntervalSet.from_sorted((a, a) for a in held)
        usage[family] = PoolUsageCounts(
            available=free.size,
            using=len(held),
            available_range=format_ranges(family, list(free)),
            using_range=format_ranges(family, list(using)),
        )
    return usage


def _difference(whole: IntervalSet, part: IntervalSet) -> IntervalSet:
    rest = whole.copy()
    for start, end in part:
        rest.discard(start, end)
    return rest


def limit_of(name: str, entries: Sequence[tuple[str, ...]]) -> AddressLimit:
    """An ``ip_pool`` list of single addresses as a limit (pairs need :func:`parse_ip_list`)."""
    by_family: dict[Family, list[tuple[int, int]]] = {}
    for entry in entries:
        for ip in entry:
            family, value = parse_ip(ip)
            by_family.setdefault(family, []).append((value, value))
    return AddressLimit(name, {f: IntervalSet.from_sorted(sorted(v)) for f, v in by_family.items()})
