"""The watch's echo of the pod reconciler's own patch is not worked on again; anything else is."""

from __future__ import annotations

import copy
from typing import Any

from ovnctl.caches import PodCache, SubnetCache
from ovnctl.caches.index import MultiIndex
from ovnctl.caches.pods import index_pod_by_key, index_pod_by_vm, pod_record
from ovnctl.controller.routing import KeyRouter
from ovnctl.demo.objects import pod
from ovnctl.models import allocation_annotations
from ovnctl.queue import RateLimitingQueue
from ovnctl.reconcilers.echoes import PatchEchoes
from ovnctl.reconcilers.subnet_states import SubnetConflicts, SubnetStates
from ovnctl.reconcilers.waiting import WaitList

PATCH = allocation_annotations(
    provider="net0.default.ovn",
    subnet="sub0",
    cidr_block="10.100.0.0/16",
    gateway="10.100.0.1",
    ips=["10.100.0.2"],
    mac="0e:00:00:00:00:01",
    vm_name="vm1",
)


def _patched(body: dict[str, Any], annotations: dict[str, str]) -> dict[str, Any]:
    merged = copy.deepcopy(body)
    merged["metadata"].setdefault("annotations", {}).update(annotations)
    return merged


def _router(echoes: PatchEchoes) -> tuple[KeyRouter, Any]:
    by_key: MultiIndex[Any, Any] = MultiIndex()
    by_vm: MultiIndex[Any, Any] = MultiIndex()
    pods = PodCache(by_key=by_key, by_vm=by_vm)
    subnets = SubnetCache(
        by_name=MultiIndex(),
        by_provider=MultiIndex(),
        by_namespace=MultiIndex(),
        default=MultiIndex(),
    )
    queues = {name: RateLimitingQueue[Any](name=name) for name in ("subnets", "pods", "vms")}

    router = KeyRouter(
        subnets=subnets,
        pods=pods,
        subnet_queue=queues["subnets"],
        pod_queue=queues["pods"],
        vm_queue=queues["vms"],
        waits=WaitList(),
        subnet_states=SubnetStates(subnets=subnets),
        conflicts=SubnetConflicts(subnets=subnets),
        echoes=echoes,
    )

    def store(body: dict[str, Any]) -> None:
        key = (body["metadata"]["namespace"], body["metadata"]["name"])
        by_key.replace(key, index_pod_by_key(body))
        by_vm.replace(key, index_pod_by_vm(body))
        router.pod_changed(*key, vm="vm1")

    return router, (store, queues)


def test_patched_record_is_what_the_cache_shows_after_the_patch() -> None:
    """PodRecord.patched predicts the record the watch brings back (unkept keys ignored)."""
    body = pod("virt-launcher-vm1-x", networks=["net0"], vm="vm1")
    record = pod_record(body)
    assert record is not None
    annotations = {**PATCH, "unrelated.example.com/x": "y"}
    assert record.patched(annotations) == pod_record(_patched(body, annotations))


def test_the_echo_is_skipped_and_later_changes_are_not() -> None:
    """The echo queues nothing (pod, VM); the next change to the pod is queued as usual."""
    body = pod("virt-launcher-vm1-x", networks=["net0"], vm="vm1")
    echoes = PatchEchoes()
    _, (store, queues) = _router(echoes)
    store(body)
    assert len(queues["pods"]) == 1
    assert len(queues["vms"]) == 1
    record = pod_record(body)
    assert record is not None
    echoes.expect(record.key, record.patched(PATCH))
    echoed = _patched(body, PATCH)
    store(echoed)  # the watch's echo: nothing new to do
    assert len(queues["pods"]) == 1
    assert len(queues["vms"]) == 1
    moved = copy.deepcopy(echoed)
    moved["spec"]["nodeName"] = "node2"
    store(moved)  # no expectation left: worked on
    assert len(queues["pods"]) == 1  # de-duplicated with the queued key
    assert not echoes.is_echo(record.key, record.patched(PATCH))  # used up by the echo


def test_an_echo_with_other_changes_is_worked_on() -> None:
    """If the pod changed in more than the patch (it was scheduled meanwhile), it is queued."""
    body = pod("virt-launcher-vm1-x", networks=["net0"], vm="vm1")
    echoes = PatchEchoes()
    _, (store, queues) = _router(echoes)
    record = pod_record(body)
    assert record is not None
    echoes.expect(record.key, record.patched(PATCH))
    echoed = _patched(body, PATCH)
    echoed["spec"]["nodeName"] = "node9"
    store(echoed)
    assert len(queues["pods"]) == 1
    assert len(queues["vms"]) == 1
