"""The multi-index the informers fill: entries follow their object exactly."""

from __future__ import annotations

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
