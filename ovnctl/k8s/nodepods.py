"""LIST+WATCH of one node's pods, for the node agent (no cluster-wide pod cache on nodes).

Where it sits: ``ovnctl daemon`` runs one :class:`NodePodWatcher` on a thread.
It asks the API server only for pods with ``spec.nodeName=<node>`` (a
server-side field selector, so a node's traffic and memory follow its own
pods), reduces each pod to :class:`NodePod` (name, uid and the annotations the
caller keeps), and reports a full snapshot after every LIST and single
changes from the WATCH. The caller (:mod:`ovnctl.node.allocations`) owns the
store; this module only produces events, as kube-rs' watcher does.

The LIST/WATCH loop is :class:`~ovnctl.k8s.reflector.Reflector`'s (resume,
re-list on ``410 Gone``, snapshots that replace the old state whole, so pods
deleted while the watch was away disappear too, client-go's jittered backoff
and randomised watch timeouts, so a fleet of node agents does not reconnect in
step); this module chooses the selector and what is kept of each pod.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import kubernetes.client

from ovnctl.k8s.reflector import Reflector
from ovnctl.k8s.resources import PODS
from ovnctl.models import meta_annotations, meta_uid, object_meta
from ovnctl.queue import RateLimiter

__all__ = ["NodePod", "NodePodWatcher"]


@dataclass(frozen=True, slots=True)
class NodePod:
    """What the node agent keeps of a pod."""

    namespace: str
    name: str
    uid: str
    annotations: Mapping[str, str]


class NodePodWatcher:
    """Streams this node's pods to ``on_snapshot`` / ``on_event`` until :meth:`stop`.

    ``on_snapshot(pods)`` after each complete LIST; ``on_event(type, pod)`` for
    ``ADDED``, ``MODIFIED`` and ``DELETED``. Both are called on the watcher's
    thread.
    """

    def __init__(
        self,
        *,
        configuration: kubernetes.client.Configuration,
        node_name: str,
        on_snapshot: Callable[[list[NodePod]], None],
        on_event: Callable[[str, NodePod], None],
        keep_annotation: Callable[[str], bool] = lambda key: True,
        page_size: int = 500,
        min_watch_timeout_s: float = 300.0,
        backoff: RateLimiter[str] | None = None,
    ) -> None:
        self._keep = keep_annotation
        self._reflector: Reflector[NodePod] = Reflector(
            configuration=configuration,
            resource=PODS,
            reduce=self._reduce,
            on_snapshot=on_snapshot,
            on_event=on_event,
            field_selector=f"spec.nodeName={node_name}",
            page_size=page_size,
            min_watch_timeout_s=min_watch_timeout_s,
            backoff=backoff,
        )

    @property
    def lists(self) -> int:
        """How many complete LISTs ran (1 at start, +1 per 410)."""
        return self._reflector.lists

    def run(self) -> None:
        """LIST, WATCH, resume, re-LIST; returns once :meth:`stop` is called."""
        self._reflector.run()

    def stop(self) -> None:
        """Stop now, interrupting an open watch stream."""
        self._reflector.stop()

    def _reduce(self, obj: Mapping[str, Any]) -> NodePod:
        metadata = object_meta(obj)
        annotations = meta_annotations(metadata)
        return NodePod(
            namespace=str(metadata.get("namespace", "")),
            name=str(metadata.get("name", "")),
            uid=meta_uid(metadata),
            annotations={k: str(v) for k, v in annotations.items() if self._keep(k)},
        )
