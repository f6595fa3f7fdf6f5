"""A multi-valued index fed object by object: what the informers keep the caches in.

Each watched object contributes ``{key: value}`` entries (what an index
function returns for it); replacing an object swaps its entries, discarding
it removes them. Read side, the index is a ``Mapping[key, Collection[value]]``,
the shape the cache views read. Pure data: no I/O, no Kubernetes.

Memory: at 50,000 pods the pod indexes are most of the controller's heap, and
nearly every key has one contributor (a pod's own name). Such a key holds a
``(object, value)`` pair (56 bytes) rather than a one-entry dict (224 bytes);
it becomes a dict only while several objects contribute to it. A key or a
value equal to the contributing object's own key (the pod indexes key by, or
point to, the pod's ``(namespace, name)``) is stored as that one object.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable, Iterator, Mapping
from typing import Generic, TypeVar, cast

__all__ = ["MultiIndex"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
ObjectKey = Hashable


class MultiIndex(Mapping[K, Collection[V]], Generic[K, V]):
    """``key -> values``, maintained per contributing object."""

    def __init__(self) -> None:
        # One contributor: the pair (object, value); several: {object: value}, in arrival order.
        self._values: dict[K, tuple[ObjectKey, V] | dict[ObjectKey, V]] = {}
        # The keys an object contributes to: the key itself when one (nearly all), else a
        # list (unhashable, so never mistaken for a key).
        self._keys_of: dict[ObjectKey, K | list[K]] = {}

    def replace(self, obj: ObjectKey, entries: Mapping[K, V]) -> None:
        """``obj`` now contributes exactly ``entries`` (empty: nothing)."""
        self.replace_items(obj, entries.items())

    def replace_items(self, obj: ObjectKey, entries: Iterable[tuple[K, V]]) -> None:
        """:meth:`replace` with the entries as ``(key, value)`` pairs, keys distinct."""
        self.discard(obj)
        keys: list[K] = []
        for key, value in entries:
            if key == obj:
                key = obj  # equal: keep one tuple, not two
            if value == obj:
                value = obj
            held = self._values.get(key)
            if held is None:
                self._values[key] = (obj, value)
            elif type(held) is tuple:
                self._values[key] = {held[0]: held[1], obj: value}
            else:
                cast(dict[ObjectKey, V], held)[obj] = value
            keys.append(key)
        if len(keys) == 1:
            self._keys_of[obj] = keys[0]
        elif keys:
            self._keys_of[obj] = keys

    def discard(self, obj: ObjectKey) -> None:
        """Remove everything ``obj`` contributed; unknown objects are a no-op."""
        if obj not in self._keys_of:
            return
        contributed = self._keys_of.pop(obj)
        keys = contributed if type(contributed) is list else [cast(K, contributed)]
        for key in keys:
            held = self._values.get(key)
            if held is None:
                continue
            if type(held) is tuple:
                if held[0] == obj:
                    del self._values[key]
                continue
            values = cast(dict[ObjectKey, V], held)
            values.pop(obj, None)
            if len(values) == 1:
                self._values[key] = next(iter(values.items()))
            elif not values:
                del self._values[key]

    def __getitem__(self, key: K) -> Collection[V]:
        held = self._values[key]
        if type(held) is tuple:
            return (held[1],)
        return cast(dict[ObjectKey, V], held).values()

    def __iter__(self) -> Iterator[K]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return key in self._values
