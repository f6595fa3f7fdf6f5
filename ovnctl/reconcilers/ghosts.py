"""Finding ghost pods: cached, but deleted on the server while the watch was away.

Kopf re-lists after a watch ``410 Gone`` without reporting the objects deleted
in the gap, so the pod index can keep pods that no longer exist, and their
addresses would leak. Minutes apart (never seconds: a full LIST of a large
kind is the load the API server must be spared), the pods are listed page by
page, keeping only ``(namespace, name, uid)``; a cached pod missing from the
listing is a suspect, and each suspect is confirmed with a targeted GET before
it is declared gone (it may simply have been created after the listing began).
"""

from __future__ import annotations

import contextlib

from ovnctl.caches.pods import PodCache, PodKey
from ovnctl.k8s.api import KubeApi, NotFound
from ovnctl.k8s.resources import PODS

__all__ = ["find_ghost_pods"]


async def find_ghost_pods(
    *, api: KubeApi, pods: PodCache, namespaces: tuple[str, ...] = (), page_size: int = 500
) -> list[tuple[PodKey, str]]:
    """``(key, uid)`` of every cached pod the API server confirms is gone."""
    listed: set[tuple[str, str, str]] = set()
    for namespace in namespaces or (None,):
        async for page in api.list_pages(PODS, namespace=namespace, limit=page_size):
            for item in page:
                meta = item.get("metadata") or {}
                listed.add((meta.get("namespace", ""), meta.get("name", ""), meta.get("uid", "")))
    ghosts: list[tuple[PodKey, str]] = []
    for record in pods.records():
        if (record.namespace, record.name, record.uid) in listed:
            continue
        current_uid = None
        with contextlib.suppress(NotFound):
            body = await api.get(PODS, name=record.name, namespace=record.namespace)
            current_uid = (body.get("metadata") or {}).get("uid")
        if current_uid != record.uid:
            ghosts.append((record.key, record.uid))
    return ghosts
