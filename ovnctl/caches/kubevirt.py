"""Which KubeVirt VMs and VMIs exist: what decides when a VM's address is released.

A VM's address outlives its pods (restarts, migrations, a stopped VM) and is
released only when the VirtualMachine is gone, or, for a standalone
VirtualMachineInstance, when that VMI is gone. Only the existence of each is
kept.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ovnctl.models import meta_key, object_meta

__all__ = ["KubevirtCache", "index_by_namespaced_name"]

VmKey = tuple[str, str]


def index_by_namespaced_name(body: Mapping[str, Any]) -> dict[VmKey, bool]:
    """Index function: (namespace, name) → True; used for both VMs and VMIs."""
    key = meta_key(object_meta(body))
    return {key: True} if key is not None else {}


class KubevirtCache:
    """Existence of VirtualMachines and VirtualMachineInstances."""

    def __init__(
        self,
        *,
        vms: Mapping[VmKey, Collection[bool]],
        vmis: Mapping[VmKey, Collection[bool]],
    ) -> None:
        self._vms = vms
        self._vmis = vmis

    def vm_exists(self, namespace: str, name: str) -> bool:
        return (namespace, name) in self._vms

    def vmi_exists(self, namespace: str, name: str) -> bool:
        return (namespace, name) in self._vmis

    def owner_exists(self, namespace: str, name: str) -> bool:
        """The VM, or a standalone VMI of that name, still exists."""
        return self.vm_exists(namespace, name) or self.vmi_exists(namespace, name)
