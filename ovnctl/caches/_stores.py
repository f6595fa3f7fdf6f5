"""Reading one object out of a Kopf index store."""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar

V = TypeVar("V")


def newest(store: Collection[V] | None) -> V | None:
    """The newest entry of a store, or None.

    Kopf keys index entries by uid as well as name, so after a re-list a
    deleted-and-recreated object can briefly have a stale twin under the same
    name. Stores keep arrival order; the last entry is the newest.
    """
    if not store:
        return None
    *_, last = store
    return last
