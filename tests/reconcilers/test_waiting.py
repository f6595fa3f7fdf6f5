"""WaitList alone: keys wait on topics and are handed back once when one is woken."""

from __future__ import annotations

from ovnctl.reconcilers.waiting import (
    WaitList,
    nad_topic,
    nic_topic,
    provider_topic,
    subnet_topic,
)


def test_topic_names() -> None:
    """Topics are namespaced by kind, so a subnet and a NAD of one name never collide."""
    assert nad_topic("ns", "a") == "nad:ns/a"
    assert provider_topic("a.ns.ovn") == "provider:a.ns.ovn"
    assert subnet_topic("a") == "subnet:a"
    assert nic_topic("p.ns") == "nic:p.ns"


def test_wake_returns_the_waiters_once() -> None:
    """Waking a topic hands back its keys; a second wake finds nobody."""
    waits: WaitList[str] = WaitList()
    waits.wait("p1", ["t1"])
    waits.wait("p2", ["t1"])
    assert sorted(waits.wake("t1")) == ["p1", "p2"]
    assert waits.wake("t1") == []
    assert len(waits) == 0


def test_woken_key_stops_waiting_on_every_topic() -> None:
    """A key woken by one of its topics no longer waits on the others."""
    waits: WaitList[str] = WaitList()
    waits.wait("p1", ["t1", "t2"])
    assert waits.wake("t2") == ["p1"]
    assert "p1" not in waits
    assert waits.wake("t1") == []


def test_wait_replaces_the_previous_topics() -> None:
    """A key waits on one set of topics at a time: the latest problem's."""
    waits: WaitList[str] = WaitList()
    waits.wait("p1", ["old"])
    waits.wait("p1", ["new"])
    assert waits.wake("old") == []
    assert waits.wake("new") == ["p1"]


def test_no_topic_means_not_waiting() -> None:
    """A problem nothing can fix by itself (no topics) leaves the key out of the list."""
    waits: WaitList[str] = WaitList()
    waits.wait("p1", ["t1"])
    waits.wait("p1", [])
    assert "p1" not in waits
    assert waits.wake("t1") == []


def test_duplicate_topics_count_once() -> None:
    """A topic listed twice is one subscription."""
    waits: WaitList[str] = WaitList()
    waits.wait("p1", ["t1", "t1"])
    assert waits.wake("t1") == ["p1"]


def test_clear_forgets_the_key() -> None:
    """A cleared key (allocated, or its pod gone) is not woken by its old topics."""
    waits: WaitList[str] = WaitList()
    waits.wait("p1", ["t1"])
    waits.wait("p2", ["t1"])
    waits.clear("p1")
    waits.clear("never-waited")
    assert waits.wake("t1") == ["p2"]
