"""The pod reconciler: give each pod's NICs their addresses, record them, tell the pod.

For a pod key: plan the NICs from the caches, allocate them in the IPAM (all
or none: a failure rolls back what this pass allocated), then write in the
order docs/allocation.md ("What ovnctl writes") fixes: each NIC's IP object
first, then one patch of the pod's annotations carrying every NIC, guarded by
the pod's uid. Whoever sees ``allocated: "true"`` can rely on the IP objects
existing, and a controller that dies between the writes finds the addresses
recorded when it restarts.
A retry re-runs the same steps; the IPAM is idempotent per NIC, so it never
allocates a second address.

Ordinary pods give their addresses back when deleted or finished. A
KubeVirt VM's addresses belong to the VM (see :mod:`.vm`): every new
virt-launcher pod, including a live-migration target running beside the
source, gets the same IP and MAC. Before releasing a gone pod, the injected
keep rule is asked (:mod:`.sticky`: StatefulSet pods, IPAMClaims); a NIC
using a Vip's address has the Vip as IPAM owner, so releasing it never frees
the Vip's address.

Bad input (a malformed annotation, an unknown NAD, a static IP out of range,
...) is a Warning Event on the pod naming the field and value; the pod then
waits for the change that can fix it (see :mod:`.waiting`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Sequence

from ovnctl.caches import SubnetCache
from ovnctl.caches.pods import PodCache, PodKey, PodRecord
from ovnctl.ipam import (
    IPAM,
    AddressConflictError,
    Allocation,
    InvalidMACError,
    IPAMError,
    MACConflictError,
    MACExhaustedError,
    PoolExhaustedError,
    SharedAddressMoveError,
    UnknownSubnetError,
)
from ovnctl.k8s.api import AlreadyExists, NotFound
from ovnctl.k8s.events import EventRecorder, InvolvedObject
from ovnctl.k8s.resources import IPS, PODS
from ovnctl.k8s.writer import Writer
from ovnctl.models import allocation_annotations, build_ip_object
from ovnctl.ovn import Northbound, NullNorthbound, OwnerKind, PortSpec
from ovnctl.queue import Done, PermanentError, Result, RetryableError
from ovnctl.reconcilers.echoes import PatchEchoes
from ovnctl.reconcilers.ledger import (
    CLAIM_POD_TYPE,
    IpObjectState,
    NicLedger,
    claim_ledger_owner,
    pod_holder,
)
from ovnctl.reconcilers.nics import AttachmentProblem, NicPlanner, NicRequest
from ovnctl.reconcilers.release import NicReleaser
from ovnctl.reconcilers.waiting import WaitList, nic_topic, subnet_topic

__all__ = ["PodReconciler"]

logger = logging.getLogger(__name__)


def _canonical(ips: Sequence[str]) -> tuple[str, ...]:
    """IPv4 first, as IP objects and pod annotations write them."""
    return tuple(sorted(ips, key=lambda ip: ":" in ip))


class PodReconciler:
    """``await reconciler((namespace, name))`` brings one pod's NICs up to date."""

    def __init__(
        self,
        *,
        pods: PodCache,
        subnets: SubnetCache,
        planner: NicPlanner,
        ipam: IPAM,
        ledger: NicLedger,
        releaser: NicReleaser,
        api: Writer,
        events: EventRecorder,
        waits: WaitList[PodKey],
        echoes: PatchEchoes,
        on_allocated: Callable[[str], None],
        northbound: Northbound | None = None,
        keeps: Callable[[PodKey], bool] | None = None,
    ) -> None:
        # Whether a gone or finished pod keeps its addresses (a StatefulSet's, see
        # ovnctl.reconcilers.sticky); None: never.
        self._keeps = keeps or (lambda key: False)
        self._northbound: Northbound = northbound if northbound is not None else NullNorthbound()
        self._pods = pods
        self._subnets = subnets
        self._planner = planner
        self._ipam = ipam
        self._ledger = ledger
        self._releaser = releaser
        self._api = api
        self._events = events
        self._waits = waits
        self._on_allocated = on_allocated  # a subnet whose usage changed: refresh its status
        self.allocated = 0
        """NICs newly allocated since start (exported as a metric)."""
        self.failed = 0
        """Allocation attempts refused for bad input or lack of room (exported as a metric)."""
        self._echoes = echoes  # the key router skips the watch's echo of our own patches

    async def __call__(self, key: PodKey) -> Result:
        pod = self._pods.get(*key)
        if pod is None:
            self._waits.clear(key)
            if not self._keeps(key):
                await self._releaser.release(self._ledger.nics_of_pod(key))
            return Done
        if pod.finished and not pod.owner.is_vm:
            self._waits.clear(key)
            if not self._keeps(key):
                await self._releaser.release(self._ledger.nics_of_pod(key))
            return Done
        if pod.deleting or pod.finished:
            # Terminating: it keeps what it has until it is gone; it gets nothing new.
            return Done
        try:
            nics = self._planner.plan(pod)
            releasing = [nic.nic for nic in nics if self._ledger.releasing(nic.nic)]
            if releasing:
                # A namesake (a VM deleted and recreated) is still giving these NICs back:
                # allocating now would hand out the address that release is about to free.
                self._waits.wait(key, [nic_topic(nic) for nic in releasing])
                return Done
            allocations = self._allocate(pod, nics)
        except AttachmentProblem as problem:
            self.failed += 1
            self._waits.wait(key, problem.wait_for)
            await self._events.warning(
                _involved(pod), reason=problem.reason, message=problem.message
            )
            raise PermanentError(f"pod {key[0]}/{key[1]}: {problem.message}") from None
        self._waits.clear(key)
        await self._write(pod, nics, allocations)
        return Done

    # -- allocation (in memory, all or none) -----------------------------------------------

    def _allocate(self, pod: PodRecord, nics: Sequence[NicRequest]) -> list[Allocation]:
        holder = pod_holder(pod.namespace, pod.name) if pod.owner.is_vm else None
        done: list[Allocation] = []
        fresh: list[NicRequest] = []
        moved: list[Allocation] = []
        for nic in nics:
            owner_key = nic.owner_key  # the NIC itself, or the Vip whose address it uses
            elsewhere = [a for a in self._ipam.lookup(owner_key) if a.subnet != nic.subnet]
            before = self._ipam.get(nic.subnet, owner_key)
            try:
                allocation = self._ipam.allocate(
                    nic.subnet,
                    owner_key,
                    ips=nic.static.ips or None,
                    mac=nic.static.mac,
                    holder=holder,
                    within=nic.within,
                    choices=nic.choices,
                )
            except IPAMError as exc:
                for undo in fresh:
                    self._ipam.release(undo.owner_key, subnet=undo.subnet)
                # A pool's addresses ran out, not the MACs (MACExhaustedError is a
                # PoolExhaustedError too, and a pool limits addresses only).
                pooled = (
                    isinstance(exc, PoolExhaustedError)
                    and not isinstance(exc, MACExhaustedError)
                    and nic.within is not None
                )
                raise AttachmentProblem(
                    # Each IPAM error names its Event reason; an exhausted IPPool is
                    # told apart from an exhausted subnet only here, where the pool is known.
                    "IPPoolExhausted" if pooled else exc.reason,
                    _ipam_message(nic, exc),
                    wait_for=_ipam_waits(nic, exc),
                ) from exc
            if before is None:
                fresh.append(nic)
            moved.extend(elsewhere)
            done.append(allocation)
        # The NIC now lives in another subnet (its pod or VM asked for a different one):
        # the old address goes once the new one is held.
        for old in moved:
            self._ipam.release(old.owner, subnet=old.subnet)
            self._on_allocated(old.subnet)
        for nic in fresh:
            self._on_allocated(nic.subnet)
        self.allocated += len(fresh)
        return done

    # -- writes: IP objects first, then one pod patch ------------------------------------

    async def _write(
        self, pod: PodRecord, nics: Sequence[NicRequest], allocations: Sequence[Allocation]
    ) -> None:
        owner = pod.owner
        annotations: dict[str, str] = {}
        ports: list[PortSpec] = []
        for nic in nics:
            # Recorded before anything can fail: a NIC the IPAM holds is always one its
            # pod's (or VM's) release will find.
            if nic.claim:  # the claim's NIC: released with the claim, not the pod or VM
                self._ledger.record(
                    nic.nic, owner=(pod.namespace, claim_ledger_owner(nic.claim)), is_vm=False
                )
            else:
                self._ledger.record(nic.nic, owner=(pod.namespace, owner.name), is_vm=owner.is_vm)
            self._ledger.set_ipam_owner(nic.nic, nic.ipam_owner)
        for nic, allocation in zip(nics, allocations, strict=True):
            record = self._subnets.get(nic.subnet)
            spec = record.spec if record is not None else None
            if spec is None:  # the planner checked; the cache changed since (a retry sorts it)
                raise RetryableError(f"subnet {nic.subnet} has no valid spec any more")
            if spec.has_logical_switch and self._northbound.enabled:  # no NB: no port to describe
                ports.append(
                    PortSpec.from_allocation(
                        # The port is the NIC's, even when the address is a Vip's.
                        dataclasses.replace(allocation, owner=nic.nic),
                        owner_kind=OwnerKind.VM if owner.is_vm else OwnerKind.POD,
                        owner_namespace=pod.namespace,
                        owner_name=owner.name,
                        provider=nic.provider,
                    )
                )
            annotations.update(
                allocation_annotations(
                    provider=nic.provider,
                    subnet=nic.subnet,
                    cidr_block=spec.cidr_block,
                    gateway=spec.gateway,
                    ips=_canonical(allocation.ips),
                    mac=allocation.mac,
                    vm_name=owner.name if owner.is_vm else None,
                )
            )
        # The IP objects are independent of each other: written at once, so a pod with 16
        # attachments waits for one round trip, not 16. All of them before the pod patch.
        # Started only now that every NIC's spec was found: a pass that stops above
        # begins no write (and leaves no coroutine unawaited).
        await asyncio.gather(
            *(
                self._write_ip_object(pod, nic, allocation)
                for nic, allocation in zip(nics, allocations, strict=True)
            )
        )
        # Then the logical switch ports: whoever sees "allocated" can rely on both.
        await self._ensure_ports(ports)
        current = pod.annotation_map()
        if all(current.get(k) == v for k, v in annotations.items()):
            return
        # Expected before sending: the watch may deliver the echo before the answer.
        self._echoes.expect(pod.key, pod.patched(annotations))
        try:
            # The uid makes the patch a precondition: a deleted-and-recreated namesake
            # answers 409 and the key is retried against the new pod.
            await self._api.patch(
                PODS,
                name=pod.name,
                namespace=pod.namespace,
                body={"metadata": {"uid": pod.uid, "annotations": annotations}},
                read_back=False,  # the watch brings the pod back; its body is not needed here
            )
        except NotFound:
            self._echoes.cancel(pod.key)
            if not owner.is_vm and not self._keeps(pod.key):
                await self._releaser.release(self._ledger.nics_of_pod(pod.key))
        except BaseException:
            self._echoes.cancel(pod.key)
            raise

    async def _ensure_ports(self, ports: Sequence[PortSpec]) -> None:
        if not self._northbound.enabled:
            return
        for port in ports:
            if self._ledger.port(port.name) == port:
                continue  # one NB transaction per change, none per reconcile
            await self._northbound.ensure_port(port)
            self._ledger.set_port(port.name, port)

    async def _write_ip_object(
        self, pod: PodRecord, nic: NicRequest, allocation: Allocation
    ) -> None:
        owner = pod.owner
        previous = self._ledger.written(nic.nic)
        node = pod.node_name
        if (
            owner.is_migration_target
            and previous is not None
            and previous.node_name
            and self._source_runs(pod)
        ):
            # The source still runs: the VM is there until the migration ends. When the
            # source goes or completes, this pod is reconciled again (KeyRouter.pod_changed
            # queues a launcher pod's siblings).
            node = previous.node_name
        state = IpObjectState(
            subnet=nic.subnet,
            ips=_canonical(allocation.ips),
            mac=allocation.mac,
            node_name=node,
            pod_name=nic.claim or owner.name,
            namespace=pod.namespace,
            pod_type=CLAIM_POD_TYPE if nic.claim else owner.pod_type,
        )
        if previous == state:
            return
        body = build_ip_object(
            name=nic.nic,
            pod_name=state.pod_name,
            namespace=state.namespace,
            subnet=state.subnet,
            ips=state.ips,
            mac=state.mac,
            node_name=state.node_name,
            pod_type=state.pod_type,
        )
        try:
            await self._api.create(IPS, body, read_back=False)
        except AlreadyExists:
            await self._api.patch(
                IPS,
                name=nic.nic,
                body={
                    "metadata": {"labels": body["metadata"].get("labels", {})},
                    "spec": body["spec"],
                },
            )
        self._ledger.set_written(nic.nic, state)

    def _source_runs(self, target: PodRecord) -> bool:
        """Does another launcher pod of ``target``'s VM still run (a migration's source)?

        A source that completed is not running the VM any more: KubeVirt leaves it
        behind as ``Succeeded`` after a successful migration, until the VMI goes.
        """
        for name in self._pods.pods_of_vm(target.namespace, target.owner.name):
            if name == target.name:
                continue
            other = self._pods.get(target.namespace, name)
            if other is not None and not other.finished:
                return True
        return False


def _ipam_message(nic: NicRequest, exc: IPAMError) -> str:
    """The IPAM's refusal, prefixed with the field the user wrote the request in."""
    where = f"provider {nic.provider}"
    if isinstance(exc, InvalidMACError | MACConflictError) and nic.mac_from:
        where = f"{nic.mac_from} = {nic.static.mac!r} ({where})"
    elif not isinstance(exc, PoolExhaustedError | UnknownSubnetError) and nic.ips_from:
        where = f"{nic.ips_from} = {','.join(nic.static.ips)!r} ({where})"
    return f"{where}: {exc}"


def _ipam_waits(nic: NicRequest, exc: IPAMError) -> tuple[str, ...]:
    """Topics whose change may fix ``exc``: an address freed in the subnet (or, when the
    subnet was chosen by rule, in any subnet of the provider that could serve), or the
    subnet found Ready again."""
    if isinstance(exc, PoolExhaustedError):
        subnets = (nic.subnet,) if nic.within is not None else (nic.candidates or (nic.subnet,))
        return (*(subnet_topic(s) for s in subnets), *nic.pool_topics)
    if isinstance(exc, AddressConflictError | MACConflictError | SharedAddressMoveError):
        return (subnet_topic(nic.subnet),)
    if isinstance(exc, UnknownSubnetError):
        # Not (or no longer) in the IPAM, e.g. an IPPool's subnet that went: woken when it
        # is found Ready again, as the planner's own SubnetNotReady refusals are.
        return (subnet_topic(nic.subnet), *nic.pool_topics)
    return ()


def _involved(pod: PodRecord) -> InvolvedObject:
    return InvolvedObject(
        api_version="v1", kind="Pod", name=pod.name, namespace=pod.namespace, uid=pod.uid
    )
