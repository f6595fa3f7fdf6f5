"""LIST+WATCH of one node's pods, for the node agent (no cluster-wide pod cache on nodes).

Where it sits: ``ovnctl daemon`` runs one :class:`NodePodWatcher` on a thread.
It asks the API server only for pods with ``spec.nodeName=<node>`` (a
server-side field selector, so a node's traffic and memory follow its own
pods), reduces each pod to :class:`NodePod` (name, uid and the annotations the
caller keeps), and reports a full snapshot after every LIST and single
changes from the WATCH. The caller (:mod:`ovnctl.node.allocations`) owns the
store; this module only produces events, as kube-rs' watcher does.

The loop is the usual one: LIST in pages, WATCH from the list's
resourceVersion, resume from the last seen version (BOOKMARKs included) when a
stream ends, and LIST again on ``410 Gone``; the fresh snapshot replaces the
old one whole, so pods deleted while the watch was away disappear too. It uses
the official client's connection handling (auth, TLS, pooling) but reads raw
JSON lines: a node agent has no use for generated pod models.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import kubernetes.client
import urllib3

__all__ = ["NodePod", "NodePodWatcher"]

log = logging.getLogger(__name__)

_PODS = "/api/v1/pods"


@dataclass(frozen=True, slots=True)
class NodePod:
    """What the node agent keeps of a pod."""

    namespace: str
    name: str
    uid: str
    annotations: Mapping[str, str]


class _Gone(Exception):
    """The resourceVersion is too old (410): LIST again."""


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
        watch_timeout_s: int = 300,
        retry_delay_s: float = 1.0,
    ) -> None:
        self._client = kubernetes.client.ApiClient(configuration)
        self._selector = f"spec.nodeName={node_name}"
        self._on_snapshot = on_snapshot
        self._on_event = on_event
        self._keep = keep_annotation
        self._page_size = page_size
        self._watch_timeout_s = watch_timeout_s
        self._retry_delay_s = retry_delay_s
        self._stop = threading.Event()
        self._response: Any = None
        self.lists = 0
        """How many complete LISTs ran (1 at start, +1 per 410)."""

    # -- lifecycle -----------------------------------------------------------

    def run(self) -> None:
        """LIST, WATCH, resume, re-LIST; returns once :meth:`stop` is called."""
        version: str | None = None
        while not self._stop.is_set():
            try:
                if version is None:
                    version = self._list()
                version = self._watch(version)
            except _Gone:
                log.info("pod watch for %s: resourceVersion expired, listing again", self._selector)
                version = None
            except Exception as exc:
                if self._stop.is_set():
                    break
                log.warning("pod watch for %s failed: %s; retrying", self._selector, exc)
                self._stop.wait(self._retry_delay_s)
        self._client.close()

    def stop(self) -> None:
        """Stop now, interrupting an open watch stream."""
        self._stop.set()
        response = self._response
        if response is not None:
            # Already closed: nothing to interrupt.
            with contextlib.suppress(Exception):
                response.shutdown()

    # -- LIST ----------------------------------------------------------------

    def _list(self) -> str:
        pods: list[NodePod] = []
        token: str | None = None
        while True:
            query = {"fieldSelector": self._selector, "limit": str(self._page_size)}
            if token:
                query["continue"] = token
            page = json.loads(self._get(query, stream=False))
            pods.extend(self._reduce(item) for item in page.get("items") or [])
            metadata = page.get("metadata") or {}
            token = metadata.get("continue")
            if not token:
                self.lists += 1
                self._on_snapshot(pods)
                return str(metadata.get("resourceVersion") or "")

    # -- WATCH ---------------------------------------------------------------

    def _watch(self, version: str) -> str:
        query = {
            "fieldSelector": self._selector,
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(self._watch_timeout_s),
        }
        if version:
            query["resourceVersion"] = version
        response = self._get(query, stream=True)
        self._response = response
        try:
            buffer = b""
            for chunk in response.stream(amt=None, decode_content=False):
                if self._stop.is_set():
                    break
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        version = self._dispatch(json.loads(line), version)
        except (urllib3.exceptions.HTTPError, OSError):
            if not self._stop.is_set():
                raise
        finally:
            self._response = None
            response.release_conn()
        return version

    def _dispatch(self, event: dict[str, Any], version: str) -> str:
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            if obj.get("code") == 410:
                raise _Gone()
            raise RuntimeError(f"watch error: {obj.get('message') or obj}")
        new_version = str((obj.get("metadata") or {}).get("resourceVersion") or version)
        if kind in ("ADDED", "MODIFIED", "DELETED"):
            self._on_event(kind, self._reduce(obj))
        return new_version

    # -- plumbing ------------------------------------------------------------

    def _reduce(self, obj: Mapping[str, Any]) -> NodePod:
        metadata = obj.get("metadata") or {}
        annotations = metadata.get("annotations") or {}
        return NodePod(
            namespace=str(metadata.get("namespace", "")),
            name=str(metadata.get("name", "")),
            uid=str(metadata.get("uid", "")),
            annotations={k: str(v) for k, v in annotations.items() if self._keep(k)},
        )

    def _get(self, query: Mapping[str, str], *, stream: bool) -> Any:
        headers = {"Accept": "application/json"}
        _, url, headers, _, _ = self._client.param_serialize(
            method="GET",
            resource_path=_PODS,
            query_params=list(query.items()),
            header_params=headers,
            auth_settings=["BearerToken"],
        )
        # Long reads for watches (the server ends them at timeoutSeconds); short otherwise.
        read_timeout = self._watch_timeout_s + 30 if stream else 60
        try:
            wrapped = self._client.call_api(
                "GET", url, header_params=headers, _request_timeout=(10, read_timeout)
            )
        except kubernetes.client.ApiException as exc:
            raise RuntimeError(f"GET {_PODS}?{_describe(query)}: {exc.reason}") from None
        response = wrapped.response  # urllib3's response, not yet read
        status = int(response.status)
        if status >= 400:
            body = response.data
            response.release_conn()
            if status == 410:
                raise _Gone()
            raise RuntimeError(f"GET {_PODS}?{_describe(query)}: {status}: {body[:300]!r}")
        if not stream:
            data = response.data
            response.release_conn()
            return data
        return response


def _describe(query: Mapping[str, str]) -> str:
    return "&".join(f"{k}={quote(v)}" for k, v in query.items())
