"""One owner per piece of subnet state: SubnetStates, SubnetConflicts and PatchEchoes alone.

The subnet reconciler writes SubnetStates; the router, planner, releaser and
NB convergence read the same object. SubnetConflicts is recomputed only when
the router says the specs may have changed. PatchEchoes is shared by the pod
reconciler (who expects) and the router (who skips). No server, no controller.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import pytest

from ovnctl.caches import (
    PodCache,
    SubnetCache,
    index_subnet_by_name,
    index_subnet_by_namespace,
    index_subnet_by_provider,
    index_subnet_default,
)
from ovnctl.caches.index import MultiIndex
from ovnctl.caches.pods import pod_record
from ovnctl.controller.routing import KeyRouter
from ovnctl.demo.objects import pod
from ovnctl.ipam import IPAM
from ovnctl.k8s.events import InvolvedObject
from ovnctl.models import NadConfig
from ovnctl.ovn import SwitchSpec
from ovnctl.queue import RateLimitingQueue
from ovnctl.reconcilers.echoes import PatchEchoes
from ovnctl.reconcilers.subnet import SubnetReconciler
from ovnctl.reconcilers.subnet_states import SubnetConflicts, SubnetStates
from ovnctl.reconcilers.waiting import WaitList
from tests.caches.test_subnet_cache import body

_INDEXERS: tuple[Callable[[Mapping[str, Any]], Mapping[Any, Any]], ...] = (
    index_subnet_by_name,
    index_subnet_by_provider,
    index_subnet_by_namespace,
    index_subnet_default,
)


class Subnets:
    """A SubnetCache over real indexes, changed by hand."""

    def __init__(self, *bodies: dict[str, Any]) -> None:
        self._indexes: list[MultiIndex[Any, Any]] = [MultiIndex() for _ in _INDEXERS]
        by_name, by_provider, by_namespace, default = self._indexes
        self.cache = SubnetCache(
            by_name=by_name, by_provider=by_provider, by_namespace=by_namespace, default=default
        )
        for b in bodies:
            self.put(b)

    def put(self, b: dict[str, Any]) -> None:
        for index, indexer in zip(self._indexes, _INDEXERS, strict=True):
            index.replace(("", b["metadata"]["name"]), indexer(b))

    def drop(self, name: str) -> None:
        for index in self._indexes:
            index.discard(("", name))


def _switch(subnets: SubnetCache, name: str) -> SwitchSpec:
    record = subnets.get(name)
    assert record is not None
    assert record.spec is not None
    return SwitchSpec.from_subnet(record.spec)


# -- SubnetStates ------------------------------------------------------------------------


def test_states_record_ready_refused_and_switch_until_forgotten() -> None:
    """Each setter shows in its reader; forget clears all three for that subnet only."""
    subnets = Subnets(body("a", cidrBlock="10.16.0.0/24"), body("b", cidrBlock="10.17.0.0/24"))
    states = SubnetStates(subnets=subnets.cache)
    states.set_ready("a", True)
    states.set_refused("a", True)
    states.set_switch("a", _switch(subnets.cache, "a"))
    states.set_ready("b", True)
    assert states.ready("a")
    assert states.serves("a")
    assert states.refused == {"a"}
    assert set(states.switches) == {"a"}
    states.set_ready("a", False)
    states.set_refused("a", False)
    assert not states.ready("a")
    assert not states.serves("a")
    assert states.refused == set()
    states.forget("a")
    assert "a" not in states.switches
    assert states.ready("b")


def test_switches_are_a_live_read_only_view() -> None:
    """Readers see later writes through the mapping they hold, and cannot write to it."""
    subnets = Subnets(body("a", cidrBlock="10.16.0.0/24"))
    states = SubnetStates(subnets=subnets.cache)
    held = states.switches
    states.set_switch("a", _switch(subnets.cache, "a"))
    assert held["a"].name == "a"
    with pytest.raises(TypeError):
        cast(Any, held)["b"] = held["a"]


# -- SubnetConflicts ---------------------------------------------------------------------


def test_conflicts_are_recomputed_only_once_told_the_specs_changed() -> None:
    """A new overlapping subnet counts after specs_changed(), not before (the router's cue)."""
    subnets = Subnets(body("a", cidrBlock="10.16.0.0/24"))
    conflicts = SubnetConflicts(subnets=subnets.cache)
    assert conflicts.involving("a") == ()
    subnets.put(body("b", cidrBlock="10.16.0.0/25"))
    assert conflicts.involving("b") == ()  # not told yet: the last computation stands
    conflicts.specs_changed()
    assert [c.subnets for c in conflicts.involving("b")] == [("a", "b")]
    assert conflicts.rivals_of("a") == {"b"}
    subnets.drop("b")
    conflicts.specs_changed()
    assert conflicts.rivals_of("a") == set()


# -- the subnet reconciler writes, the router reads ----------------------------------------


class _Api:
    async def patch(self, *args: Any, **kwargs: Any) -> None:
        return None


class _Events:
    async def warning(self, involved: InvolvedObject, *, reason: str, message: str) -> None:
        return None


def _reconciler(subnets: Subnets, states: SubnetStates) -> SubnetReconciler:
    async def no_nad(namespace: str, name: str) -> NadConfig | None:
        return None

    conflicts = SubnetConflicts(subnets=subnets.cache)
    conflicts.specs_changed()
    return SubnetReconciler(
        subnets=subnets.cache,
        nad_lookup=no_nad,
        ipam=IPAM(),
        api=cast(Any, _Api()),
        events=cast(Any, _Events()),
        states=states,
        conflicts=conflicts,
    )


async def test_the_subnet_reconciler_writes_its_verdicts_into_the_states() -> None:
    """Ready subnets serve, the junior of an overlap is refused, a gone one is forgotten."""
    senior = body("a", cidrBlock="10.16.0.0/24")
    junior = body("b", cidrBlock="10.16.0.0/25")
    junior["metadata"]["creationTimestamp"] = "2024-01-02T00:00:00Z"
    subnets = Subnets(senior, junior)
    states = SubnetStates(subnets=subnets.cache)
    reconcile = _reconciler(subnets, states)
    await reconcile("a")
    await reconcile("b")
    assert states.serves("a")
    assert not states.serves("b")
    assert states.refused == {"b"}
    subnets.drop("b")
    await reconcile("b")
    assert states.refused == set()
    assert not states.ready("b")


def test_a_subnet_change_requeues_the_refused_subnets_the_states_hold() -> None:
    """The router reads refused subnets from the shared states, not from the reconciler."""
    subnets = Subnets(body("a", cidrBlock="10.16.0.0/24"))
    states = SubnetStates(subnets=subnets.cache)
    states.set_refused("held-back", True)
    queue: RateLimitingQueue[str] = RateLimitingQueue(name="subnets")
    router = KeyRouter(
        subnets=subnets.cache,
        pods=PodCache(by_key=MultiIndex(), by_vm=MultiIndex()),
        subnet_queue=queue,
        pod_queue=RateLimitingQueue(name="pods"),
        vm_queue=RateLimitingQueue(name="vms"),
        waits=WaitList(),
        subnet_states=states,
        conflicts=SubnetConflicts(subnets=subnets.cache),
        echoes=PatchEchoes(),
    )
    router.subnet_changed("a")
    assert len(queue) == 2  # "a" itself and the refused "held-back"


# -- PatchEchoes ---------------------------------------------------------------------------


def test_an_expected_echo_is_recognised_once() -> None:
    """The expected record is an echo once; after that, or after cancel, nothing is."""
    record = pod_record(pod("p", networks=["net0"]))
    assert record is not None
    echoes = PatchEchoes()
    echoes.expect(record.key, record)
    assert echoes.is_echo(record.key, record)
    assert not echoes.is_echo(record.key, record)
    echoes.expect(record.key, record)
    echoes.cancel(record.key)
    assert not echoes.is_echo(record.key, record)


def test_a_different_record_is_no_echo_and_uses_up_the_expectation() -> None:
    """A pod that changed in more than the patch is worked on, and so is its next event."""
    expected = pod_record(pod("p", networks=["net0"]))
    moved = pod_record(pod("p", networks=["net0"], node="node2"))
    assert expected is not None
    assert moved is not None
    echoes = PatchEchoes()
    echoes.expect(expected.key, expected)
    assert not echoes.is_echo(moved.key, moved)
    assert not echoes.is_echo(expected.key, expected)
    assert not echoes.is_echo(expected.key, None)
