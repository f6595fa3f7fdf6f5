"""One factory per class under test, and the rig of shared state they are built on.

The controller (:class:`ovnctl.controller.wiring.ControllerParts`) gives these
objects the subnet reconciler's decisions (a ``SubnetStateView``), the
conflicts between subnets and the pod reconciler's patch echoes; here the
:class:`Rig` stands in for them with plain sets the tests fill in: which
subnets serve (:attr:`Rig.serving`), which have a logical switch, which are
refused and who their rivals are, plus a log of the callbacks the reconcilers
make. When a constructor changes, the factory for its class is the one place
to adapt.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from typing import Any

from ovnctl.caches import PodKey, PodRecord, SubnetRecord
from ovnctl.controller.routing import KeyRouter
from ovnctl.ipam import IPAM, AllocationRecord, RebuildReport
from ovnctl.k8s.events import EventRecorder
from ovnctl.k8s.resources import PODS, SUBNETS
from ovnctl.models.subnet import SubnetSpec
from ovnctl.ovn import Northbound, PortSpec, SwitchSpec
from ovnctl.queue import FakeClock, RateLimitingQueue
from ovnctl.reconcilers.echoes import PatchEchoes
from ovnctl.reconcilers.ledger import NicLedger, OwnerKey
from ovnctl.reconcilers.nics import ClaimChecker, NicPlanner, PoolChooser
from ovnctl.reconcilers.northbound import desired_northbound, desired_subset
from ovnctl.reconcilers.pod import PodReconciler
from ovnctl.reconcilers.rebuild import rebuild_ipam
from ovnctl.reconcilers.release import NicReleaser
from ovnctl.reconcilers.subnet_states import SubnetConflicts
from ovnctl.reconcilers.vm import VmReconciler
from ovnctl.reconcilers.waiting import WaitList, nic_topic
from tests.reconcilers.fakes import FakeWriter, FedCaches, stamp

__all__ = [
    "Rig",
    "Routed",
    "desired",
    "desired_part",
    "make_planner",
    "make_pod_reconciler",
    "make_releaser",
    "make_router",
    "make_vm_reconciler",
    "run_rebuild",
]


@dataclasses.dataclass
class Rig:
    """The state the reconcilers share in a controller, and the calls they make out of it."""

    caches: FedCaches = dataclasses.field(default_factory=FedCaches)
    writer: FakeWriter = dataclasses.field(default_factory=FakeWriter)
    ipam: IPAM = dataclasses.field(default_factory=lambda: IPAM(seed=1))
    ledger: NicLedger = dataclasses.field(default_factory=NicLedger)
    waits: WaitList[PodKey] = dataclasses.field(default_factory=WaitList)
    clock: FakeClock = dataclasses.field(default_factory=FakeClock)
    serving: set[str] = dataclasses.field(default_factory=set)
    """Subnets the subnet reconciler found valid and Ready."""
    switches: set[str] = dataclasses.field(default_factory=set)
    """Subnets with a logical switch in the NB."""
    refused: set[str] = dataclasses.field(default_factory=set)
    rivals: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    usage: list[str] = dataclasses.field(default_factory=list)
    """Subnets reported as having had addresses taken or freed, in order."""
    settled: list[str] = dataclasses.field(default_factory=list)
    """NICs whose release ended, in order."""
    echoes: PatchEchoes = dataclasses.field(default_factory=PatchEchoes)
    """The pod reconciler's own patches, which the router's watch echo must skip."""
    spec_changes: int = 0
    """How many times the router said the set of Subnet specs may have changed."""

    events: EventRecorder = dataclasses.field(init=False)
    """One recorder posting through :attr:`writer`, as the controller has one."""

    def __post_init__(self) -> None:
        self.events = EventRecorder(api=self.writer)

    # -- the cluster, as both the watch (caches) and the server (writer) see it ----------

    def add_subnet(self, body: dict[str, Any], *, serve: bool = True) -> None:
        """A Subnet in the cache; registered in the IPAM and Ready unless ``serve=False``."""
        stamped = stamp(body)
        self.caches.put(stamped)
        self.writer.seed(SUBNETS, stamped)
        name = stamped["metadata"]["name"]
        record = self.caches.subnets.get(name)
        assert record is not None
        assert record.spec is not None, record.error
        if serve:
            spec = record.spec
            self.ipam.apply_subnet(
                name, spec.cidr_block, gateway=spec.gateway, exclude_ips=spec.exclude_ips
            )
            self.serving.add(name)

    def add(self, *bodies: dict[str, Any]) -> None:
        """Objects present in the server and in the caches (pods also get a uid)."""
        for body in bodies:
            stamped = stamp(body)
            self.caches.put(stamped)
            if stamped["kind"] == "Pod":
                self.writer.seed(PODS, stamped)

    def pod(self, namespace: str, name: str) -> PodRecord:
        record = self.caches.pods.get(namespace, name)
        assert record is not None
        return record

    def echo(self, namespace: str, name: str) -> None:
        """The watch brings back the pod as the server holds it (after a patch)."""
        body = self.writer.get_object(PODS, name, namespace)
        assert body is not None
        self.caches.put(body)

    def delete_pod(self, namespace: str, name: str) -> None:
        """The pod is gone from the server and the cache."""
        self.writer.remove(PODS, name, namespace)
        self.caches.delete("Pod", name, namespace)


class _SwitchNames(Mapping[str, SwitchSpec]):
    """The rig's set of subnets with a switch, as the read-only mapping readers get."""

    def __init__(self, rig: Rig) -> None:
        self._rig = rig
        self._names = rig.switches

    def __getitem__(self, name: str) -> SwitchSpec:
        record = self._rig.caches.subnets.get(name)
        if name not in self._names or record is None or record.spec is None:
            raise KeyError(name)
        spec = record.spec
        return SwitchSpec(name=name, cidr_block=spec.cidr_block, gateway=spec.gateway)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._names))

    def __len__(self) -> int:
        return len(self._names)


class RigStates:
    """A ``SubnetStateView`` over the rig's sets (the subnet reconciler's decisions)."""

    def __init__(self, rig: Rig) -> None:
        self._rig = rig

    def serves(self, name: str) -> bool:
        return name in self._rig.serving

    def ready(self, name: str) -> bool:
        return name in self._rig.serving

    @property
    def refused(self) -> Set[str]:
        return self._rig.refused

    @property
    def switches(self) -> Mapping[str, SwitchSpec]:
        return _SwitchNames(self._rig)


class RigConflicts(SubnetConflicts):
    """Rivals as the rig's dict says; counts the router's "specs may have changed" calls."""

    def __init__(self, rig: Rig) -> None:
        super().__init__(subnets=rig.caches.subnets)
        self._rig = rig

    def specs_changed(self) -> None:
        self._rig.spec_changes += 1

    def rivals_of(self, name: str) -> set[str]:
        return set(self._rig.rivals.get(name, ()))


def make_planner(
    rig: Rig,
    *,
    primary_network: bool = True,
    pools: PoolChooser | None = None,
    claims: ClaimChecker | None = None,
) -> NicPlanner:
    return NicPlanner(
        nads=rig.caches.nads,
        subnets=rig.caches.subnets,
        subnet_states=RigStates(rig),
        ipam=rig.ipam,
        primary_network=primary_network,
        pools=pools,
        claims=claims,
    )


def make_releaser(rig: Rig, *, northbound: Northbound | None = None) -> NicReleaser:
    return NicReleaser(
        api=rig.writer,
        ipam=rig.ipam,
        ledger=rig.ledger,
        on_subnet_freed=rig.usage.append,
        on_nic_settled=rig.settled.append,
        northbound=northbound,
        subnet_states=RigStates(rig),
    )


def make_pod_reconciler(
    rig: Rig,
    *,
    planner: NicPlanner | None = None,
    releaser: NicReleaser | None = None,
    northbound: Northbound | None = None,
    keeps: Callable[[PodKey], bool] | None = None,
) -> PodReconciler:
    return PodReconciler(
        pods=rig.caches.pods,
        subnets=rig.caches.subnets,
        planner=planner or make_planner(rig),
        ipam=rig.ipam,
        ledger=rig.ledger,
        releaser=releaser or make_releaser(rig, northbound=northbound),
        api=rig.writer,
        events=rig.events,
        waits=rig.waits,
        on_allocated=rig.usage.append,
        northbound=northbound,
        keeps=keeps,
        echoes=rig.echoes,
    )


def make_vm_reconciler(rig: Rig, *, releaser: NicReleaser | None = None) -> VmReconciler:
    return VmReconciler(
        pods=rig.caches.pods,
        kubevirt=rig.caches.kubevirt,
        ipam=rig.ipam,
        ledger=rig.ledger,
        releaser=releaser or make_releaser(rig),
        api=rig.writer,
    )


@dataclasses.dataclass
class Routed:
    """A router and the queues it feeds (all on the rig's fake clock)."""

    router: KeyRouter
    subnets: RateLimitingQueue[str]
    pods: RateLimitingQueue[PodKey]
    vms: RateLimitingQueue[OwnerKey]

    async def drain(self) -> dict[str, set[Any]]:
        """What each queue holds now (queued, not delayed), taken out as workers would."""
        out: dict[str, set[Any]] = {}
        queues: dict[str, RateLimitingQueue[Any]] = {
            "subnets": self.subnets, "pods": self.pods, "vms": self.vms
        }  # fmt: skip
        for name, queue in queues.items():
            out[name] = set()
            while queue.queued():
                key = await queue.get()
                queue.done(key)
                out[name].add(key)
        return out


def make_router(rig: Rig) -> Routed:
    subnets: RateLimitingQueue[str] = RateLimitingQueue(name="subnets", clock=rig.clock)
    pods: RateLimitingQueue[PodKey] = RateLimitingQueue(name="pods", clock=rig.clock)
    vms: RateLimitingQueue[OwnerKey] = RateLimitingQueue(name="vms", clock=rig.clock)
    router = KeyRouter(
        subnets=rig.caches.subnets,
        pods=rig.caches.pods,
        subnet_queue=subnets,
        pod_queue=pods,
        vm_queue=vms,
        waits=rig.waits,
        subnet_states=RigStates(rig),
        conflicts=RigConflicts(rig),
        echoes=rig.echoes,
    )
    return Routed(router, subnets, pods, vms)


def nic_woken(rig: Rig, nic: str) -> list[PodKey]:
    """The pods a NIC's settled release wakes (what the controller's router would do)."""
    return rig.waits.wake(nic_topic(nic))


async def run_rebuild(
    rig: Rig,
    *,
    page_size: int = 500,
    reserved: Sequence[AllocationRecord] = (),
) -> RebuildReport:
    """``rebuild_ipam`` as the controller runs it at start-up: serving subnets are the rig's."""

    async def serving_spec(record: SubnetRecord) -> SubnetSpec | None:
        return record.spec if record.name in rig.serving else None

    return await rebuild_ipam(
        api=rig.writer,
        ipam=rig.ipam,
        subnets=rig.caches.subnets,
        serving_spec=serving_spec,
        ledger=rig.ledger,
        pods=rig.caches.pods.records(),
        page_size=page_size,
        reserved=reserved,
    )


def desired(
    rig: Rig, switches: Mapping[str, SwitchSpec]
) -> tuple[list[SwitchSpec], list[PortSpec]]:
    """``desired_northbound`` over the rig's IPAM, ledger and subnet cache."""
    return desired_northbound(
        switches=switches, ipam=rig.ipam, ledger=rig.ledger, subnets=rig.caches.subnets
    )


def desired_part(
    rig: Rig,
    switches: Mapping[str, SwitchSpec],
    switch_names: Iterable[str],
    port_names: Iterable[str],
) -> tuple[list[SwitchSpec], list[PortSpec]]:
    """``desired_subset`` (what drift repair asks for) over the rig's state."""
    return desired_subset(
        switch_names,
        port_names,
        switches=switches,
        ipam=rig.ipam,
        ledger=rig.ledger,
        subnets=rig.caches.subnets,
    )
