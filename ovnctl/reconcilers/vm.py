"""The VM reconciler: a KubeVirt VM's addresses live as long as the VM.

Kube-OVN's keep-vm-ip behaviour, which users rely on: the NICs of VM ``vm1``
belong to the VM, not to any virt-launcher pod. They are kept while the
VirtualMachine exists (running, restarting, migrating or stopped with no pod
at all), or, for a standalone VirtualMachineInstance, while the VMI exists;
and while any launcher pod of it still runs. When neither is left, they are
released.

A wrongly released VM address is a duplicate waiting to happen (Kube-OVN
#5367, #5654), so before releasing, the absence seen in the caches is
confirmed with targeted GETs of the VM and VMI: a handful of reads per VM
deletion, never a LIST. Those GETs are awaited, and a VM recreated under the
same name meanwhile may already have a launcher pod holding the NICs again, so
the caches are looked at once more, with no await in between, right before
the release starts (which then fences the NICs, see :mod:`.release`).
"""

from __future__ import annotations

from ovnctl.caches.kubevirt import KubevirtCache
from ovnctl.caches.pods import PodCache
from ovnctl.ipam import IPAM
from ovnctl.k8s.api import NotFound, Resource
from ovnctl.k8s.resources import VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES
from ovnctl.k8s.writer import Writer
from ovnctl.queue import Done, RequeueAfter, Result
from ovnctl.reconcilers.ledger import NicLedger, OwnerKey, holder_pod
from ovnctl.reconcilers.release import NicReleaser

__all__ = ["VmReconciler"]

CACHE_LAG_RECHECK_SECONDS = 2.0
"""The cache says gone but the API says present: look again after the watch catches up."""


class VmReconciler:
    """``await reconciler((namespace, vm))`` releases a VM's NICs once the VM is gone."""

    def __init__(
        self,
        *,
        pods: PodCache,
        kubevirt: KubevirtCache,
        ipam: IPAM,
        ledger: NicLedger,
        releaser: NicReleaser,
        api: Writer,
    ) -> None:
        self._pods = pods
        self._kubevirt = kubevirt
        self._ipam = ipam
        self._ledger = ledger
        self._releaser = releaser
        self._api = api

    async def __call__(self, key: OwnerKey) -> Result:
        namespace, vm = key
        nics = self._ledger.nics_of_vm(key)
        if not nics:
            return Done
        live_pods = set(self._pods.pods_of_vm(namespace, vm))
        self._drop_gone_holders(nics, namespace, live_pods)
        if live_pods or self._kubevirt.owner_exists(namespace, vm):
            return Done
        for resource in (VIRTUAL_MACHINES, VIRTUAL_MACHINE_INSTANCES):
            if await self._exists(resource, namespace, vm):
                return RequeueAfter(CACHE_LAG_RECHECK_SECONDS)
        if self._pods.pods_of_vm(namespace, vm) or self._kubevirt.owner_exists(namespace, vm):
            return Done  # recreated while we asked: its NICs are in use again
        await self._releaser.release(self._ledger.nics_of_vm(key))
        return Done

    def _drop_gone_holders(self, nics: frozenset[str], namespace: str, live: set[str]) -> None:
        for nic in nics:
            for allocation in self._ipam.lookup(nic):
                for holder in allocation.holders:
                    ns, pod = holder_pod(holder)
                    if ns == namespace and pod not in live:
                        self._ipam.drop_holder(nic, holder)

    async def _exists(self, resource: Resource, namespace: str, name: str) -> bool:
        try:
            await self._api.get(resource, name=name, namespace=namespace)
        except NotFound:
            return False
        return True
