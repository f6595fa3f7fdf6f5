"""A set of integers stored as sorted, disjoint, non-adjacent inclusive intervals.

Every pool keeps its free addresses (and its excluded addresses) in one of
these, so memory and time follow the number of ranges, never the number of
addresses: a fresh IPv6 /64 is one interval, and handing out the lowest free
address is "take the first interval's start". Kube-OVN's IPAM uses the same
structure (sorted range lists with binary search); this one works on plain ints
and keeps starts and ends in two parallel lists so :mod:`bisect` runs on them
directly without key functions or tuple comparisons.

Invariant: ``_starts[i] <= _ends[i] < _starts[i + 1] - 1`` (sorted, disjoint and
never adjacent, so every maximal run is exactly one interval).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator

__all__ = ["IntervalSet"]


class IntervalSet:
    """A mutable set of ints as sorted inclusive intervals."""

    __slots__ = ("_ends", "_size", "_starts")

    def __init__(self, intervals: Iterable[tuple[int, int]] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._size = 0
        for start, end in intervals:
            self.add(start, end)

    @classmethod
    def from_sorted(cls, intervals: Iterable[tuple[int, int]]) -> IntervalSet:
        """Build from intervals already sorted by start; overlaps and adjacency are merged."""
        result = cls()
        starts, ends = result._starts, result._ends
        size = 0
        for start, end in intervals:
            if start > end:
                continue
            if ends and start <= ends[-1] + 1:
                if end > ends[-1]:
                    size += end - ends[-1]
                    ends[-1] = end
            else:
                starts.append(start)
                ends.append(end)
                size += end - start + 1
        result._size = size
        return result

    # -- queries --------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Number of integers in the set."""
        return self._size

    @property
    def interval_count(self) -> int:
        """Number of maximal intervals."""
        return len(self._starts)

    def __bool__(self) -> bool:
        return bool(self._starts)

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int):
            return False
        i = bisect_right(self._starts, value) - 1
        return i >= 0 and value <= self._ends[i]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """Iterate over the intervals as ``(start, end)``, lowest first."""
        return zip(self._starts, self._ends, strict=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IntervalSet):
            return NotImplemented
        return self._starts == other._starts and self._ends == other._ends

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"IntervalSet({list(self)!r})"

    def lowest(self) -> int | None:
        """The smallest member, or None when empty."""
        return self._starts[0] if self._starts else None

    def count_in(self, start: int, end: int) -> int:
        """How many members lie in ``[start, end]``."""
        starts, ends = self._starts, self._ends
        i = bisect_left(ends, start)
        j = bisect_right(starts, end)
        total = 0
        for k in range(i, j):
            total += min(end, ends[k]) - max(start, starts[k]) + 1
        return total

    def lowest_in(self, other: IntervalSet) -> int | None:
        """The smallest member that ``other`` also holds, or None.

        Walks ``other``'s intervals with one bisection each: an IP pool of a /16
        held as one interval costs one step, never one per address.
        """
        starts, ends = self._starts, self._ends
        for start, end in other:
            i = bisect_left(ends, start)
            if i < len(starts) and starts[i] <= end:
                return max(start, starts[i])
        return None

    def intersection(self, other: IntervalSet) -> IntervalSet:
        """The members both sets hold, in one merge of the two interval lists."""
        out: list[tuple[int, int]] = []
        a, b = list(self), list(other)
        i = j = 0
        while i < len(a) and j < len(b):
            start = max(a[i][0], b[j][0])
            end = min(a[i][1], b[j][1])
            if start <= end:
                out.append((start, end))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet.from_sorted(out)

    def copy(self) -> IntervalSet:
        """An independent copy."""
        result = IntervalSet()
        result._starts = self._starts.copy()
        result._ends = self._ends.copy()
        result._size = self._size
        return result

    # -- mutation ---------------------------------------------------------------------

    def pop_lowest(self) -> int:
        """Remove and return the smallest member; :class:`KeyError` when empty."""
        starts = self._starts
        if not starts:
            raise KeyError("pop from an empty IntervalSet")
        value = starts[0]
        if value == self._ends[0]:
            # Removing from the head of a list is a memmove; pools keep few
            # intervals in practice (holes left by releases), so this stays cheap.
            del starts[0]
            del self._ends[0]
        else:
            starts[0] = value + 1
        self._size -= 1
        return value

    def add(self, start: int, end: int) -> int:
        """Add ``[start, end]``; return how many integers were newly added."""
        if start > end:
            return 0
        starts, ends = self._starts, self._ends
        # Intervals that overlap or touch [start, end] are exactly [i, j).
        i = bisect_left(ends, start - 1)
        j = bisect_right(starts, end + 1)
        if i == j:
            starts.insert(i, start)
            ends.insert(i, end)
            added = end - start + 1
        elif j - i == 1:
            # Touches one interval (a released address next to free space):
            # widen it in place, no slice surgery.
            old_start, old_end = starts[i], ends[i]
            new_start = start if start < old_start else old_start
            new_end = end if end > old_end else old_end
            starts[i] = new_start
            ends[i] = new_end
            added = (new_end - new_start) - (old_end - old_start)
        else:
            new_start = min(start, starts[i])
            new_end = max(end, ends[j - 1])
            before = 0
            for k in range(i, j):
                before += ends[k] - starts[k] + 1
            starts[i:j] = [new_start]
            ends[i:j] = [new_end]
            added = (new_end - new_start + 1) - before
        self._size += added
        return added

    def add_one(self, value: int) -> bool:
        """Add one integer; return whether it was new. :meth:`add` for a single value.

        The release hot path: one bisection instead of two, and the common
        case (a released address next to free space) widens an interval in place.
        """
        starts, ends = self._starts, self._ends
        # The first interval ending at or after value - 1: the only one that can
        # contain value or touch it from below or above.
        i = bisect_left(ends, value - 1)
        if i < len(ends) and starts[i] <= value + 1:
            if value < starts[i]:
                # value == starts[i] - 1; interval i - 1 ends before value - 1.
                starts[i] = value
            elif value > ends[i]:
                # value == ends[i] + 1: widen, and join interval i + 1 if it starts next.
                if i + 1 < len(starts) and starts[i + 1] == value + 1:
                    ends[i] = ends[i + 1]
                    del starts[i + 1]
                    del ends[i + 1]
                else:
                    ends[i] = value
            else:
                return False
        else:
            starts.insert(i, value)
            ends.insert(i, value)
        self._size += 1
        return True

    def discard(self, start: int, end: int) -> int:
        """Remove ``[start, end]``; return how many integers were removed."""
        if start > end:
            return 0
        starts, ends = self._starts, self._ends
        # Intervals that overlap [start, end] are exactly [i, j).
        i = bisect_left(ends, start)
        j = bisect_right(starts, end)
        if i >= j:
            return 0
        new_starts: list[int] = []
        new_ends: list[int] = []
        removed = 0
        for k in range(i, j):
            removed += min(end, ends[k]) - max(start, starts[k]) + 1
        if starts[i] < start:
            new_starts.append(starts[i])
            new_ends.append(start - 1)
        if ends[j - 1] > end:
            new_starts.append(end + 1)
            new_ends.append(ends[j - 1])
        starts[i:j] = new_starts
        ends[i:j] = new_ends
        self._size -= removed
        return removed
