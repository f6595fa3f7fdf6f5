"""Informers: watched kinds kept in indexes on the event loop, changes reported as keys.

Why not Kopf's indexes: Kopf runs a worker per object and, while listing,
every object's worker drops a toggle that wakes every other waiting worker,
so start-up grows with the square of the objects listed (measured at commit
e4c3e0633: 1,000, 2,000 and 4,000 pods ready after 5.2, 24 and 87 s; 10,000
not within minutes), and it keeps ~17 KB of state per object. At 100k pods neither is acceptable.
Here each kind has one :class:`~ovnctl.k8s.reflector.Reflector` thread; its
snapshots and events are applied on the loop to shared
:class:`~ovnctl.caches.index.MultiIndex` es through the same pure index
functions, and each change is reported once through :class:`WatchHooks`,
which only enqueues keys. A snapshot replaces the old state whole, so objects
deleted during a watch gap are reported deleted (Kopf would keep them).

The Subnet kind is the exception: Kopf watches it (:mod:`ovnctl.k8s.kopf_subnets`)
and feeds the same kind of :class:`IndexFeed` object by object, without a
reflector; Subnets are few, and Kopf is linear as long as nothing uses
``@kopf.index``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from typing import Any, Protocol

import kubernetes.client

from ovnctl.caches import (
    index_by_namespaced_name,
    index_ipamclaim,
    index_ippool_by_name,
    index_ippool_by_namespace,
    index_nad_by_key,
    index_namespace_pools,
    index_pod_by_key,
    index_pod_by_vm,
    index_pod_without_primary,
    index_statefulset,
    index_subnet_by_name,
    index_subnet_by_namespace,
    index_subnet_by_provider,
    index_subnet_default,
    index_vip_by_name,
)
from ovnctl.caches.index import MultiIndex
from ovnctl.k8s.api import Resource
from ovnctl.k8s.reflector import Reflector
from ovnctl.k8s.resources import (
    IPAMCLAIMS,
    IPPOOLS,
    NADS,
    NAMESPACES,
    PODS,
    STATEFULSETS,
    VIPS,
    VIRTUAL_MACHINE_INSTANCES,
    VIRTUAL_MACHINES,
)
from ovnctl.models import object_meta, pod_owner

__all__ = [
    "IPAMCLAIMS_BY_KEY",
    "IPPOOLS_BY_NAME",
    "IPPOOLS_BY_NAMESPACE",
    "NADS_BY_KEY",
    "NAMESPACE_POOLS",
    "PODS_BY_KEY",
    "PODS_BY_VM",
    "PODS_WITHOUT_PRIMARY",
    "STATEFULSETS_BY_KEY",
    "SUBNETS_BY_NAME",
    "SUBNETS_BY_NAMESPACE",
    "SUBNETS_BY_PROVIDER",
    "SUBNETS_DEFAULT",
    "VIPS_BY_NAME",
    "VMIS",
    "VMS",
    "IndexFeed",
    "Informer",
    "PinnedHooks",
    "WatchHooks",
    "build_indexes",
    "build_informers",
    "build_subnet_feed",
]

NADS_BY_KEY = "nads_by_key"
SUBNETS_BY_NAME = "subnets_by_name"
SUBNETS_BY_PROVIDER = "subnets_by_provider"
SUBNETS_BY_NAMESPACE = "subnets_by_namespace"
SUBNETS_DEFAULT = "subnets_default"
PODS_BY_KEY = "pods_by_key"
PODS_BY_VM = "pods_by_vm"
PODS_WITHOUT_PRIMARY = "pods_without_primary"
VMS = "vms"
VMIS = "vmis"
IPPOOLS_BY_NAME = "ippools_by_name"
IPPOOLS_BY_NAMESPACE = "ippools_by_namespace"
STATEFULSETS_BY_KEY = "statefulsets_by_key"
VIPS_BY_NAME = "vips_by_name"
IPAMCLAIMS_BY_KEY = "ipamclaims_by_key"
NAMESPACE_POOLS = "namespace_pools"

IndexFn = Callable[[Mapping[str, Any]], Mapping[Any, Any]]
ObjectKey = tuple[str, str]
Changed = Callable[[str, ObjectKey, Any], None]


class WatchHooks(Protocol):
    """What the informers tell the controller. Implementations must not block."""

    def nad_changed(self, namespace: str, name: str) -> None:
        """A NetworkAttachmentDefinition was created, changed or deleted."""

    def subnet_changed(self, name: str) -> None:
        """A Subnet was created, changed or deleted."""

    def pod_changed(self, namespace: str, name: str, *, vm: str | None) -> None:
        """A pod was created, changed or deleted; ``vm`` names its KubeVirt VM, if any."""

    def vm_changed(self, namespace: str, name: str) -> None:
        """A VirtualMachine or VirtualMachineInstance was created, changed or deleted."""


class PinnedHooks(Protocol):
    """What the informers of pinned-address kinds tell the controller (see
    :mod:`ovnctl.controller.pinned`). Implementations must not block."""

    def ippool_changed(self, name: str) -> None:
        """An IPPool was created, changed or deleted."""

    def statefulset_changed(self, namespace: str, name: str) -> None:
        """A StatefulSet was created, changed (replicas, uid) or deleted."""

    def vip_changed(self, name: str) -> None:
        """A Vip was created, changed or deleted."""

    def ipamclaim_changed(self, namespace: str, name: str) -> None:
        """An IPAMClaim was created, changed or deleted."""

    def namespace_changed(self, name: str) -> None:
        """A Namespace was created, changed or deleted (its ``ip_pool`` annotation)."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Reduced:
    key: ObjectKey
    entries: tuple[tuple[tuple[Any, Any], ...], ...]
    """Per indexer, in order, its ``(key, value)`` pairs: a LIST holds one of these per
    object until its snapshot is applied, so it is kept small (tuples, not dicts)."""
    extra: Any
    fingerprint: int


_KINDS = ("", "ADDED", "MODIFIED")


class IndexFeed:
    """Indexes fed object by object, each change reported once through ``on_change``.

    What a watch of one kind does to the caches, whoever runs the watch: an
    :class:`Informer`'s reflector thread, or Kopf's watcher for the Subnets
    (:mod:`ovnctl.k8s.kopf_subnets`). ``reduce`` runs the index functions; the
    ``apply_*`` methods run on the event loop.
    """

    def __init__(
        self,
        *,
        indexers: Sequence[tuple[MultiIndex[Any, Any], IndexFn]],
        on_change: Changed,
        extra: Callable[[Mapping[str, Any]], Any] = lambda body: None,
    ) -> None:
        self._indexers = [(str(i), index, fn) for i, (index, fn) in enumerate(indexers)]
        self._on_change = on_change
        self._extra = extra
        self._known: dict[ObjectKey, tuple[int, Any]] = {}
        self.listed = asyncio.Event()
        """Set once the first complete listing is in the indexes."""

    def reduce(self, body: Mapping[str, Any]) -> _Reduced:
        """The index entries of one object (thread-safe: pure)."""
        meta = object_meta(body)
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        entries = tuple(tuple(fn(body).items()) for _, _, fn in self._indexers)
        fingerprint = hash(tuple(frozenset(e) for e in entries))
        return _Reduced(key, entries, self._extra(body), fingerprint)

    def apply_snapshot(self, items: list[_Reduced]) -> None:
        """A complete listing: replaces the indexes whole, reporting what differs."""
        # The whole snapshot is stored before anyone is told: whoever reacts to the
        # first change already sees every other one (and derives things once).
        # What was done to each item is one byte (0 nothing, else an index of _KINDS),
        # not a tuple: at 50,000 pods every transient object per item stays in the heap
        # as free space once the listing is done (see docs/bench.md, memory).
        deleted: list[tuple[ObjectKey, Any]] = []
        if self._known:  # a re-list: what it does not show was deleted
            fresh = {item.key for item in items}
            for key in [k for k in self._known if k not in fresh]:
                _, extra = self._known.pop(key)
                self._discard(key)
                deleted.append((key, extra))
        done = bytearray(len(items))
        for n, item in enumerate(items):
            before = self._known.get(item.key)
            if before is not None and before[0] == item.fingerprint:
                continue  # a re-list that found nothing new: nothing to report
            self._store(item)
            done[n] = 2 if before else 1
        for key, extra in deleted:
            self._on_change("DELETED", key, extra)
        for n, item in enumerate(items):
            if done[n]:
                self._on_change(_KINDS[done[n]], item.key, item.extra)
        self.listed.set()

    def apply_event(self, kind: str, item: _Reduced) -> None:
        """One watch event (``ADDED``, ``MODIFIED`` or ``DELETED``).

        An object whose index entries did not change is not reported, as in a
        re-list: most updates of a pod on a real cluster are the kubelet's status
        (conditions, container states), which nothing ovnctl keeps depends on, and
        each would otherwise cost a reconcile that finds nothing to do.
        """
        if kind == "DELETED":
            known = self._known.pop(item.key, None)
            self._discard(item.key)
            self._on_change(kind, item.key, known[1] if known else item.extra)
            return
        before = self._known.get(item.key)
        if before is not None and before[0] == item.fingerprint:
            return
        self._store(item)
        self._on_change(kind, item.key, item.extra)

    def forget_missing(self, present: Collection[ObjectKey]) -> None:
        """After a re-list seen object by object: what it did not show was deleted."""
        for key in [k for k in self._known if k not in present]:
            _, extra = self._known.pop(key)
            self._discard(key)
            self._on_change("DELETED", key, extra)

    def _store(self, item: _Reduced) -> None:
        self._known[item.key] = (item.fingerprint, item.extra)
        for (_, index, _), entries in zip(self._indexers, item.entries, strict=True):
            index.replace_items(item.key, entries)

    def _discard(self, key: Hashable) -> None:
        for _, index, _ in self._indexers:
            index.discard(key)

    def __len__(self) -> int:
        return len(self._known)


class Informer(IndexFeed):
    """One resource (in one namespace, or all): a reflector thread feeding indexes."""

    def __init__(
        self,
        *,
        configuration: kubernetes.client.Configuration,
        resource: Resource,
        indexers: Sequence[tuple[MultiIndex[Any, Any], IndexFn]],
        on_change: Changed,
        extra: Callable[[Mapping[str, Any]], Any] = lambda body: None,
        namespace: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        super().__init__(indexers=indexers, on_change=on_change, extra=extra)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.reflector: Reflector[_Reduced] = Reflector(
            configuration=configuration,
            resource=resource,
            reduce=self.reduce,
            on_snapshot=lambda items: self._post(self.apply_snapshot, items),
            on_event=lambda kind, item: self._post(self.apply_event, kind, item),
            namespace=namespace,
            user_agent=user_agent,
        )
        self._thread: threading.Thread | None = None

    def _post(self, fn: Callable[..., None], *args: Any) -> None:
        # Called on the reflector's thread: the indexes are only touched on the loop.
        assert self._loop is not None
        self._loop.call_soon_threadsafe(fn, *args)

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.Thread(
            target=self.reflector.run, name=f"informer {self.reflector.name}", daemon=True
        )
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def request_relist(self) -> None:
        self.reflector.request_relist()

    async def stop(self) -> None:
        self.reflector.stop()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)


def _vm_of(body: Mapping[str, Any]) -> str | None:
    owner = pod_owner(pod=body)
    return owner.name if owner.is_vm else None


def build_indexes() -> dict[str, MultiIndex[Any, Any]]:
    """The (empty) indexes the caches read, by name; :func:`build_informers` fills them."""
    return {
        name: MultiIndex()
        for name in (
            NADS_BY_KEY,
            SUBNETS_BY_NAME,
            SUBNETS_BY_PROVIDER,
            SUBNETS_BY_NAMESPACE,
            SUBNETS_DEFAULT,
            PODS_BY_KEY,
            PODS_BY_VM,
            PODS_WITHOUT_PRIMARY,
            VMS,
            VMIS,
            IPPOOLS_BY_NAME,
            IPPOOLS_BY_NAMESPACE,
            STATEFULSETS_BY_KEY,
            VIPS_BY_NAME,
            IPAMCLAIMS_BY_KEY,
            NAMESPACE_POOLS,
        )
    }


def build_subnet_feed(
    *, indexes: Mapping[str, MultiIndex[Any, Any]], hooks: WatchHooks
) -> IndexFeed:
    """The Subnet indexes' feed. Kopf's watch fills it (:mod:`ovnctl.k8s.kopf_subnets`),
    not a reflector: one LIST+WATCH of Subnets per start, and it is Kopf's."""
    return IndexFeed(
        indexers=[
            (indexes[SUBNETS_BY_NAME], index_subnet_by_name),
            (indexes[SUBNETS_BY_PROVIDER], index_subnet_by_provider),
            (indexes[SUBNETS_BY_NAMESPACE], index_subnet_by_namespace),
            (indexes[SUBNETS_DEFAULT], index_subnet_default),
        ],
        on_change=lambda kind, key, extra: hooks.subnet_changed(key[1]),
    )


def build_informers(
    *,
    indexes: Mapping[str, MultiIndex[Any, Any]],
    configuration: kubernetes.client.Configuration,
    hooks: WatchHooks,
    namespaces: tuple[str, ...] = (),
    user_agent: str | None = None,
    pinned: PinnedHooks | None = None,
) -> list[Informer]:
    """The informers that fill ``indexes``: one per bulk kind (and namespace, when the
    controller is limited to some). Subnets are Kopf's: see :func:`build_subnet_feed`.
    ``pinned``: also watch the kinds of pinned addresses (IPPools, StatefulSets, Vips,
    IPAMClaims, namespaces' ``ip_pool``), reported to it."""
    kinds: list[tuple[Resource, list[tuple[MultiIndex[Any, Any], IndexFn]], Changed, Any]] = [
        (
            NADS,
            [(indexes[NADS_BY_KEY], index_nad_by_key)],
            lambda kind, key, extra: hooks.nad_changed(*key),
            None,
        ),
        (
            PODS,
            [
                (indexes[PODS_BY_KEY], index_pod_by_key),
                (indexes[PODS_BY_VM], index_pod_by_vm),
                (indexes[PODS_WITHOUT_PRIMARY], index_pod_without_primary),
            ],
            lambda kind, key, vm: hooks.pod_changed(key[0], key[1], vm=vm),
            _vm_of,
        ),
        (
            VIRTUAL_MACHINES,
            [(indexes[VMS], index_by_namespaced_name)],
            lambda kind, key, extra: hooks.vm_changed(*key),
            None,
        ),
        (
            VIRTUAL_MACHINE_INSTANCES,
            [(indexes[VMIS], index_by_namespaced_name)],
            lambda kind, key, extra: hooks.vm_changed(*key),
            None,
        ),
    ]
    if pinned is not None:
        kinds.append(
            (
                IPPOOLS,
                [
                    (indexes[IPPOOLS_BY_NAME], index_ippool_by_name),
                    (indexes[IPPOOLS_BY_NAMESPACE], index_ippool_by_namespace),
                ],
                lambda kind, key, extra: pinned.ippool_changed(key[1]),
                None,
            )
        )
        kinds.append(
            (
                STATEFULSETS,
                [(indexes[STATEFULSETS_BY_KEY], index_statefulset)],
                lambda kind, key, extra: pinned.statefulset_changed(*key),
                None,
            )
        )
        kinds.append(
            (
                VIPS,
                [(indexes[VIPS_BY_NAME], index_vip_by_name)],
                lambda kind, key, extra: pinned.vip_changed(key[1]),
                None,
            )
        )
        kinds.append(
            (
                IPAMCLAIMS,
                [(indexes[IPAMCLAIMS_BY_KEY], index_ipamclaim)],
                lambda kind, key, extra: pinned.ipamclaim_changed(*key),
                None,
            )
        )
        kinds.append(
            (
                NAMESPACES,
                [(indexes[NAMESPACE_POOLS], index_namespace_pools)],
                lambda kind, key, extra: pinned.namespace_changed(key[1]),
                None,
            )
        )
    informers: list[Informer] = []
    for resource, indexers, on_change, extra in kinds:
        scopes: tuple[str | None, ...] = (
            namespaces if namespaces and resource.namespaced else (None,)
        )
        for namespace in scopes:
            informers.append(
                Informer(
                    configuration=configuration,
                    resource=resource,
                    indexers=indexers,
                    on_change=on_change,
                    extra=extra or (lambda body: None),
                    namespace=namespace,
                    user_agent=user_agent,
                )
            )
    return informers
