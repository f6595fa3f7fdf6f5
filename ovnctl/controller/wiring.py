"""The parts of one controller, built in dependency order and connected to each other.

:class:`ControllerParts` builds them in phases, one method each: the
connections (API server, OVN NB), the caches and the state shared between
reconcilers, the work queues, the routing of watched changes (key router,
pinned addresses, informers), Kopf and the admission webhooks, the
reconcilers, and the leader election. Shared state is built before anything
that reads it and handed to each reader (see
:mod:`ovnctl.reconcilers.subnet_states` and :mod:`ovnctl.reconcilers.echoes`):
the reconcilers' decisions are not read back through callbacks into the
controller. What still passes through this class as functions: one-way
notifications (addresses taken or freed in a subnet,
:meth:`ControllerParts._usage_changed`, to the router and the pinned
addresses; a NIC's release settled, to the router's wait list) and the
admission webhook's count of addresses held in a subnet
(:meth:`ControllerParts._allocated`, which combines the IPAM and the cache).
:class:`~.runtime.Controller` adds how the parts run: start-up order, workers,
loops and shutdown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ovnctl import __version__
from ovnctl.caches import KubevirtCache, NadCache, PodCache, PodKey, SubnetCache
from ovnctl.caches.index import MultiIndex
from ovnctl.controller.pinned import PinnedAddresses
from ovnctl.controller.routing import KeyRouter
from ovnctl.controller.settings import ControllerSettings
from ovnctl.ipam import IPAM
from ovnctl.k8s.connection import connect
from ovnctl.k8s.events import EventRecorder
from ovnctl.k8s.informers import (
    NADS_BY_KEY,
    PODS_BY_KEY,
    PODS_BY_VM,
    PODS_WITHOUT_PRIMARY,
    SUBNETS_BY_NAME,
    SUBNETS_BY_NAMESPACE,
    SUBNETS_BY_PROVIDER,
    SUBNETS_DEFAULT,
    VMIS,
    VMS,
    build_indexes,
    build_informers,
    build_subnet_feed,
)
from ovnctl.k8s.kopf_subnets import KopfSubnets
from ovnctl.k8s.leader import LeaderElector
from ovnctl.models import NadConfig
from ovnctl.ovn import Northbound, NorthboundMetrics, build_northbound
from ovnctl.queue import MetricsSink, RateLimitingQueue
from ovnctl.reconcilers.admission import SubnetAdmission
from ovnctl.reconcilers.echoes import PatchEchoes
from ovnctl.reconcilers.ippool_admission import IPPoolAdmission
from ovnctl.reconcilers.ledger import NicLedger, OwnerKey
from ovnctl.reconcilers.nics import NicPlanner
from ovnctl.reconcilers.pod import PodReconciler
from ovnctl.reconcilers.release import NicReleaser
from ovnctl.reconcilers.subnet import NadLookup, SubnetReconciler
from ovnctl.reconcilers.subnet_states import SubnetConflicts, SubnetStates
from ovnctl.reconcilers.vm import VmReconciler
from ovnctl.reconcilers.waiting import WaitList, nic_topic

__all__ = ["ControllerParts"]

Indexes = Mapping[str, MultiIndex[Any, Any]]


class ControllerParts:
    """Caches, shared state, queues, router, reconcilers and election for one cluster."""

    def __init__(
        self,
        *,
        settings: ControllerSettings,
        metrics: MetricsSink | None = None,
        northbound_metrics: NorthboundMetrics | None = None,
    ) -> None:
        self.settings = settings
        self._connect(northbound_metrics)
        indexes = build_indexes()
        self._build_caches(indexes)
        self._build_shared_state()
        self._build_queues(metrics)
        self._build_routing(indexes, metrics)
        self._build_kopf(indexes)
        self._build_reconcilers()
        self._build_election()

    # -- phases, in order ------------------------------------------------------------------

    def _connect(self, northbound_metrics: NorthboundMetrics | None) -> None:
        """The OVN NB client and the API server connection (no I/O until run)."""
        settings = self.settings
        # Without --ovn-nb this is the pure-IPAM stand-in, which writes nothing anywhere.
        self.northbound: Northbound = build_northbound(
            settings.ovn_nb, tls=settings.ovn_nb_tls, metrics=northbound_metrics
        )
        lease = settings.leader_election
        self._identity = lease.identity if lease else None
        self._user_agent = f"ovnctl/{__version__} ({self._identity})" if self._identity else None
        self.api = connect(
            kubeconfig=settings.kubeconfig,
            max_concurrency=settings.api_concurrency,
            user_agent=self._user_agent,
        )
        self.events = EventRecorder(api=self.api)

    def _build_caches(self, indexes: Indexes) -> None:
        """Views over the informers' indexes, the IPAM and the NIC ledger."""
        self.ipam = IPAM()
        self.ledger = NicLedger()
        self.nads = NadCache(by_key=indexes[NADS_BY_KEY])
        self.subnets = SubnetCache(
            by_name=indexes[SUBNETS_BY_NAME],
            by_provider=indexes[SUBNETS_BY_PROVIDER],
            by_namespace=indexes[SUBNETS_BY_NAMESPACE],
            default=indexes[SUBNETS_DEFAULT],
        )
        self.pods = PodCache(
            by_key=indexes[PODS_BY_KEY],
            by_vm=indexes[PODS_BY_VM],
            without_primary=indexes[PODS_WITHOUT_PRIMARY],
        )
        self.kubevirt = KubevirtCache(vms=indexes[VMS], vmis=indexes[VMIS])

    def _build_shared_state(self) -> None:
        """State one part writes and others read, built before any of them."""
        self.subnet_states = SubnetStates(subnets=self.subnets)
        """Written by the subnet reconciler; read by the router, planner, releaser, NB."""
        self.subnet_conflicts = SubnetConflicts(subnets=self.subnets)
        """Told by the router when specs change; read by the router and subnet reconciler."""
        self.echoes = PatchEchoes()
        """Written by the pod reconciler before each patch; read by the router."""
        self.waits: WaitList[PodKey] = WaitList()

    def _build_queues(self, metrics: MetricsSink | None) -> None:
        """One queue per kind, as Kube-OVN: subnet churn never starves pod allocation."""
        self.subnet_queue: RateLimitingQueue[str] = RateLimitingQueue(
            name="subnets", metrics=metrics
        )
        self.pod_queue: RateLimitingQueue[PodKey] = RateLimitingQueue(name="pods", metrics=metrics)
        self.vm_queue: RateLimitingQueue[OwnerKey] = RateLimitingQueue(name="vms", metrics=metrics)

    def _build_routing(self, indexes: Indexes, metrics: MetricsSink | None) -> None:
        """From watched changes to keys: the router, pinned addresses and the informers."""
        self.router = KeyRouter(
            subnets=self.subnets,
            pods=self.pods,
            subnet_queue=self.subnet_queue,
            pod_queue=self.pod_queue,
            vm_queue=self.vm_queue,
            waits=self.waits,
            subnet_states=self.subnet_states,
            conflicts=self.subnet_conflicts,
            echoes=self.echoes,
        )
        # Addresses users pin (IPPools, ip_pool, Vips, StatefulSet pods, IPAMClaims):
        # their informers, queues and rules live in ovnctl.controller.pinned.
        self.pinned = PinnedAddresses(
            indexes=indexes,
            subnets=self.subnets,
            ipam=self.ipam,
            api=self.api,
            serves=self.subnet_states.serves,
            wake=self.router.wake,
            ledger=self.ledger,
            requeue_pod=self.pod_queue.add,
            pods=self.pods,
            events=self.events,
            usage_changed=self._usage_changed,
            metrics=metrics,
        )
        self._informers = build_informers(
            indexes=indexes,
            configuration=self.api.configuration,
            hooks=self.router,
            namespaces=self.settings.namespaces,
            user_agent=self._user_agent,
            pinned=self.pinned,
        )

    def _build_kopf(self, indexes: Indexes) -> None:
        """Kopf's Subnet watch and the admission webhooks it serves."""
        self.subnet_admission = SubnetAdmission(
            subnets=self.subnets, nads=self.nads, allocated=self._allocated
        )
        self.ippool_admission = IPPoolAdmission(
            pools=self.pinned.pools, subnets=self.subnets, ipam=self.ipam
        )
        # Subnets are Kopf's: one LIST+WATCH, thin handlers feeding the Subnet indexes,
        # and the admission webhooks (on both replicas: they read only the caches). Kopf
        # serves IPPool reviews without watching IPPools (their reflector stays ovnctl's).
        self.kopf = KopfSubnets(
            configuration=self.api.configuration,
            feed=build_subnet_feed(indexes=indexes, hooks=self.router),
            reviewer=self.subnet_admission.review,
            ippool_reviewer=self.ippool_admission.review,
            webhook=self.settings.webhook,
            identity=self._identity,
        )

    def _build_reconcilers(self) -> None:
        """Subnets, then what releases NICs, then pods and VMs (each uses the previous)."""
        self.subnet_reconciler = SubnetReconciler(
            subnets=self.subnets,
            nad_lookup=self._nad_lookup(),
            ipam=self.ipam,
            api=self.api,
            events=self.events,
            northbound=self.northbound,
            states=self.subnet_states,
            conflicts=self.subnet_conflicts,
        )
        self.releaser = NicReleaser(
            api=self.api,
            ipam=self.ipam,
            ledger=self.ledger,
            on_subnet_freed=self._usage_changed,
            on_nic_settled=lambda nic: self.router.wake(nic_topic(nic)),
            northbound=self.northbound,
            subnet_states=self.subnet_states,
        )
        planner = NicPlanner(
            nads=self.nads,
            subnets=self.subnets,
            subnet_states=self.subnet_states,
            ipam=self.ipam,
            primary_network=self.settings.primary_network,
            pools=self.pinned.selector,
            claims=self.pinned.claim_checker,
        )
        self.pod_reconciler = PodReconciler(
            pods=self.pods,
            subnets=self.subnets,
            planner=planner,
            ipam=self.ipam,
            ledger=self.ledger,
            releaser=self.releaser,
            api=self.api,
            events=self.events,
            waits=self.waits,
            echoes=self.echoes,
            on_allocated=self._usage_changed,
            northbound=self.northbound,
            keeps=self.pinned.sticky.keeps,
        )
        self.vm_reconciler = VmReconciler(
            pods=self.pods,
            kubevirt=self.kubevirt,
            ipam=self.ipam,
            ledger=self.ledger,
            releaser=self.releaser,
            api=self.api,
        )

    def _build_election(self) -> None:
        """The Lease campaign, and the write fence it holds (None: always allocate)."""
        self.elector: LeaderElector | None = None
        lease = self.settings.leader_election
        if lease is not None:
            self.elector = LeaderElector(api=self.api.sibling(max_concurrency=2), settings=lease)
            # Every write of this replica is refused unless it surely holds the Lease.
            self.api.set_write_fence(self.elector.may_write)

    # -- wiring between parts ----------------------------------------------------------------

    def _nad_lookup(self) -> NadLookup:
        """How the subnet reconciler reads a subnet's NAD: from the NAD cache, no API call.

        The one place a subclass may choose another way to read NADs.
        """
        return self._cached_nad

    async def _cached_nad(self, namespace: str, name: str) -> NadConfig | None:
        return self.nads.get(namespace, name)

    def _usage_changed(self, subnet: str) -> None:
        self.router.usage_changed(subnet)
        self.pinned.usage_changed(subnet)

    def _allocated(self, name: str) -> int:
        """Addresses held in ``name``: the IPAM's count on the leader, else the count its
        last status reported (a standby's IPAM is not rebuilt)."""
        held = 0
        if name in self.ipam:
            held = len(self.ipam.subnet(name))
        record = self.subnets.get(name)
        if record is not None:
            status = record.status
            for field in ("v4usingIPs", "v6usingIPs"):
                value = status.get(field)
                if isinstance(value, int | float):
                    held = max(held, int(value))
        return held
