"""One running controller: from watch events to reconciled keys.

Start-up order matters for correctness: every informer lists its kind into
the indexes first, and Kopf lists the Subnets (:mod:`ovnctl.k8s.kopf_subnets`;
no key is reconciled before all have); then the IPAM and
the NIC ledger are rebuilt from the IP objects; then every subnet is reconciled once,
so pods find their subnets Ready; only then do the worker pools start taking
keys. Keys that arrive meanwhile wait, de-duplicated, in the queues.

Three queues, as Kube-OVN has per-kind queues: subnets, pods and VMs, each
with its own worker pool, so subnet churn never starves pod allocation.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from typing import Any, Literal

from ovnctl import __version__
from ovnctl.caches import (
    KubevirtCache,
    NadCache,
    PodCache,
    PodKey,
    ReadinessGate,
    SubnetCache,
    SubnetRecord,
)
from ovnctl.controller.kube_ovn_walk import KubeOvnSubnetWalk
from ovnctl.controller.lifecycle import ControllerState
from ovnctl.controller.pinned import PinnedAddresses
from ovnctl.controller.routing import KeyRouter
from ovnctl.ipam import IPAM
from ovnctl.k8s.api import NotFound
from ovnctl.k8s.connection import connect
from ovnctl.k8s.events import EventRecorder, InvolvedObject
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
from ovnctl.k8s.kopf_subnets import KopfSubnets, WebhookSettings
from ovnctl.k8s.leader import LeaderElector, LeaseSettings
from ovnctl.k8s.resources import NADS
from ovnctl.models import NadConfig, parse_nad
from ovnctl.models.subnet import SubnetSpec
from ovnctl.ovn import (
    ConvergeReport,
    NbTls,
    Northbound,
    NorthboundError,
    NorthboundMetrics,
    PortSpec,
    SwitchSpec,
    build_northbound,
)
from ovnctl.queue import (
    MetricsSink,
    RateLimitingQueue,
    Result,
    ShutdownReport,
    WorkerPool,
)
from ovnctl.reconcilers.admission import SubnetAdmission
from ovnctl.reconcilers.drift import DriftRepair
from ovnctl.reconcilers.ippool_admission import IPPoolAdmission
from ovnctl.reconcilers.ledger import NicLedger, OwnerKey
from ovnctl.reconcilers.nics import NicPlanner
from ovnctl.reconcilers.northbound import desired_northbound, desired_subset
from ovnctl.reconcilers.pod import PodReconciler
from ovnctl.reconcilers.rebuild import rebuild_ipam
from ovnctl.reconcilers.release import NicReleaser
from ovnctl.reconcilers.subnet import SubnetReconciler
from ovnctl.reconcilers.vm import VmReconciler
from ovnctl.reconcilers.waiting import WaitList, nic_topic

__all__ = ["Controller", "ControllerSettings"]

logger = logging.getLogger(__name__)

CACHES_LISTED = "caches listed"
IPAM_REBUILT = "IPAM rebuilt"


@dataclasses.dataclass(frozen=True, slots=True)
class ControllerSettings:
    """What an operator of ovnctl can tune; the CLI maps flags onto these."""

    kubeconfig: str | None = None
    subnet_workers: int = 4
    pod_workers: int = 8
    vm_workers: int = 2
    max_retries: int = 15
    api_concurrency: int = 16
    shutdown_grace: float = 10.0
    gc_interval: float = 300.0
    """Seconds between sweeps for owners deleted while the controller was not looking."""
    resync_interval: float = 900.0
    """Seconds between full re-LISTs of every watched kind (the diff finds anything missed)."""
    primary_network: bool = True
    """Allocate the pods' primary (``ovn``) network; off where another CNI owns it."""
    nad_lookup: Literal["cache", "live"] = "cache"
    """``live``: the subnet reconciler GETs the NAD on every reconcile instead of reading the
    cache. Benchmarks only; pod allocation always reads the cache."""
    kube_ovn_subnet_walk: bool = False
    """Before each subnet reconcile, read every alive pod's NADs through ``nad_lookup``, as
    Kube-OVN 1.13 did (see :mod:`ovnctl.controller.kube_ovn_walk`). Benchmarks only."""
    namespaces: tuple[str, ...] = ()
    """Watch only these namespaces (empty: cluster-wide)."""
    ovn_nb: str | None = None
    """OVN northbound remote(s) (``tcp:``/``ssl:IP:PORT``, ``unix:PATH``, comma list).

    None: pure IPAM."""
    ovn_nb_tls: NbTls | None = None
    """Client key, certificate and CA for ``ssl:`` members of ``ovn_nb``."""
    nb_converge_interval: float = 300.0
    """Seconds between comparisons of the NB with the desired switches and ports."""
    leader_election: LeaseSettings | None = None
    """Campaign for this Lease and allocate only while holding it (None: always allocate)."""
    webhook: WebhookSettings | None = None
    """Serve the Subnet validating admission webhook here (None: no webhook server)."""


class Controller:
    """Caches, queues, pools and reconcilers for one cluster connection."""

    def __init__(
        self,
        *,
        settings: ControllerSettings,
        metrics: MetricsSink | None = None,
        northbound_metrics: NorthboundMetrics | None = None,
    ) -> None:
        self.settings = settings
        # Without --ovn-nb this is the pure-IPAM stand-in, which writes nothing anywhere.
        self.northbound: Northbound = build_northbound(
            settings.ovn_nb, tls=settings.ovn_nb_tls, metrics=northbound_metrics
        )
        identity = settings.leader_election.identity if settings.leader_election else None
        user_agent = f"ovnctl/{__version__} ({identity})" if identity else None
        self.api = connect(
            kubeconfig=settings.kubeconfig,
            max_concurrency=settings.api_concurrency,
            user_agent=user_agent,
        )
        indexes = build_indexes()
        self.ipam = IPAM()
        self.ledger = NicLedger()
        self.events = EventRecorder(api=self.api)
        self.gate = ReadinessGate((CACHES_LISTED, IPAM_REBUILT))
        self.waits: WaitList[PodKey] = WaitList()
        self.subnet_queue: RateLimitingQueue[str] = RateLimitingQueue(
            name="subnets", metrics=metrics
        )
        self.pod_queue: RateLimitingQueue[PodKey] = RateLimitingQueue(name="pods", metrics=metrics)
        self.vm_queue: RateLimitingQueue[OwnerKey] = RateLimitingQueue(name="vms", metrics=metrics)
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
        self.router = KeyRouter(
            subnets=self.subnets,
            pods=self.pods,
            subnet_queue=self.subnet_queue,
            pod_queue=self.pod_queue,
            vm_queue=self.vm_queue,
            waits=self.waits,
            refused=lambda: self.subnet_reconciler.refused,
            rivals=lambda name: self.subnet_reconciler.rivals_of(name),
            own_patch=lambda key, record: self.pod_reconciler.is_echo(key, record),
        )
        # Addresses users pin (IPPools, ip_pool, Vips, StatefulSet pods, IPAMClaims):
        # their informers, queues and rules live in ovnctl.controller.pinned.
        self.pinned = PinnedAddresses(
            indexes=indexes,
            subnets=self.subnets,
            ipam=self.ipam,
            api=self.api,
            serves=lambda name: self.subnet_reconciler.serves(name),
            wake=self.router.wake,
            ledger=self.ledger,
            requeue_pod=self.pod_queue.add,
            pods=self.pods,
            events=self.events,
            usage_changed=lambda subnet: self._usage_changed(subnet),
            metrics=metrics,
        )
        self._informers = build_informers(
            indexes=indexes,
            configuration=self.api.configuration,
            hooks=self.router,
            namespaces=settings.namespaces,
            user_agent=user_agent,
            pinned=self.pinned,
        )
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
            webhook=settings.webhook,
            identity=identity,
        )
        lookup = self._cached_nad if settings.nad_lookup == "cache" else self._live_nad
        self.kube_ovn_walk: KubeOvnSubnetWalk | None = None
        if settings.kube_ovn_subnet_walk:
            self.kube_ovn_walk = KubeOvnSubnetWalk(pods=self.pods, nad_lookup=lookup)
        self.subnet_reconciler = SubnetReconciler(
            subnets=self.subnets,
            nad_lookup=lookup,
            ipam=self.ipam,
            api=self.api,
            events=self.events,
            northbound=self.northbound,
            spec_version=lambda: self.router.spec_version,
        )
        self.releaser = NicReleaser(
            api=self.api,
            ipam=self.ipam,
            ledger=self.ledger,
            on_subnet_freed=self._usage_changed,
            on_nic_settled=lambda nic: self.router.wake(nic_topic(nic)),
            northbound=self.northbound,
            has_switch=self.subnet_reconciler.switches.__contains__,
        )
        planner = NicPlanner(
            nads=self.nads,
            subnets=self.subnets,
            serving=self.subnet_reconciler.serves,
            has_room=self._has_room,
            primary_network=settings.primary_network,
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
        self._pools: list[WorkerPool[Any]] = []
        self._stop = asyncio.Event()
        self._startup: asyncio.Task[None] | None = None
        self._gc: asyncio.Task[None] | None = None
        self._resync: asyncio.Task[None] | None = None
        self._converge: asyncio.Task[None] | None = None
        # Row events on ovnctl's NB rows: repaired within a second (docs/ovn.md).
        self.drift = DriftRepair(northbound=self.northbound, desired=self._desired_subset)
        self.northbound.watch_drift(self.drift.sink)
        self._handle_signals = False
        self.elector: LeaderElector | None = None
        self._election: asyncio.Task[None] | None = None
        self.lost_leadership = False
        self.startup_failed = False
        if settings.leader_election is not None:
            self.elector = LeaderElector(
                api=self.api.sibling(max_concurrency=2), settings=settings.leader_election
            )
            # Every write of this replica is refused unless it surely holds the Lease.
            self.api.set_write_fence(self.elector.may_write)

    @property
    def watching(self) -> bool:
        """True while every informer's thread and Kopf's tasks run (what /healthz reports)."""
        return (
            bool(self._informers)
            and all(informer.alive for informer in self._informers)
            and self.kopf.alive
        )

    def handle_signals(self) -> None:
        """Make SIGTERM and SIGINT stop gracefully: drain the workers, release the Lease.

        For ``ovnctl run`` and ``ovnctl demo --keep`` (the main thread); tests don't.
        """
        self._handle_signals = True

    @property
    def state(self) -> ControllerState:
        """Where this replica is (see :class:`ControllerState`); the NB's health is not
        part of it (``northbound.connected``; /readyz reports both)."""
        if self._stop.is_set():
            return ControllerState.STOPPING
        if self.gate.ready:
            return ControllerState.LEADING
        if CACHES_LISTED not in self.gate.missing:
            return ControllerState.STANDBY
        return ControllerState.STARTING

    # -- wiring between reconcilers -----------------------------------------------------

    def _has_room(self, subnet: str) -> bool:
        if subnet not in self.ipam:
            return False
        pool = self.ipam.subnet(subnet)
        return all(pool.pool(family).free for family in pool.families)

    def _usage_changed(self, subnet: str) -> None:
        self.router.usage_changed(subnet)
        self.pinned.usage_changed(subnet)

    async def _reconcile_subnet(self, name: str) -> Result:
        if self.kube_ovn_walk is not None:
            record = self.subnets.get(name)
            # Where Kube-OVN walks: a live subnet, before the status that makes it Ready.
            if record is not None and not record.deleting:
                await self.kube_ovn_walk()
        result = await self.subnet_reconciler(name)
        if name in self.subnet_reconciler.serving:
            self.router.subnet_serving(name)
        self.pinned.subnet_reconciled(name)
        return result

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Watch, rebuild, reconcile; return after :meth:`stop` and a graceful drain.

        Shutdown order: the workers stop taking keys and finish what they hold,
        the Lease is released, then the informers stop.
        """
        self.drift.bind(asyncio.get_running_loop())
        await self.northbound.start()
        logger.info("northbound: %s", self.northbound.describe())
        for informer in self._informers:
            informer.start()
        await self.kopf.start()
        if self._handle_signals:
            # After Kopf's start: on the main thread Kopf installs its own handlers,
            # which would stop only Kopf; ours drain the workers and release the Lease.
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, self.stop)
        if self.elector is not None:
            self._election = asyncio.create_task(self._campaign(), name="ovnctl-election")
        self._startup = asyncio.create_task(self._start_workers(), name="ovnctl-startup")
        self._startup.add_done_callback(self._startup_ended)
        try:
            await self._stop.wait()
        finally:
            await self._shutdown()
            await self.kopf.stop()
            for informer in self._informers:
                await informer.stop()

    async def _campaign(self) -> None:
        assert self.elector is not None
        await self.elector.run()
        # run() returns only when the Lease is lost: writes are already fenced; stop,
        # and let the Deployment restart this replica as a fresh candidate.
        self.lost_leadership = True
        logger.error("leadership lost: stopping")
        self.stop()

    def _startup_ended(self, task: asyncio.Task[None]) -> None:
        # A start-up that failed (the IP objects could not be listed for the rebuild,
        # say) must not leave a replica that watches, renews its Lease and never
        # allocates: stop, release the Lease, and exit non-zero so it is restarted
        # (or a standby takes over). A half-done rebuild is never retried in place.
        if task.cancelled() or task.exception() is None:
            return
        self.startup_failed = True
        logger.error("start-up failed, stopping: %s", task.exception())
        self.stop()

    def stop(self) -> None:
        self._stop.set()

    async def wait_ready(self) -> None:
        await self.gate.wait()

    async def _start_workers(self) -> None:
        # No key is worked on until every kind is listed: a half-filled cache would
        # allocate against a partial view (kube-rs' InitDone).
        # Subnets: Kopf's listing ended and every listed Subnet's handler has run
        # (see ovnctl.k8s.kopf_subnets.ListingTracker; not Kopf's index gate).
        await asyncio.gather(
            self.kopf.feed.listed.wait(),
            *(informer.listed.wait() for informer in self._informers),
        )
        self.gate.mark(CACHES_LISTED)
        if self.elector is not None:
            # A standby keeps its watches and caches warm; it rebuilds and works only
            # once it leads, so the rebuild sees every write of the previous leader.
            await self.elector.acquired()
        await rebuild_ipam(
            api=self.api,
            ipam=self.ipam,
            subnets=self.subnets,
            serving_spec=self._serving_spec,
            ledger=self.ledger,
            pods=self.pods.records(),
            reserved=self.pinned.reserved(),
        )
        # Every subnet once, before any pod: pods must find their subnets Ready, or
        # each restart would post a burst of spurious "not Ready" Events. A few at a
        # time: each may write its status, and 1,000 subnets in a row would take long.
        limit = asyncio.Semaphore(max(1, self.settings.api_concurrency // 2))

        async def first_reconcile(name: str) -> None:
            async with limit:
                try:
                    await self._reconcile_subnet(name)
                except Exception as exc:
                    logger.warning("subnet %s: first reconcile failed, queued: %s", name, exc)
                    self.subnet_queue.add(name)

        await asyncio.gather(*(first_reconcile(record.name) for record in list(self.subnets)))
        await self.pinned.first_reconcile()
        self.gate.mark(IPAM_REBUILT)
        if self.northbound.enabled and self.northbound.connected:
            try:
                await self.converge_northbound()
            except NorthboundError as exc:
                logger.warning("northbound convergence at start-up failed, retried: %s", exc)
        settings = self.settings
        for queue, reconcile, workers, dead in (
            (self.subnet_queue, self._reconcile_subnet, settings.subnet_workers, self._dead_subnet),
            (self.pod_queue, self.pod_reconciler, settings.pod_workers, self._dead_pod),
            (self.vm_queue, self.vm_reconciler, settings.vm_workers, None),
        ):
            pool: WorkerPool[Any] = WorkerPool(
                queue=queue,
                reconcile=reconcile,
                workers=workers,
                max_retries=settings.max_retries,
                on_dead_letter=dead,
            )
            self._pools.append(pool)
            pool.start()
        for pinned_pool in self.pinned.worker_pools(max_retries=settings.max_retries):
            self._pools.append(pinned_pool)
            pinned_pool.start()
        self._sweep()
        for pod in self.pods:
            self.pod_queue.add(pod)
        loop = asyncio.get_running_loop()
        self._gc = loop.create_task(self._gc_loop(), name="ovnctl-gc")
        self._resync = loop.create_task(self._resync_loop(), name="ovnctl-resync")
        if self.northbound.enabled:
            self._converge = loop.create_task(self._converge_loop(), name="ovnctl-nb-converge")
            self.drift.start()
        logger.info(
            "ovnctl ready: %d subnets, %d NADs, %d pods cached; %d NICs recorded",
            len(self.subnets),
            len(self.nads),
            len(self.pods),
            len(self.ledger),
        )

    def _sweep(self) -> None:
        """Queue every recorded owner the caches no longer show: released if truly gone."""
        for key in self.ledger.pods():
            if self.pods.get(*key) is None:
                self.pod_queue.add(key)
        for vm in self.ledger.vms():
            self.vm_queue.add(vm)

    async def _gc_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.gc_interval)
            self._sweep()

    async def _converge_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.nb_converge_interval)
            if not self.northbound.connected:
                continue
            try:
                await self.converge_northbound()
            except NorthboundError as exc:
                logger.warning(
                    "northbound convergence failed, next in %.0fs: %s",
                    self.settings.nb_converge_interval,
                    exc,
                )

    async def converge_northbound(self) -> ConvergeReport:
        """Make the NB hold exactly the switches and ports the IPAM says should exist;
        rows ovnctl does not own are never touched (see :mod:`ovnctl.reconcilers.northbound`)."""
        switches, ports = desired_northbound(
            switches=self.subnet_reconciler.switches,
            ipam=self.ipam,
            ledger=self.ledger,
            subnets=self.subnets,
        )
        report = await self.northbound.converge(switches, ports)
        if report.changed:
            logger.info("northbound converged: %s", report.summary())
        return report

    def _desired_subset(
        self, switch_names: set[str], port_names: set[str]
    ) -> tuple[list[SwitchSpec], list[PortSpec]]:
        return desired_subset(
            switch_names,
            port_names,
            switches=self.subnet_reconciler.switches,
            ipam=self.ipam,
            ledger=self.ledger,
            subnets=self.subnets,
        )

    async def _resync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.resync_interval)
            self.resync()

    def resync(self) -> None:
        """Re-LIST every kind a reflector watches (page by page, in the informers' threads).

        Each snapshot replaces the cache whole and reports only what differs, so
        anything missed (an event lost in a watch gap) is found and reconciled.
        Minutes apart by default: a full LIST of 100k pods is real load. Subnets
        (Kopf's) are re-listed by Kopf after ``410 Gone``; that re-list is diffed too.
        """
        for informer in self._informers:
            informer.request_relist()

    async def _serving_spec(self, record: SubnetRecord) -> SubnetSpec | None:
        return (await self.subnet_reconciler.evaluate(record)).spec

    async def _shutdown(self) -> list[ShutdownReport[Any]]:
        await self.drift.close()
        for task in (self._startup, self._gc, self._resync, self._converge):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        reports = [await pool.stop(grace=self.settings.shutdown_grace) for pool in self._pools]
        for report in reports:
            if not report.complete:
                logger.warning("shutdown left work undone: %s", report.summary())
        if self._election is not None:
            self._election.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._election
        if self.elector is not None:
            await self.elector.release()
            self.elector.close()
        await self.northbound.close()
        await self.api.aclose()
        return reports

    async def _dead_subnet(self, name: str, error: BaseException) -> None:
        await self.events.warning(
            InvolvedObject(api_version="kubeovn.io/v1", kind="Subnet", name=name),
            reason="ReconcileFailed",
            message=f"gave up after {self.settings.max_retries} retries: {error}",
        )

    async def _dead_pod(self, key: PodKey, error: BaseException) -> None:
        await self.events.warning(
            InvolvedObject(api_version="v1", kind="Pod", name=key[1], namespace=key[0]),
            reason="AllocationFailed",
            message=f"gave up after {self.settings.max_retries} retries: {error}",
        )

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

    # -- NAD lookups -----------------------------------------------------------------------

    async def _cached_nad(self, namespace: str, name: str) -> NadConfig | None:
        return self.nads.get(namespace, name)

    async def _live_nad(self, namespace: str, name: str) -> NadConfig | None:
        # The pre-cache behaviour Kube-OVN #5353 measured; kept only so benchmarks can
        # show the difference in one run.
        try:
            body = await self.api.get(NADS, name=name, namespace=namespace)
        except NotFound:
            return None
        return parse_nad(body=body)
