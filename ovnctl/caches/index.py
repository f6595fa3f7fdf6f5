"""A multi-valued index fed object by object: what the informers keep the caches in.

Each watched object contributes ``{key: value}`` entries (what an index
function returns for it); replacing an object swaps its entries, discarding
it removes them. Read side, the index is a ``Mapping[key, Collection[value]]``,
the shape the cache views read. Pure data: no I/O, no Kubernetes.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterator, Mapping
from typing import Generic, TypeVar

__all__ = ["MultiIndex"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
ObjectKey = Hashable


class MultiIndex(Mapping[K, Collection[V]], Generic[K, V]):
    """``key -> values``, maintained per contributing object."""

    def __init__(self) -> None:
        self._values: dict[K, dict[ObjectKey, V]] = {}
        self._keys_of: dict[ObjectKey, tuple[K, ...]] = {}

    def replace(self, obj: ObjectKey, entries: Mapping[K, V]) -> None:
        """``obj`` now contributes exactly ``entries`` (empty: nothing)."""
        self.discard(obj)
        if not entries:
            return
        for key, value in entries.items():
            self._values.setdefault(key, {})[obj] = value
        self._keys_of[obj] = tuple(entries)

    def discard(self, obj: ObjectKey) -> None:
        """Remove everything ``obj`` contributed; unknown objects are a no-op."""
        for key in self._keys_of.pop(obj, ()):
            values = self._values.get(key)
            if values is not None:
                values.pop(obj, None)
                if not values:
                    del self._values[key]

    def __getitem__(self, key: K) -> Collection[V]:
        return self._values[key].values()

    def __iter__(self) -> Iterator[K]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values
