"""One running controller: from watch events to reconciled keys.

Start-up order matters for correctness: Kopf lists every watched kind into
the indexes first (it runs no handler before that), then the IPAM is rebuilt
from the IP objects, and only then do the workers start taking keys. Keys
that arrive meanwhile wait, de-duplicated, in the queues.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any, Literal

from ovnctl.caches import NadCache, ReadinessGate, SubnetCache
from ovnctl.ipam import IPAM
from ovnctl.k8s.api import NotFound
from ovnctl.k8s.connection import connect
from ovnctl.k8s.events import EventRecorder, InvolvedObject
from ovnctl.k8s.handlers import (
    NADS_BY_KEY,
    SUBNETS_BY_NAME,
    SUBNETS_BY_NAMESPACE,
    SUBNETS_BY_PROVIDER,
    SUBNETS_DEFAULT,
    IndexMapping,
)
from ovnctl.k8s.resources import NADS
from ovnctl.k8s.watching import run_watches
from ovnctl.models import NadConfig, parse_nad
from ovnctl.models.subnet import SubnetSpec
from ovnctl.queue import MetricsSink, RateLimitingQueue, ShutdownReport, WorkerPool
from ovnctl.reconcilers.rebuild import rebuild_ipam
from ovnctl.reconcilers.subnet import SubnetReconciler

__all__ = ["Controller", "ControllerSettings"]

logger = logging.getLogger(__name__)

CACHES_LISTED = "caches listed"
IPAM_REBUILT = "IPAM rebuilt"


@dataclasses.dataclass(frozen=True, slots=True)
class ControllerSettings:
    """What an operator of ovnctl can tune; the CLI maps flags onto these."""

    kubeconfig: str | None = None
    subnet_workers: int = 4
    max_retries: int = 15
    api_concurrency: int = 16
    shutdown_grace: float = 10.0
    nad_lookup: Literal["cache", "live"] = "cache"
    """``live`` restores the pre-cache behaviour (a GET per NAD lookup): benchmarks only."""
    namespaces: tuple[str, ...] = ()
    """Watch only these namespaces (empty: cluster-wide)."""


class Controller:
    """Caches, queues, pools and reconcilers for one cluster connection."""

    def __init__(self, *, settings: ControllerSettings, metrics: MetricsSink | None = None) -> None:
        self.settings = settings
        self.api, self._connection = connect(
            kubeconfig=settings.kubeconfig, max_concurrency=settings.api_concurrency
        )
        self.ipam = IPAM()
        self.events = EventRecorder(api=self.api)
        self.gate = ReadinessGate((CACHES_LISTED, IPAM_REBUILT))
        self.subnet_queue: RateLimitingQueue[str] = RateLimitingQueue(
            name="subnets", metrics=metrics
        )
        self.nads: NadCache | None = None
        self.subnets: SubnetCache | None = None
        self.subnet_reconciler: SubnetReconciler | None = None
        self._pools: list[WorkerPool[Any]] = []
        self._stop = asyncio.Event()
        self._startup: asyncio.Task[None] | None = None

    # -- watch hooks (called from Kopf handlers: enqueue only, never block) -------------

    def attach_indices(self, indices: Mapping[str, IndexMapping]) -> None:
        self.nads = NadCache(by_key=indices[NADS_BY_KEY])
        self.subnets = SubnetCache(
            by_name=indices[SUBNETS_BY_NAME],
            by_provider=indices[SUBNETS_BY_PROVIDER],
            by_namespace=indices[SUBNETS_BY_NAMESPACE],
            default=indices[SUBNETS_DEFAULT],
        )
        lookup = self._cached_nad if self.settings.nad_lookup == "cache" else self._live_nad
        self.subnet_reconciler = SubnetReconciler(
            subnets=self.subnets,
            nad_lookup=lookup,
            ipam=self.ipam,
            api=self.api,
            events=self.events,
        )

    def caches_listed(self) -> None:
        if self._startup is None:
            self.gate.mark(CACHES_LISTED)
            self._startup = asyncio.get_running_loop().create_task(
                self._start_workers(), name="ovnctl-startup"
            )

    def subnet_changed(self, name: str) -> None:
        self.subnet_queue.add(name)
        if self.subnets is None or self.subnet_reconciler is None:
            return
        # A change can start or end a conflict with subnets of the same provider, or
        # with other default subnets; refused subnets may recover.
        record = self.subnets.get(name)
        related: set[str] = set(self.subnet_reconciler.refused)
        if record is not None:
            related.update(self.subnets.names_for_provider(record.provider))
            if record.spec is not None and record.spec.default:
                related.update(self.subnets.default_names())
        for other in related:
            self.subnet_queue.add(other)

    def nad_changed(self, namespace: str, name: str) -> None:
        if self.subnets is None:
            return
        for provider in (f"{name}.{namespace}", f"{name}.{namespace}.ovn"):
            for subnet in self.subnets.names_for_provider(provider):
                self.subnet_queue.add(subnet)

    # -- lifecycle -------------------------------------------------------------------------

    async def run(self) -> None:
        """Watch, rebuild, reconcile; return after :meth:`stop` and a graceful drain.

        Shutdown order: the workers stop taking keys and finish what they hold,
        then the watches stop. Kopf cancels every task still running when it
        exits, so the pools must be done before it is asked to stop.
        """
        watches_stop = asyncio.Event()
        watches = asyncio.create_task(
            run_watches(
                hooks=self,
                connection=self._connection,
                stop_flag=watches_stop,
                namespaces=self.settings.namespaces,
            ),
            name="ovnctl-watches",
        )
        stop_requested = asyncio.create_task(self._stop.wait(), name="ovnctl-stop")
        try:
            await asyncio.wait({watches, stop_requested}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop_requested.cancel()
            await self._shutdown()
            watches_stop.set()
            await watches

    def stop(self) -> None:
        self._stop.set()

    async def wait_ready(self) -> None:
        await self.gate.wait()

    async def _start_workers(self) -> None:
        assert self.subnets is not None
        assert self.subnet_reconciler is not None
        reconciler = self.subnet_reconciler
        await rebuild_ipam(
            api=self.api,
            ipam=self.ipam,
            subnets=self.subnets,
            serving_spec=self._serving_spec,
        )
        self.gate.mark(IPAM_REBUILT)
        pool: WorkerPool[str] = WorkerPool(
            queue=self.subnet_queue,
            reconcile=reconciler,
            workers=self.settings.subnet_workers,
            max_retries=self.settings.max_retries,
            on_dead_letter=self._subnet_dead_letter,
        )
        self._pools.append(pool)
        pool.start()
        for record in self.subnets:
            self.subnet_queue.add(record.name)
        logger.info(
            "ovnctl ready: %d subnets, %d NADs cached", len(self.subnets), len(self.nads or ())
        )

    async def _serving_spec(self, record: Any) -> SubnetSpec | None:
        assert self.subnet_reconciler is not None
        return (await self.subnet_reconciler.evaluate(record)).spec

    async def _shutdown(self) -> list[ShutdownReport[Any]]:
        if self._startup is not None and not self._startup.done():
            self._startup.cancel()
        reports = [await pool.stop(grace=self.settings.shutdown_grace) for pool in self._pools]
        for report in reports:
            if not report.complete:
                logger.warning("shutdown left work undone: %s", report)
        self.api.close()
        return reports

    async def _subnet_dead_letter(self, name: str, error: BaseException) -> None:
        await self.events.warning(
            InvolvedObject(api_version="kubeovn.io/v1", kind="Subnet", name=name),
            reason="ReconcileFailed",
            message=f"gave up after {self.settings.max_retries} retries: {error}",
        )

    # -- NAD lookups -----------------------------------------------------------------------

    async def _cached_nad(self, namespace: str, name: str) -> NadConfig | None:
        assert self.nads is not None
        return self.nads.get(namespace, name)

    async def _live_nad(self, namespace: str, name: str) -> NadConfig | None:
        # The pre-cache behaviour Kube-OVN #5353 measured; kept only so benchmarks can
        # show the difference in one run.
        try:
            body = await self.api.get(NADS, name=name, namespace=namespace)
        except NotFound:
            return None
        return parse_nad(body=body)
