"""The multi-index the informers fill: entries follow their object exactly."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ovnctl.caches.index import MultiIndex


def test_replace_swaps_an_objects_entries() -> None:
    """Replacing an object removes its old keys and adds the new ones."""
    index: MultiIndex[str, str] = MultiIndex()
    index.replace(("ns", "a"), {"p1": "a", "p2": "a"})
    index.replace(("ns", "b"), {"p1": "b"})
    assert sorted(index["p1"]) == ["a", "b"]
    index.replace(("ns", "a"), {"p3": "a2"})
    assert list(index["p1"]) == ["b"]
    assert "p2" not in index
    assert list(index["p3"]) == ["a2"]


def test_discard_removes_empty_keys_and_ignores_unknown_objects() -> None:
    """Discarding the last contributor removes the key; unknown objects are a no-op."""
    index: MultiIndex[str, int] = MultiIndex()
    index.replace("x", {"k": 1})
    index.discard("x")
    index.discard("never-seen")
    assert len(index) == 0
    assert "k" not in index


def test_empty_entries_contribute_nothing() -> None:
    """An object whose index function returns nothing is simply absent."""
    index: MultiIndex[str, int] = MultiIndex()
    index.replace("x", {})
    assert dict(index) == {}


def test_values_keep_arrival_order_as_contributors_come_and_go() -> None:
    """One, two, then one contributor again: the newest value is always last."""
    index: MultiIndex[str, str] = MultiIndex()
    index.replace("old", {"k": "old"})
    assert list(index["k"]) == ["old"]
    index.replace("new", {"k": "new"})
    assert list(index["k"]) == ["old", "new"]
    index.replace("old", {"k": "old again"})
    assert list(index["k"]) == ["new", "old again"]
    index.discard("new")
    assert list(index["k"]) == ["old again"]
    index.discard("old")
    assert "k" not in index


def test_a_key_or_value_equal_to_the_object_is_stored_as_the_object() -> None:
    """Pod indexes key by (or point to) the pod's own key: one tuple is kept, not copies."""
    index: MultiIndex[tuple[str, str], tuple[str, str]] = MultiIndex()
    obj = ("ns", "pod")
    index.replace(obj, {("ns", "pod"): ("ns", "pod")})
    (stored_key,) = index
    (stored_value,) = index[obj]
    assert stored_key is obj
    assert stored_value is obj


def test_replace_items_takes_pairs() -> None:
    """The informers' form: (key, value) pairs, several keys for one object."""
    index: MultiIndex[str, int] = MultiIndex()
    index.replace_items("x", (("a", 1), ("b", 2)))
    assert {k: list(v) for k, v in index.items()} == {"a": [1], "b": [2]}
    index.replace_items("x", ())
    assert len(index) == 0


_OBJECTS = [("ns", f"p{i}") for i in range(4)]
_KEYS: list[Any] = [*_OBJECTS, "a", "b", 7]
_VALUES: list[Any] = [*_OBJECTS, "v1", "v2"]
# One step: (object, None) discards it; (object, entries) replaces its entries.
_STEPS = st.lists(
    st.tuples(
        st.sampled_from(_OBJECTS),
        st.none() | st.dictionaries(st.sampled_from(_KEYS), st.sampled_from(_VALUES), max_size=3),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(steps=_STEPS)
def test_any_sequence_of_replaces_and_discards_reads_as_a_plain_model(
    steps: list[tuple[tuple[str, str], dict[Any, Any] | None]],
) -> None:
    """Whatever the order of replaces and discards, the compact index reads exactly as a
    dict of per-key contributors in store order would: no key left behind, newest last."""
    index: MultiIndex[Any, Any] = MultiIndex()
    model: dict[tuple[str, str], dict[Any, Any]] = {}
    for obj, entries in steps:
        model.pop(obj, None)  # re-stored objects go last, as the index keeps them
        if entries is None:
            index.discard(obj)
        else:
            index.replace(obj, entries)
            if entries:
                model[obj] = entries
        expected: dict[Any, list[Any]] = {}
        for contributed in model.values():
            for key, value in contributed.items():
                expected.setdefault(key, []).append(value)
        assert {key: list(index[key]) for key in index} == expected
        assert len(index) == len(expected)
