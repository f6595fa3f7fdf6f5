"""Informer snapshots and events: the cache follows the server, changes are reported once."""

from __future__ import annotations

import kubernetes.client

from ovnctl.caches.index import MultiIndex
from ovnctl.k8s.informers import Informer
from ovnctl.k8s.resources import PODS


def _pod(name: str, label: str = "a") -> dict[str, object]:
    return {"metadata": {"namespace": "ns", "name": name, "labels": {"l": label}}}


def _informer() -> tuple[Informer, MultiIndex[str, str], list[tuple[str, tuple[str, str]]]]:
    index: MultiIndex[str, str] = MultiIndex()
    changes: list[tuple[str, tuple[str, str]]] = []
    informer = Informer(
        configuration=kubernetes.client.Configuration(),
        resource=PODS,
        indexers=[
            (index, lambda body: {body["metadata"]["name"]: body["metadata"]["labels"]["l"]})
        ],
        on_change=lambda kind, key, extra: changes.append((kind, key)),
    )
    return informer, index, changes


def test_snapshot_reports_deletions_the_watch_missed() -> None:
    """A re-list without an object reports it deleted and drops it from the indexes."""
    informer, index, changes = _informer()
    informer.apply_snapshot([informer.reduce(_pod("p1")), informer.reduce(_pod("p2"))])
    assert informer.listed.is_set()
    changes.clear()
    informer.apply_snapshot([informer.reduce(_pod("p2"))])
    assert changes == [("DELETED", ("ns", "p1"))]
    assert "p1" not in index


def test_relist_reports_only_what_changed() -> None:
    """Unchanged objects in a re-list are not reported again; changed ones are."""
    informer, index, changes = _informer()
    informer.apply_snapshot([informer.reduce(_pod("p1")), informer.reduce(_pod("p2"))])
    changes.clear()
    informer.apply_snapshot([informer.reduce(_pod("p1")), informer.reduce(_pod("p2", "b"))])
    assert changes == [("MODIFIED", ("ns", "p2"))]
    assert list(index["p2"]) == ["b"]


def test_events_update_and_delete() -> None:
    """Watch events change the indexes and are each reported once."""
    informer, index, changes = _informer()
    informer.apply_snapshot([])
    informer.apply_event("ADDED", informer.reduce(_pod("p1")))
    informer.apply_event("DELETED", informer.reduce(_pod("p1")))
    assert changes == [("ADDED", ("ns", "p1")), ("DELETED", ("ns", "p1"))]
    assert len(index) == 0
    assert len(informer) == 0


def test_update_that_changes_nothing_kept_is_not_reported() -> None:
    """A MODIFIED event whose index entries are unchanged (a kubelet status update) is dropped."""
    informer, index, changes = _informer()
    informer.apply_snapshot([informer.reduce(_pod("p1"))])
    changes.clear()
    informer.apply_event("MODIFIED", informer.reduce(_pod("p1")))
    assert changes == []
    informer.apply_event("MODIFIED", informer.reduce(_pod("p1", "b")))
    assert changes == [("MODIFIED", ("ns", "p1"))]
    assert list(index["p1"]) == ["b"]
