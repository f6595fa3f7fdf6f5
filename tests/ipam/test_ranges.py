"""The interval set under the pools, checked against a plain set of ints."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from ovnctl.ipam.ranges import IntervalSet

ops = st.lists(
    st.tuples(
        st.sampled_from(["add", "add_one", "discard", "pop"]),
        st.integers(0, 60),
        st.integers(0, 8),
    ),
    max_size=60,
)


def _members(s: IntervalSet) -> set[int]:
    return {x for a, b in s for x in range(a, b + 1)}


@settings(max_examples=300, deadline=None)
@given(ops)
def test_interval_set_matches_set_model(operations):
    """Random add/add_one/discard/pop keeps the set equal to a model and intervals canonical."""
    s = IntervalSet()
    model: set[int] = set()
    for op, start, length in operations:
        end = start + length
        if op == "add":
            added = s.add(start, end)
            new = set(range(start, end + 1)) - model
            assert added == len(new)
            model |= new
        elif op == "add_one":
            assert s.add_one(start) == (start not in model)
            model.add(start)
        elif op == "discard":
            removed = s.discard(start, end)
            gone = set(range(start, end + 1)) & model
            assert removed == len(gone)
            model -= gone
        elif model:
            assert s.pop_lowest() == min(model)
            model.remove(min(model))
        assert _members(s) == model
        assert s.size == len(model)
        intervals = list(s)
        for (_, e1), (s2, _) in itertools.pairwise(intervals):
            assert s2 > e1 + 1, "intervals must be disjoint and non-adjacent"
        for x in (start - 1, start, end, end + 1):
            assert (x in s) == (x in model)
        assert s.count_in(start, end) == len(model & set(range(start, end + 1)))


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 5)), max_size=20))
def test_from_sorted_merges(pairs):
    """from_sorted merges overlapping and adjacent intervals like repeated add."""
    intervals = sorted((a, a + n) for a, n in pairs)
    assert IntervalSet.from_sorted(intervals) == IntervalSet(intervals)


def test_huge_interval_is_one_entry():
    """An IPv6 /64 worth of integers is one interval and pops without materialising."""
    s = IntervalSet([(2**64, 2**65 - 1)])
    assert s.size == 2**64
    assert s.interval_count == 1
    assert s.pop_lowest() == 2**64
    assert s.lowest() == 2**64 + 1


def test_pop_empty_raises_key_error():
    """Popping an empty set raises KeyError."""
    s = IntervalSet()
    try:
        s.pop_lowest()
    except KeyError:
        pass
    else:
        raise AssertionError("expected KeyError")
