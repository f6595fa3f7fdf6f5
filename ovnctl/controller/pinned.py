"""Addresses users pin, wired into one controller: IPPools, Vips, sticky StatefulSet
addresses and IPAMClaims.

Kept apart from the core so that :mod:`.wiring` only creates this object and
the core calls it at four well-marked places (informer hooks, usage changes,
after a subnet reconcile, start-up in :mod:`.runtime`). It implements
:class:`~ovnctl.k8s.informers.PinnedHooks`: an IPPool change enqueues that
pool and every other pool of its subnet (an overlap verdict depends on all of
them) and wakes pods waiting on it. Address usage in a subnet refreshes the
status of the subnet's pools, coalesced like Subnet status. A StatefulSet
whose uid or replicas changed (or that went) sends its recorded pods back to
the pod queue, where :mod:`ovnctl.reconcilers.sticky` decides whether each
gone pod's address is released; status-only StatefulSet events do nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ovnctl.caches import (
    IPAMClaimCache,
    IPPoolCache,
    NamespacePoolCache,
    PodCache,
    PodKey,
    StatefulSetCache,
    StatefulSetRecord,
    SubnetCache,
    VipCache,
)
from ovnctl.caches.index import MultiIndex
from ovnctl.controller.routing import STATUS_COALESCE_SECONDS
from ovnctl.ipam import IPAM, AllocationRecord
from ovnctl.k8s.events import EventRecorder
from ovnctl.k8s.informers import (
    IPAMCLAIMS_BY_KEY,
    IPPOOLS_BY_NAME,
    IPPOOLS_BY_NAMESPACE,
    NAMESPACE_POOLS,
    STATEFULSETS_BY_KEY,
    VIPS_BY_NAME,
)
from ovnctl.k8s.writer import Writer
from ovnctl.models import VIP_KEY_SUFFIX
from ovnctl.queue import MetricsSink, RateLimitingQueue, WorkerPool
from ovnctl.reconcilers.claims import (
    ClaimChooser,
    ClaimReconciler,
    ClaimUse,
    claim_topic,
    keeps_claim,
)
from ovnctl.reconcilers.ippool import IPPoolReconciler
from ovnctl.reconcilers.ledger import NicLedger
from ovnctl.reconcilers.pools import PoolSelector, ippool_topic, namespace_topic, vip_topic
from ovnctl.reconcilers.sticky import StickyAddresses
from ovnctl.reconcilers.vips import VipReconciler, vip_records

__all__ = ["PinnedAddresses"]


class PinnedAddresses:
    """IPPools (cache, queue, reconciler, the planner's pool chooser) and sticky
    StatefulSet addresses (cache, the pod reconciler's keep rule)."""

    def __init__(
        self,
        *,
        indexes: Mapping[str, MultiIndex[Any, Any]],
        subnets: SubnetCache,
        ipam: IPAM,
        api: Writer,
        serves: Callable[[str], bool],
        wake: Callable[[str], None],
        ledger: NicLedger,
        requeue_pod: Callable[[PodKey], None],
        pods: PodCache,
        events: EventRecorder,
        usage_changed: Callable[[str], None],
        metrics: MetricsSink | None = None,
    ) -> None:
        self._pods = pods
        self.vips = VipCache(by_name=indexes[VIPS_BY_NAME])
        self.vip_queue: RateLimitingQueue[str] = RateLimitingQueue(name="vips", metrics=metrics)

        def vip_changed(name: str, subnet: str) -> None:
            usage_changed(subnet)
            wake(vip_topic(name))

        self.vip_reconciler = VipReconciler(
            vips=self.vips,
            subnets=subnets,
            ipam=ipam,
            serves=serves,
            users=self.vip_users,
            api=api,
            events=events,
            on_changed=vip_changed,
        )
        self.pools = IPPoolCache(
            by_name=indexes[IPPOOLS_BY_NAME], by_namespace=indexes[IPPOOLS_BY_NAMESPACE]
        )
        self.queue: RateLimitingQueue[str] = RateLimitingQueue(name="ippools", metrics=metrics)
        self._wake = wake
        self.reconciler = IPPoolReconciler(
            pools=self.pools,
            subnets=subnets,
            ipam=ipam,
            serves=serves,
            api=api,
            on_standing_changed=lambda name: wake(ippool_topic(name)),
        )
        self.selector = PoolSelector(
            pools=self.pools,
            reconciler=self.reconciler,
            subnets=subnets,
            ipam=ipam,
            vips=self.vips,
            vip_users=self.vip_users,
            namespaces=NamespacePoolCache(by_name=indexes[NAMESPACE_POOLS]),
        )
        self._ipam = ipam
        self.claims = IPAMClaimCache(by_key=indexes[IPAMCLAIMS_BY_KEY])
        self.claim_use = ClaimUse(pods)
        self.claim_queue: RateLimitingQueue[tuple[str, str]] = RateLimitingQueue(
            name="ipamclaims", metrics=metrics
        )
        self.claim_checker = ClaimChooser(
            claims=self.claims,
            use=self.claim_use,
            changed=lambda key: self.claim_queue.add_after(key, delay=STATUS_COALESCE_SECONDS),
        )
        self.claim_reconciler = ClaimReconciler(
            claims=self.claims,
            use=self.claim_use,
            ipam=ipam,
            subnets=subnets,
            api=api,
            requeue_pod=requeue_pod,
            ledger=ledger,
        )
        self.statefulsets = StatefulSetCache(by_key=indexes[STATEFULSETS_BY_KEY])
        self.sticky = StickyAddresses(
            ledger=ledger,
            statefulsets=self.statefulsets,
            others=self._keeps_other,
        )
        self._requeue_pod = requeue_pod
        self._statefulsets_seen: dict[tuple[str, str], StatefulSetRecord] = {}
        self._seen: dict[str, tuple[str, str]] = {}
        """name -> (uid, subnet) last seen: a deleted pool's rivals and binding."""

    # -- PinnedHooks ------------------------------------------------------------------------

    def ippool_changed(self, name: str) -> None:
        record = self.pools.get(name)
        before = self._seen.pop(name, None)
        related: set[str] = set()
        if before is not None:
            related.update(self.pools.names_for_subnet(before[1]))
            if record is None or record.uid != before[0]:
                self.reconciler.forget_uid(before[0])
        if record is not None:
            self._seen[name] = (record.uid, record.spec.subnet)
            related.update(self.pools.names_for_subnet(record.spec.subnet))
        self.queue.add(name)
        for other in related - {name}:
            self.queue.add(other)
        self._wake(ippool_topic(name))

    def statefulset_changed(self, namespace: str, name: str) -> None:
        record = self.statefulsets.get(namespace, name)
        key = (namespace, name)
        before = self._statefulsets_seen.get(key)
        if record is not None and before == record:
            return  # a status update: replicas and uid unchanged, nothing to decide
        if record is None:
            self._statefulsets_seen.pop(key, None)
        else:
            self._statefulsets_seen[key] = record
        if before is None:
            return  # new to us: no pod of it was kept because of it
        for pod in self.sticky.pods_to_revisit(namespace, name):
            self._requeue_pod(pod)

    def vip_changed(self, name: str) -> None:
        self.vip_queue.add(name)
        self._wake(vip_topic(name))

    def namespace_changed(self, name: str) -> None:
        self._wake(namespace_topic(name))

    def ipamclaim_changed(self, namespace: str, name: str) -> None:
        self.claim_queue.add((namespace, name))
        self._wake(claim_topic(namespace, name))

    def _keeps_other(self, key: PodKey) -> bool | None:
        """Called for every pod that is gone or finished: a Vip it used is free for the next
        pod (and its deletion may proceed); then the IPAMClaim keep rule."""
        vip = self.selector.vip_of_pod.pop(key, None)
        if vip is not None:
            self.vip_queue.add(vip)
            self._wake(vip_topic(vip))
        return keeps_claim(key, self.claims, self.claim_use, self._requeue_pod)

    def vip_users(self, name: str) -> list[PodKey]:
        """Live pods annotated to use Vip ``name``. A scan of the pod cache: it runs only for
        pods that name a Vip and for a Vip being deleted, both rare."""
        users: list[PodKey] = []
        for record in self._pods.records():
            if record.finished:
                continue
            annotations = record.annotations
            if any(k.endswith(VIP_KEY_SUFFIX) and v == name for k, v in annotations):
                users.append(record.key)
        return users

    def reserved(self) -> list[AllocationRecord]:
        """Vip reservations as their status records them, for the start-up rebuild."""
        return vip_records(self.vips)

    # -- the controller's calls ---------------------------------------------------------------

    def usage_changed(self, subnet: str) -> None:
        """Addresses were taken or freed in ``subnet``: its pools' status follows."""
        for name in self.pools.names_for_subnet(subnet):
            self.queue.add_after(name, delay=STATUS_COALESCE_SECONDS)
        for claim, nic in self.claim_use.nic.items():
            if any(a.subnet == subnet for a in self._ipam.lookup(nic)):
                self.claim_queue.add_after(claim, delay=STATUS_COALESCE_SECONDS)

    def subnet_reconciled(self, subnet: str) -> None:
        """A subnet's spec or readiness may have changed: its pools and Vips are judged
        again."""
        for name in self.pools.names_for_subnet(subnet):
            self.queue.add(name)
        for name in self.vips.names_for_subnet(subnet):
            self.vip_queue.add(name)

    async def first_reconcile(self) -> None:
        """Every pool once, after the subnets and before any pod: a pod of a pool's
        namespace must never get an address outside the pool because the pool was not
        judged yet."""
        for record in list(self.pools):
            self._seen[record.name] = (record.uid, record.spec.subnet)
            await self.reconciler(record.name)
        for vip in list(self.vips):
            self.vip_queue.add(vip.name)

    def worker_pools(self, *, max_retries: int) -> list[WorkerPool[Any]]:
        """One worker each for IPPools, Vips and IPAMClaims: few and cheap."""
        return [
            WorkerPool(
                queue=self.claim_queue,
                reconcile=self.claim_reconciler,
                workers=1,
                max_retries=max_retries,
            ),
            WorkerPool(
                queue=self.queue, reconcile=self.reconciler, workers=1, max_retries=max_retries
            ),
            WorkerPool(
                queue=self.vip_queue,
                reconcile=self.vip_reconciler,
                workers=1,
                max_retries=max_retries,
            ),
        ]
