"""Kube-OVN 1.13's per-pod NAD reads, re-created for benchmark scenario 1.

The walk must read exactly what Kube-OVN's subnet reconcile read, or the
benchmark's walk-live/walk-cache ratio measures something else: one NAD per
attachment of every alive, scheduled, non-host-network pod.
"""

from __future__ import annotations

from typing import Any

from ovnctl.bench.kube_ovn_walk import KubeOvnSubnetWalk
from ovnctl.caches import PodCache
from ovnctl.caches.pods import index_pod_by_key
from ovnctl.models import NadConfig, parse_nad
from tests.controller.objects import kube_ovn_nad, pod


def cache_of(*bodies: dict[str, Any]) -> PodCache:
    by_key: dict[Any, list[Any]] = {}
    for body in bodies:
        for key, record in index_pod_by_key(body).items():
            by_key.setdefault(key, []).append(record)
    return PodCache(by_key=by_key, by_vm={})


class Recorder:
    """A NAD lookup that knows ``existing`` NADs and records every read."""

    def __init__(self, *existing: str) -> None:
        self.existing = set(existing)
        self.reads: list[tuple[str, str]] = []

    async def __call__(self, namespace: str, name: str) -> NadConfig | None:
        self.reads.append((namespace, name))
        if name not in self.existing:
            return None
        return parse_nad(body=kube_ovn_nad(name, namespace))


def with_spec(body: dict[str, Any], **spec: Any) -> dict[str, Any]:
    body["spec"].update(spec)
    return body


async def test_walk_reads_each_attachment_of_alive_scheduled_pods() -> None:
    """Every attachment of a running pod is read; others' are not."""
    finished = pod("done", networks=["a"])
    finished["status"] = {"phase": "Succeeded"}
    deleting = pod("going", networks=["a"])
    deleting["metadata"]["deletionTimestamp"] = "2026-11-23T00:00:00Z"
    pods = cache_of(
        pod("vm1", networks=["a", "other/b"]),
        pod("plain"),  # no attachments: nothing to read
        with_spec(pod("pending", networks=["a"]), nodeName=""),
        with_spec(pod("host", networks=["a"]), hostNetwork=True),
        finished,
        deleting,
    )
    lookup = Recorder("a", "b")
    walk = KubeOvnSubnetWalk(pods=pods, nad_lookup=lookup)
    await walk()
    assert lookup.reads == [("default", "a"), ("other", "b")]
    await walk()
    assert walk.reads == 4


async def test_walk_stops_a_pod_at_its_first_missing_nad_and_skips_bad_annotations() -> None:
    """As getPodAttachmentNet: the first NAD it cannot get ends that pod's reads."""
    pods = cache_of(
        pod("p1", networks=["gone", "a"]),
        pod("p2", networks="not a valid, [list"),
        pod("p3", networks=["a"]),
    )
    lookup = Recorder("a")
    await KubeOvnSubnetWalk(pods=pods, nad_lookup=lookup)()
    assert sorted(lookup.reads) == [("default", "a"), ("default", "gone")]
