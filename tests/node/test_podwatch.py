"""The node pod watch: only this node's pods, only allocation keys, resume and re-list."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ovnctl.k8s.connection import load_configuration
from ovnctl.k8s.nodepods import NodePod, NodePodWatcher
from ovnctl.node.allocations import PodAllocations, keep_annotation
from ovnctl.queue import ExponentialBackoff
from ovnctl.sim import ThreadedSimServer

PODS = "/api/v1/namespaces/default/pods"


class Recorder:
    """Collects what the watcher reports, with a helper to wait for a condition."""

    def __init__(self) -> None:
        self.snapshots: list[list[NodePod]] = []
        self.events: list[tuple[str, NodePod]] = []
        self.lock = threading.RLock()

    def on_snapshot(self, pods: list[NodePod]) -> None:
        with self.lock:
            self.snapshots.append(pods)

    def on_event(self, kind: str, pod: NodePod) -> None:
        with self.lock:
            self.events.append((kind, pod))

    def wait(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate():
                    return
            time.sleep(0.01)
        raise AssertionError("condition not reached")

    def names(self, kind: str | None = None) -> list[str]:
        with self.lock:
            return [p.name for k, p in self.events if kind is None or k == kind]


def _pod(sim: ThreadedSimServer, name: str, node: str, annotations: dict[str, str]) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "pause"}]},
    }
    sim.call(lambda server: server.store.create(_pods_info(server), "default", body))


def _pods_info(server: Any) -> Any:
    return server.store.registry.get("", "v1", "pods")


def _delete(sim: ThreadedSimServer, name: str) -> None:
    sim.call(lambda server: server.store.delete(_pods_info(server), "default", name))


@pytest.fixture
def watched(sim: ThreadedSimServer) -> Iterator[tuple[NodePodWatcher, Recorder]]:
    recorder = Recorder()
    watcher = NodePodWatcher(
        configuration=load_configuration(kubeconfig=str(sim.kubeconfig_path)),
        node_name="node-a",
        on_snapshot=recorder.on_snapshot,
        on_event=recorder.on_event,
        keep_annotation=keep_annotation,
        min_watch_timeout_s=30,
        backoff=ExponentialBackoff(base=0.05, cap=0.05),
    )
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        recorder.wait(lambda: bool(recorder.snapshots))
        yield watcher, recorder
    finally:
        watcher.stop()
        thread.join(5)
    assert not thread.is_alive()


def test_only_this_nodes_pods_are_listed_and_watched(
    sim: ThreadedSimServer, watched: tuple[NodePodWatcher, Recorder]
) -> None:
    """Pods of other nodes never reach the agent: the API server filters by spec.nodeName."""
    _, recorder = watched
    _pod(sim, "mine", "node-a", {})
    _pod(sim, "theirs", "node-b", {})
    _pod(sim, "mine-too", "node-a", {})
    # One watch stream delivers in resourceVersion order: once "mine-too" is here,
    # "theirs" (created before it) would be too, had the selector let it through.
    recorder.wait(lambda: "mine-too" in recorder.names())
    assert recorder.names() == ["mine", "mine-too"]
    verbs = {(e.verb, e.resource) for e in sim.request_log.entries}
    assert ("get", "pods") not in verbs
    assert {("list", "pods"), ("watch", "pods")} <= verbs


def test_only_allocation_annotations_are_kept(
    sim: ThreadedSimServer, watched: tuple[NodePodWatcher, Recorder]
) -> None:
    """A pod's other annotations (large ones included) are dropped on arrival."""
    _, recorder = watched
    _pod(
        sim,
        "annotated",
        "node-a",
        {
            "ovn.kubernetes.io/allocated": "true",
            "attachnet.default.ovn.kubernetes.io/ip_address": "10.1.0.5",
            "kubectl.kubernetes.io/last-applied-configuration": "x" * 10_000,
            "k8s.v1.cni.cncf.io/networks": "attachnet",
        },
    )
    recorder.wait(lambda: bool(recorder.events))
    assert dict(recorder.events[0][1].annotations) == {
        "ovn.kubernetes.io/allocated": "true",
        "attachnet.default.ovn.kubernetes.io/ip_address": "10.1.0.5",
    }


def test_initial_list_is_one_snapshot(sim: ThreadedSimServer) -> None:
    """Pods that exist before the agent starts arrive as one snapshot, not as events."""
    _pod(sim, "early-1", "node-a", {})
    _pod(sim, "early-2", "node-a", {})
    _pod(sim, "early-other", "node-b", {})
    recorder = Recorder()
    watcher = NodePodWatcher(
        configuration=load_configuration(kubeconfig=str(sim.kubeconfig_path)),
        node_name="node-a",
        on_snapshot=recorder.on_snapshot,
        on_event=recorder.on_event,
        page_size=1,
    )
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        recorder.wait(lambda: bool(recorder.snapshots))
        assert sorted(p.name for p in recorder.snapshots[0]) == ["early-1", "early-2"]
        assert recorder.events == []
    finally:
        watcher.stop()
        thread.join(5)


def test_watch_resumes_after_the_stream_ends(
    sim: ThreadedSimServer, watched: tuple[NodePodWatcher, Recorder]
) -> None:
    """A cut stream is resumed from the last resourceVersion, without a new LIST."""
    watcher, recorder = watched
    _pod(sim, "before-cut", "node-a", {})
    recorder.wait(lambda: "before-cut" in recorder.names())
    sim.cut_watches()
    _pod(sim, "after-cut", "node-a", {})
    recorder.wait(lambda: "after-cut" in recorder.names())
    assert watcher.lists == 1
    assert recorder.names().count("before-cut") == 1


def test_gone_triggers_a_new_list(
    sim: ThreadedSimServer, watched: tuple[NodePodWatcher, Recorder]
) -> None:
    """410 Gone on the watch makes the watcher LIST again and report a fresh snapshot."""
    watcher, recorder = watched
    _pod(sim, "kept", "node-a", {})
    recorder.wait(lambda: "kept" in recorder.names())
    sim.fail_next_watches(1)
    sim.cut_watches()
    recorder.wait(lambda: watcher.lists == 2)
    assert [p.name for p in recorder.snapshots[-1]] == ["kept"]


def test_deletions_are_reported(
    sim: ThreadedSimServer, watched: tuple[NodePodWatcher, Recorder]
) -> None:
    """A deleted pod arrives as DELETED."""
    _, recorder = watched
    _pod(sim, "short-lived", "node-a", {})
    _delete(sim, "short-lived")
    recorder.wait(lambda: "short-lived" in recorder.names("DELETED"))


async def test_snapshot_drops_pods_deleted_while_away() -> None:
    """A re-LIST replaces the store whole: a pod missing from it is gone (no ghosts)."""
    store = PodAllocations()
    store.replace_all([("default", "ghost", {}), ("default", "alive", {})])
    store.replace_all([("default", "alive", {"ovn.kubernetes.io/allocated": "true"})])
    assert ("default", "ghost") not in store
    assert store.annotations(namespace="default", name="alive") == {
        "ovn.kubernetes.io/allocated": "true"
    }
