"""From changes to keys: which queues a watched change (or a reconcile's outcome) feeds.

The informers call the :class:`KeyRouter` (it implements
:class:`~ovnctl.k8s.informers.WatchHooks`) on the event loop, and reconcilers
call it when addresses are taken or freed or a subnet becomes Ready. It only
enqueues keys and wakes pods waiting on a topic; it never blocks and never
calls the API server. Knowing which *other* keys a change concerns (a
subnet's rivals, a NAD's subnets, a VM's other launcher pod, the pods a new
default subnet concerns) lives here, in one place.

Subnets (Kopf's watch) and pods (ovnctl's reflector) arrive on two watches
that are not ordered against each other: a pod created just after the first
default subnet can be reconciled before that subnet is cached, and is then
given no primary address. So when a default subnet appears (or a subnet
becomes the default), the pods holding no primary address that were created
at or after it are queued again; the pod cache indexes those pods by creation
second, so this never scans every pod. Pods created strictly before it keep
their network (see ``NicPlanner._predates``).
"""

from __future__ import annotations

from ovnctl.caches import PodCache, PodKey, SubnetCache, created_seconds
from ovnctl.models import PRIMARY_PROVIDER, nad_providers
from ovnctl.queue import RateLimitingQueue
from ovnctl.reconcilers.echoes import PatchEchoes
from ovnctl.reconcilers.ledger import OwnerKey
from ovnctl.reconcilers.subnet_states import SubnetConflicts, SubnetStateView
from ovnctl.reconcilers.waiting import WaitList, nad_topic, provider_topic, subnet_topic

__all__ = ["STATUS_COALESCE_SECONDS", "KeyRouter"]

STATUS_COALESCE_SECONDS = 0.5
"""Allocations in a burst refresh their subnet's status at most this often."""


class KeyRouter:
    """Turns changes into work-queue keys and wake-ups."""

    def __init__(
        self,
        *,
        subnets: SubnetCache,
        pods: PodCache,
        subnet_queue: RateLimitingQueue[str],
        pod_queue: RateLimitingQueue[PodKey],
        vm_queue: RateLimitingQueue[OwnerKey],
        waits: WaitList[PodKey],
        subnet_states: SubnetStateView,
        conflicts: SubnetConflicts,
        echoes: PatchEchoes,
    ) -> None:
        self._subnets = subnets
        self._pods = pods
        self._subnet_queue = subnet_queue
        self._pod_queue = pod_queue
        self._vm_queue = vm_queue
        self._waits = waits
        self._states = subnet_states
        self._conflicts = conflicts  # told here when the set of specs may have changed
        self._echoes = echoes
        self._subnet_fingerprints: dict[str, tuple[object, ...]] = {}
        self._defaults: set[str] = set()
        """Subnets seen with ``default: true`` (and not being deleted)."""

    # -- watched changes (WatchHooks) -----------------------------------------------------

    def subnet_changed(self, name: str) -> None:
        record = self._subnets.get(name)
        # Most Subnet events are our own status writes (one per allocation burst). Only
        # a change of spec, deletion or finalizers can change what the reconciler
        # decides, so anything else is ignored rather than requeued with its rivals.
        fingerprint = (
            None
            if record is None
            else (record.uid, record.generation, record.deleting, record.finalizers)
        )
        previous = self._subnet_fingerprints.get(name)
        if record is not None and previous == fingerprint:
            return
        if fingerprint is None:
            self._subnet_fingerprints.pop(name, None)
        else:
            self._subnet_fingerprints[name] = fingerprint
        self._subnet_queue.add(name)
        self._track_default(name)
        if fingerprint is not None and previous is not None and previous[:3] == fingerprint[:3]:
            return  # only its finalizers changed: no other subnet's verdict can change
        # The set of specs may have changed (never on a status write): conflicts recompute.
        self._conflicts.specs_changed()
        # A change can start or end a conflict: its rivals now may have to give way,
        # and refused subnets (its rivals before) may recover. Only those, not every
        # subnet of the provider: with thousands of primary subnets that was n^2. A
        # subnet seen for the first time is the junior of any conflict it starts (it
        # gives way itself), so only a change to a known subnet concerns its rivals.
        related: set[str] = set(self._states.refused)
        if record is not None and previous is not None:
            related.update(self._conflicts.rivals_of(name))
            if record.spec is not None and record.spec.default:
                related.update(self._subnets.default_names())
        for other in related:
            self._subnet_queue.add(other)

    def _track_default(self, name: str) -> None:
        """A default subnet that is new to us: requeue the pods it may have raced with."""
        record = self._subnets.get(name)
        if record is None or record.deleting or record.spec is None or not record.spec.default:
            self._defaults.discard(name)
            return
        if name in self._defaults:
            return
        self._defaults.add(name)
        since = created_seconds(record.created)
        if not since:
            return  # no creation time to order pods by: nothing to requeue safely
        for key in self._pods.without_primary_since(since):
            self._pod_queue.add(key)

    def nad_changed(self, namespace: str, name: str) -> None:
        self.wake(nad_topic(namespace, name))
        for provider in nad_providers(namespace=namespace, name=name):
            self.wake(provider_topic(provider))
            for subnet in self._subnets.names_for_provider(provider):
                self._subnet_queue.add(subnet)

    def pod_changed(self, namespace: str, name: str, *, vm: str | None) -> None:
        key = (namespace, name)
        # The echo of the pod reconciler's own annotation patch changes nothing any
        # reconciler reads (its VM's pods are the same pods): half the pod events of
        # an allocation burst, each of which used to cost a pod and a VM reconcile.
        if self._echoes.is_echo(key, self._pods.get(namespace, name)):
            return
        self._pod_queue.add(key)
        if vm is not None:
            self._vm_queue.add((namespace, vm))
            # A migration's source or target came or went: the other launcher pod's IP
            # object may follow the VM to its node.
            for sibling in self._pods.pods_of_vm(namespace, vm):
                if sibling != name:
                    self._pod_queue.add((namespace, sibling))

    def vm_changed(self, namespace: str, name: str) -> None:
        self._vm_queue.add((namespace, name))

    # -- outcomes of reconciles -------------------------------------------------------------

    def wake(self, topic: str) -> None:
        """Pods waiting on ``topic`` go back into the pod queue."""
        for key in self._waits.wake(topic):
            self._pod_queue.add(key)

    def usage_changed(self, subnet: str) -> None:
        """Addresses were taken or freed in ``subnet``: refresh its status, wake waiters."""
        self._subnet_queue.add_after(subnet, delay=STATUS_COALESCE_SECONDS)
        self.wake(subnet_topic(subnet))

    def subnet_serving(self, name: str) -> None:
        """``name`` is Ready: pods waiting for it (or its provider) may proceed, whether or
        not its status changed."""
        record = self._subnets.get(name)
        self.wake(subnet_topic(name))
        self.wake(provider_topic(record.provider if record else PRIMARY_PROVIDER))
