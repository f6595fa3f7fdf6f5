"""The address pool of one CIDR of one family.

A :class:`~ovnctl.ipam.subnet.SubnetPool` composes one of these per family
(two for dual-stack), so nothing here is duplicated per family and nothing
here knows about owners beyond "which opaque key holds this int". The pool
answers the questions the subnet asks while it plans an allocation (is this
address inside, reserved, held?), and executes the plan (take, pop lowest,
release) only after the whole plan is known to succeed: the pool itself never
raises mid-way, which is what makes dual-stack allocation all-or-nothing.

State, all on ints:

- ``free``: an :class:`IntervalSet` of addresses that can be handed out now;
  allocation of the lowest free address is its first interval's start;
- ``held``: dict address -> owner, for every held address (also addresses a
  Subnet update left outside the CIDR: "strays", kept until released so the
  caller can act on the update report);
- configuration: network, gateway, excluded :class:`IntervalSet`.

Invariant: ``free = usable - gateway - excluded - held``, where usable is the
CIDR minus network and (v4) broadcast addresses.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable

import netaddr

from ovnctl.ipam.addresses import (
    DECIMAL_OCTETS,
    AddressRange,
    Family,
    family_of,
    first_usable,
    format_ranges,
    format_v4,
    format_v6,
    last_usable,
)
from ovnctl.ipam.ranges import IntervalSet
from ovnctl.ipam.results import ConflictReason, PoolUsage

__all__ = ["FamilyPool"]


class FamilyPool:
    """Free, held and reserved addresses of one CIDR."""

    __slots__ = (
        "_excluded",
        "_excludes_any",
        "_first",
        "_last",
        "_net_first",
        "_net_last",
        "_text_key",
        "_text_prefix",
        "_usage",
        "family",
        "format",
        "free",
        "gateway",
        "held",
        "network",
    )

    def __init__(
        self, network: netaddr.IPNetwork, gateway: int, excluded: Iterable[AddressRange] = ()
    ) -> None:
        self.held: dict[int, str] = {}
        self._usage: PoolUsage | None = None
        self._configure(network, gateway, excluded)
        self.free = self._compute_free()

    def _configure(
        self, network: netaddr.IPNetwork, gateway: int, excluded: Iterable[AddressRange]
    ) -> None:
        self.network = network
        self.family: Family = family_of(network)
        # The formatter of this family, bound once so hot paths skip the dispatch.
        self.format: Callable[[int], str] = (
            self._format_v4_cached if self.family is Family.V4 else self._format_v6_cached
        )
        self._text_key = -1
        self._text_prefix = ""
        self.gateway = gateway
        self._net_first = int(network.first)
        self._net_last = int(network.last)
        self._first = first_usable(network)
        self._last = last_usable(network)
        self._excluded = IntervalSet((r.first, r.last) for r in excluded if r.family is self.family)
        # Plain bool: IntervalSet truthiness is a Python-level call, and most
        # subnets exclude nothing.
        self._excludes_any = bool(self._excluded)

    def _format_v4_cached(self, value: int) -> str:
        # Sequential allocation formats neighbours that share their first three
        # octets: cache "a.b.c." of the last address formatted, so the common
        # case is one tuple index and one concatenation.
        key = value >> 8
        if key != self._text_key:
            self._text_prefix = format_v4(value).rpartition(".")[0] + "."
            self._text_key = key
        return self._text_prefix + DECIMAL_OCTETS[value & 255]

    def _format_v6_cached(self, value: int) -> str:
        # Neighbouring addresses share their upper 112 bits, and while the
        # last group is non-zero it cannot join a run of zero groups, so the
        # text is "compressed upper part" + last group. Caching the upper part
        # of the last address formatted makes sequential IPv6 allocation cost
        # one f-string instead of a full RFC 5952 compression.
        last_group = value & 0xFFFF
        if not last_group:
            return format_v6(value)
        key = value >> 16
        if key != self._text_key:
            self._text_prefix = format_v6((key << 16) | 1)[:-1]
            self._text_key = key
        return f"{self._text_prefix}{last_group:x}"

    # -- questions ----------------------------------------------------------------------

    def reason(self, address: int) -> ConflictReason | None:
        """Why ``address`` is never handed out automatically, or None if it may be."""
        if not self._net_first <= address <= self._net_last:
            return ConflictReason.OUTSIDE_CIDR
        if not self._first <= address <= self._last:
            return ConflictReason.RESERVED
        if address == self.gateway:
            return ConflictReason.GATEWAY
        if address in self._excluded:
            return ConflictReason.EXCLUDED
        return None

    def contains(self, address: int) -> bool:
        """Whether ``address`` lies inside the CIDR."""
        return self._net_first <= address <= self._net_last

    def excluded(self) -> IntervalSet:
        """A copy of the excluded set (clipped to the CIDR)."""
        return self._excluded.copy()

    # -- actions (never fail; the subnet checked first) ---------------------------------

    def pop_lowest(self, owner: str) -> int:
        """Hand the lowest free address to ``owner``; IndexError (changing nothing) if none."""
        # IntervalSet.pop_lowest, inlined (the allocation hot path; ranges.py
        # and this module are one unit): take the first interval's start.
        free = self.free
        starts = free._starts
        address = starts[0]  # IndexError when empty: nothing was changed yet
        if address == free._ends[0]:
            del starts[0]
            del free._ends[0]
        else:
            starts[0] = address + 1
        free._size -= 1
        self.held[address] = owner
        self._usage = None
        return address

    def pop_lowest_in(self, within: IntervalSet, owner: str) -> int | None:
        """Hand the lowest free address inside ``within`` to ``owner``; None if there is none."""
        address = self.free.lowest_in(within)
        if address is None:
            return None
        self.free.discard(address, address)
        self.held[address] = owner
        self._usage = None
        return address

    def take(self, address: int, owner: str) -> None:
        """Record ``address`` as held by ``owner`` (a static request or a rebuild)."""
        self.held[address] = owner
        self.free.discard(address, address)
        self._usage = None

    def release(self, address: int) -> None:
        """Forget the holder of ``address`` and return it to the free set if allocatable."""
        if self.held.pop(address, None) is None:
            return
        # Inlined `self.reason(address) is None`: this is the release hot path.
        if (
            self._first <= address <= self._last
            and address != self.gateway
            and (not self._excludes_any or address not in self._excluded)
        ):
            self.free.add_one(address)
        self._usage = None

    def reconfigure(
        self, network: netaddr.IPNetwork, gateway: int, excluded: Iterable[AddressRange]
    ) -> list[tuple[str, int, ConflictReason]]:
        """Apply a changed CIDR, gateway or excludeIps; keep every held address.

        Returns the held addresses whose standing got worse: ``(owner, address,
        reason)`` for each one that is now outside the CIDR, a network/broadcast
        address, the gateway, or excluded, and was not so before (an address
        statically taken inside excludeIps before the update is not reported
        again).
        """
        old_reasons = {address: self.reason(address) for address in self.held}
        self._configure(network, gateway, excluded)
        reports: list[tuple[str, int, ConflictReason]] = []
        for address, owner in self.held.items():
            new = self.reason(address)
            if new is not None and new is not old_reasons[address]:
                reports.append((owner, address, new))
        self.free = self._compute_free()
        self._usage = None
        return reports

    def rebuild_free(self) -> None:
        """Recompute ``free`` from scratch after bulk ``held`` changes (rebuild)."""
        self.free = self._compute_free()
        self._usage = None

    def _compute_free(self) -> IntervalSet:
        # One linear sweep over the sorted removals instead of one discard per
        # held address: this is what keeps a 10,000-record rebuild cheap.
        first, last = self._first, self._last
        removals = sorted(
            [(a, a) for a in self.held if first <= a <= last]
            + list(self._excluded)
            + [(self.gateway, self.gateway)]
        )
        gaps: list[tuple[int, int]] = []
        cursor = first
        for start, end in removals:
            if end < cursor:
                continue
            if start > cursor:
                gaps.append((cursor, min(start - 1, last)))
            cursor = max(cursor, end + 1)
            if cursor > last:
                break
        if cursor <= last:
            gaps.append((cursor, last))
        return IntervalSet.from_sorted(gaps)

    # -- status -----------------------------------------------------------------------

    def usage(self) -> PoolUsage:
        """Counts and range strings; cached until the next change."""
        if self._usage is None:
            # Subnet status and /metrics ask for this every 0.5 s while a burst allocates:
            # per address, only the C-level sort is paid (held is nearly sorted already,
            # in allocation order); the CIDR's slice is found by bisection and its runs
            # by galloping, so the rest costs per run, not per address.
            held = sorted(self.held)
            inside = held[bisect_left(held, self._net_first) : bisect_right(held, self._net_last)]
            using = _runs(inside)
            size = self._net_last - self._net_first + 1
            self._usage = PoolUsage(
                family=self.family,
                cidr=str(self.network),
                size=size,
                available=self.free.size,
                using=len(inside),
                reserved=size - self.free.size - len(inside),
                available_range=format_ranges(self.family, list(self.free)),
                using_range=format_ranges(self.family, using),
            )
        return self._usage


def _runs(values: list[int]) -> list[tuple[int, int]]:
    """The maximal runs of consecutive integers in sorted distinct ``values``, as
    ``(first, last)``: O(log length) steps per run (galloping, then bisection).

    ``values[j] - values[i] == j - i`` exactly when ``values[i..j]`` is one run (sorted
    distinct integers), and once false it stays false for every larger ``j``.
    """
    runs: list[tuple[int, int]] = []
    count = len(values)
    i = 0
    while i < count:
        start = values[i]
        end = i  # values[i..end] is known to be one run
        step = 1
        while end + step < count and values[end + step] - start == end + step - i:
            end += step
            step *= 2
        high = min(end + step, count) - 1  # the run ends in values[end..high]
        while end < high:
            middle = (end + high + 1) // 2
            if values[middle] - start == middle - i:
                end = middle
            else:
                high = middle - 1
        runs.append((start, values[end]))
        i = end + 1
    return runs
