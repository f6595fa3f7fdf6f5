"""The listing tracker: Subnets are 'listed' once Kopf's listing ended and each was handled."""

from __future__ import annotations

from ovnctl.caches.index import MultiIndex
from ovnctl.k8s.informers import IndexFeed
from ovnctl.k8s.kopf_subnets import ListingTracker


def _feed() -> tuple[IndexFeed, MultiIndex[str, str], list[tuple[str, str]]]:
    index: MultiIndex[str, str] = MultiIndex()
    changes: list[tuple[str, str]] = []
    feed = IndexFeed(
        indexers=[(index, lambda body: {body["metadata"]["name"]: "x"})],
        on_change=lambda kind, key, extra: changes.append((kind, key[1])),
    )
    return feed, index, changes


def _subnet(name: str) -> dict[str, object]:
    return {"metadata": {"name": name}}


def test_listed_only_once_every_listed_subnet_was_handled() -> None:
    """The end of the listing alone is not enough: each listed object's handler must run."""
    feed, _, _ = _feed()
    tracker = ListingTracker(feed=feed)
    tracker.listed_object("a")
    tracker.listed_object("b")
    tracker.handled("a")  # a worker may run before the listing has ended
    tracker.listing_done()
    assert not feed.listed.is_set()
    tracker.handled("b")
    assert feed.listed.is_set()


def test_an_empty_listing_is_listed_at_once() -> None:
    """No Subnets at all: listed as soon as Kopf's listing ends."""
    feed, _, _ = _feed()
    tracker = ListingTracker(feed=feed)
    tracker.listing_done()
    assert feed.listed.is_set()


def test_a_relist_reports_subnets_deleted_during_the_gap() -> None:
    """After 410 Gone, Kopf re-lists: what the new listing lacks is reported deleted."""
    feed, index, changes = _feed()
    tracker = ListingTracker(feed=feed)
    for name in ("a", "b"):
        tracker.listed_object(name)
        feed.apply_event("ADDED", feed.reduce(_subnet(name)))
        tracker.handled(name)
    tracker.listing_done()
    changes.clear()
    tracker.listed_object("a")
    tracker.listing_done()
    assert changes == [("DELETED", "b")]
    assert "b" not in index
    assert tracker.listings == 2
