"""Pods and the default subnet arrive on unordered watches: the pod's primary address must not
depend on which event the controller sees first (docs/allocation.md, "The primary network")."""

from __future__ import annotations

import asyncio
import copy
import threading
from typing import Any

from ovnctl.caches import (
    PodCache,
    SubnetCache,
    created_seconds,
    index_pod_by_key,
    index_pod_by_vm,
    index_pod_without_primary,
    index_subnet_by_name,
    index_subnet_by_namespace,
    index_subnet_by_provider,
    index_subnet_default,
)
from ovnctl.caches.index import MultiIndex
from ovnctl.controller import ControllerSettings
from ovnctl.controller.routing import KeyRouter
from ovnctl.k8s.resources import PODS, SUBNETS
from ovnctl.queue import RateLimitingQueue
from ovnctl.reconcilers.echoes import PatchEchoes
from ovnctl.reconcilers.subnet_states import SubnetConflicts, SubnetStates
from ovnctl.reconcilers.waiting import WaitList
from tests.controller import probes
from tests.controller.conftest import T0, ControllerThread
from tests.controller.objects import create_all, kube_ovn_nad, pod, subnet
from tests.controller.probes import key

A = "net-a.default.ovn"
B = "net-b.default.ovn"


def _at(body: dict[str, Any], created: str, **annotations: str) -> dict[str, Any]:
    """``body`` as the API server returns it: created at ``created``, with ``annotations``."""
    stamped = copy.deepcopy(body)
    stamped["metadata"].setdefault("namespace", "default")
    stamped["metadata"]["creationTimestamp"] = created
    stamped["metadata"].setdefault("generation", 1)
    stamped["metadata"].setdefault("uid", f"uid-{stamped['metadata']['name']}")
    if annotations:
        stamped["metadata"].setdefault("annotations", {}).update(annotations)
    return stamped


class _Routing:
    """A KeyRouter over real indexes, fed by hand in whatever order a test wants."""

    def __init__(self) -> None:
        self.pod_indexes: list[tuple[MultiIndex[Any, Any], Any]] = [
            (MultiIndex(), index_pod_by_key),
            (MultiIndex(), index_pod_by_vm),
            (MultiIndex(), index_pod_without_primary),
        ]
        self.subnet_indexes: list[tuple[MultiIndex[Any, Any], Any]] = [
            (MultiIndex(), index_subnet_by_name),
            (MultiIndex(), index_subnet_by_provider),
            (MultiIndex(), index_subnet_by_namespace),
            (MultiIndex(), index_subnet_default),
        ]
        by_key, by_vm, without = (index for index, _ in self.pod_indexes)
        name, provider, namespace, default = (index for index, _ in self.subnet_indexes)
        self.pod_queue: RateLimitingQueue[Any] = RateLimitingQueue(name="pods")
        subnets = SubnetCache(
            by_name=name, by_provider=provider, by_namespace=namespace, default=default
        )
        self.router = KeyRouter(
            subnets=subnets,
            pods=PodCache(by_key=by_key, by_vm=by_vm, without_primary=without),
            subnet_queue=RateLimitingQueue(name="subnets"),
            pod_queue=self.pod_queue,
            vm_queue=RateLimitingQueue(name="vms"),
            waits=WaitList(),
            subnet_states=SubnetStates(subnets=subnets),
            conflicts=SubnetConflicts(subnets=subnets),
            echoes=PatchEchoes(),
        )

    def pod(self, body: dict[str, Any]) -> None:
        meta = body["metadata"]
        for index, fn in self.pod_indexes:
            index.replace((meta["namespace"], meta["name"]), fn(body))
        self.router.pod_changed(meta["namespace"], meta["name"], vm=None)

    def subnet(self, body: dict[str, Any]) -> None:
        for index, fn in self.subnet_indexes:
            index.replace(("", body["metadata"]["name"]), fn(body))
        self.router.subnet_changed(body["metadata"]["name"])

    async def queued_pods(self) -> set[str]:
        """The pod names queued since the last call (the queue is emptied)."""
        names: set[str] = set()
        while len(self.pod_queue):
            item = await self.pod_queue.get()
            self.pod_queue.done(item)
            names.add(item[1])
        return names


async def test_a_new_default_subnet_requeues_pods_created_at_or_after_it() -> None:
    """Pods seen first, default subnet second: those created at or after it are queued again."""
    world = _Routing()
    world.pod(_at(pod("before"), "2026-01-01T09:59:59Z"))
    world.pod(_at(pod("same-second"), T0))
    world.pod(_at(pod("after"), "2026-01-01T10:00:01Z"))
    world.pod(_at(pod("has-one"), T0, **{key("ovn", "allocated"): "true"}))
    host = _at(pod("host"), T0)
    host["spec"]["hostNetwork"] = True
    world.pod(host)
    assert len(await world.queued_pods()) == 5  # each pod's own event
    world.subnet(_at(subnet("ovn-default", "10.16.0.0/16", default=True), T0))
    assert await world.queued_pods() == {"same-second", "after"}


async def test_only_a_default_new_to_the_controller_requeues_pods() -> None:
    """Status writes and spec edits of a known default requeue no pod; becoming default does."""
    world = _Routing()
    world.pod(_at(pod("p1"), T0))
    await world.queued_pods()
    body = _at(subnet("main", "10.16.0.0/16"), T0)
    world.subnet(body)
    assert await world.queued_pods() == set()
    body["spec"]["default"] = True
    body["metadata"]["generation"] = 2
    world.subnet(body)
    assert await world.queued_pods() == {"p1"}
    body["status"] = {"v4usingIPs": 1}  # a status write: same generation
    world.subnet(body)
    body["spec"]["excludeIps"] = ["10.16.0.9"]
    body["metadata"]["generation"] = 3
    world.subnet(body)
    assert await world.queued_pods() == set()


# -- through the embedded API server ---------------------------------------------------------


async def test_pod_reconciled_before_its_default_subnet_is_cached_gets_primary(
    sim, kube, frozen_clock
) -> None:
    """A pod reconciled before its same-second default subnet was cached gets its primary later."""
    # The race: the subnet's event is held back until the pod was reconciled without it.
    await create_all(kube, kube_ovn_nad("net-a"), subnet("sub-a", "172.17.0.0/24", provider=A))
    thread = ControllerThread(ControllerSettings(kubeconfig=str(sim.kubeconfig_path)))
    controller = thread.controller
    real_handle = controller.kopf.handle
    release = threading.Event()

    async def held_handle(event: Any) -> None:
        if (event.get("object") or {}).get("metadata", {}).get("name") == "ovn-default":
            await asyncio.to_thread(release.wait)
        await real_handle(event)

    controller.kopf.handle = held_handle  # type: ignore[method-assign]
    try:
        await thread.start()
        await probes.ready(kube, "sub-a")
        await create_all(kube, subnet("ovn-default", "10.16.0.0/16", default=True))
        await create_all(kube, pod("p1", networks="net-a"))
        # p1 was reconciled while the controller knew no default subnet: attachment only.
        got = await probes.allocated(kube, "p1", A)
        assert key("ovn", "allocated") not in got
        release.set()
        both = await probes.allocated(kube, "p1", "ovn", A)
        assert both[key("ovn", "logical_switch")] == "ovn-default"
    finally:
        release.set()
        await asyncio.to_thread(thread.stop)


async def test_pod_older_than_the_default_subnet_keeps_its_network(
    start_controller, kube, frozen_clock
) -> None:
    """A pod older than the default subnet gets no primary from it, even reconciled again."""
    # Reconciled again after the subnet is Ready because it asks for one more NIC.
    await create_all(
        kube,
        kube_ovn_nad("net-a"),
        kube_ovn_nad("net-b"),
        subnet("sub-a", "172.17.0.0/24", provider=A),
        subnet("sub-b", "172.18.0.0/24", provider=B),
    )
    await start_controller()
    await create_all(kube, pod("p1", networks="net-a"))
    await probes.allocated(kube, "p1", A)
    frozen_clock.append("2026-01-01T10:00:05Z")
    await create_all(kube, subnet("ovn-default", "10.16.0.0/16", default=True))
    await probes.ready(kube, "ovn-default")
    await kube.patch(
        PODS,
        name="p1",
        namespace="default",
        body={"metadata": {"annotations": {probes.NETWORKS: "net-a,net-b"}}},
    )
    # The pass that allocated net-b planned every NIC of p1: no primary among them.
    got = await probes.allocated(kube, "p1", A, B)
    assert key("ovn", "allocated") not in got
    assert await probes.ip_object(kube, "p1.default") is None
    # A pod created after the default subnet gets its primary address as usual.
    await create_all(kube, pod("p2"))
    await probes.allocated(kube, "p2", "ovn")


async def test_subnet_becoming_the_default_gives_newer_pods_their_primary(
    start_controller, kube, frozen_clock
) -> None:
    """Setting `default: true` on an existing subnet requeues the pods created since it was."""
    await create_all(kube, subnet("main", "10.16.0.0/16"))
    await start_controller()
    await probes.ready(kube, "main")
    frozen_clock.append("2026-01-01T10:00:05Z")
    await create_all(kube, pod("p1"))
    await kube.patch(SUBNETS, name="main", body={"spec": {"default": True}})
    got = await probes.allocated(kube, "p1", "ovn")
    assert got[key("ovn", "logical_switch")] == "main"


def test_creation_times_compare_as_instants() -> None:
    """RFC 3339 times with other offsets or fractions are compared as instants, not strings."""
    assert created_seconds("2026-01-01T10:00:00Z") == created_seconds("2026-01-01T11:00:00+01:00")
    assert created_seconds("2026-01-01T10:00:00.9Z") == created_seconds(T0)
    assert [created_seconds(v) for v in ("", None, "yesterday")] == [0, 0, 0]
