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
