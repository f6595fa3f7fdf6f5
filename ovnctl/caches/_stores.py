"""Reading one record out of an index entry (a ``Collection`` of records)."""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

V = TypeVar("V")


def newest(store: Collection[V] | None) -> V | None:
    """The most recently stored record of an index entry, or None.

    An index key usually holds one record (one object per name). When several
    watched objects map to one key, :class:`~ovnctl.caches.index.MultiIndex`
    keeps them in the order they were last stored, so the last is the newest.
    """
    if not store:
        return None
    *_, last = store
    return last
