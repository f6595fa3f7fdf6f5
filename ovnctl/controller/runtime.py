"""One running controller: from watch events to reconciled keys.

Start-up order matters for correctness: every informer lists its kind into
the indexes first, and Kopf lists the Subnets (:mod:`ovnctl.k8s.kopf_subnets`;
no key is reconciled before all have); then the IPAM and
the NIC ledger are rebuilt from the IP objects; then every subnet is reconciled once,
so pods find their subnets Ready; only then do the worker pools start taking
keys. Keys that arrive meanwhile wait, de-duplicated, in the queues.

Three queues, as Kube-OVN has per-kind queues: subnets, pods and VMs, each
with its own worker pool, so subnet churn never starves pod allocation. The
parts themselves are built and connected in :mod:`.wiring`; this module runs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import Any

from ovnctl.caches import PodKey, ReadinessGate, SubnetRecord
from ovnctl.controller.lifecycle import ControllerState
from ovnctl.controller.settings import ControllerSettings
from ovnctl.controller.wiring import ControllerParts
from ovnctl.k8s.events import InvolvedObject
from ovnctl.models.subnet import SubnetSpec
from ovnctl.ovn import (
    ConvergeReport,
    NorthboundError,
    NorthboundMetrics,
    PortSpec,
    SwitchSpec,
)
from ovnctl.queue import (
    MetricsSink,
    Result,
    ShutdownReport,
    WorkerPool,
)
from ovnctl.reconcilers.drift import DriftRepair
from ovnctl.reconcilers.northbound import desired_northbound, desired_subset
from ovnctl.reconcilers.rebuild import rebuild_ipam

__all__ = ["Controller", "ControllerSettings"]

logger = logging.getLogger(__name__)

CACHES_LISTED = "caches listed"
IPAM_REBUILT = "IPAM rebuilt"


class Controller(ControllerParts):
    """Caches, queues, pools and reconcilers for one cluster connection (built by
    :class:`~.wiring.ControllerParts`), and how they run."""

    def __init__(
        self,
        *,
        settings: ControllerSettings,
        metrics: MetricsSink | None = None,
        northbound_metrics: NorthboundMetrics | None = None,
    ) -> None:
        super().__init__(settings=settings, metrics=metrics, northbound_metrics=northbound_metrics)
        self.gate = ReadinessGate((CACHES_LISTED, IPAM_REBUILT))
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
        self._election: asyncio.Task[None] | None = None
        self.lost_leadership = False
        self.startup_failed = False

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

    # -- reconciles as the workers run them ------------------------------------------------

    async def _reconcile_subnet(self, name: str) -> Result:
        result = await self.subnet_reconciler(name)
        if self.subnet_states.ready(name):
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
            switches=self.subnet_states.switches,
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
            switches=self.subnet_states.switches,
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
