"""Who owns a pod's addresses: the pod itself, or the KubeVirt VM it runs.

Kube-OVN's keep-vm-ip behaviour (docs/allocation.md, "KubeVirt VMs") keys a VM's allocation by the
VM, not by its virt-launcher pod: a restarted or migrated VM gets the same IP
and MAC, and deleting the pod does not release them. The pod reconciler asks
:func:`pod_owner` first; the answer picks the IP object name
(:func:`ovnctl.models.ip_object.ip_object_name`), the ``podType`` and which
release rule applies (pod deletion, or VM/VMI deletion).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ovnctl.models.annotations import MIGRATION_JOB_ANNOTATION, VM_NAME_LABEL
from ovnctl.models.meta import meta_annotations, meta_labels, meta_owner_references, object_meta

__all__ = [
    "KUBEVIRT_GROUP",
    "STATEFULSET_POD_TYPE",
    "VM_POD_TYPE",
    "OwnerKind",
    "PodOwner",
    "pod_owner",
    "statefulset_ordinal",
]

KUBEVIRT_GROUP = "kubevirt.io"
VMI_KIND = "VirtualMachineInstance"
VM_POD_TYPE = "VirtualMachine"
"""``spec.podType`` of the IP object of a VM's NIC."""
STATEFULSET_POD_TYPE = "StatefulSet"
"""``spec.podType`` of the IP object of a StatefulSet pod's NIC (its address is sticky)."""


class OwnerKind(enum.StrEnum):
    """Who an allocation belongs to."""

    POD = "pod"
    VIRTUAL_MACHINE = "virtual-machine"


@dataclass(frozen=True, slots=True)
class PodOwner:
    """The owner of a pod's allocations.

    For a VM, ``name`` is the VM's name, which equals its VMI's name (KubeVirt
    creates the VMI under the VM's name), so it names both the IP object and
    the object whose deletion releases the address.
    """

    kind: OwnerKind
    name: str
    namespace: str
    is_migration_target: bool = False
    """True for the target pod of a live migration: it shares the source's addresses."""
    statefulset: str = ""
    """The StatefulSet controlling the pod (``""``: none). Its pods keep their addresses
    across deletion while their ordinal is below the StatefulSet's replicas."""

    @property
    def is_vm(self) -> bool:
        """True when the owner is a KubeVirt VM (or standalone VMI)."""
        return self.kind is OwnerKind.VIRTUAL_MACHINE

    @property
    def pod_type(self) -> str:
        """``spec.podType`` for this owner's IP objects: ``VirtualMachine``,
        ``StatefulSet`` or ``""``."""
        if self.is_vm:
            return VM_POD_TYPE
        return STATEFULSET_POD_TYPE if self.statefulset else ""


def pod_owner(*, pod: Mapping[str, Any]) -> PodOwner:
    """Decide who owns the addresses of ``pod`` (a Pod dict as the API returns it).

    Rules, in order:

    1. an ownerReference of kind ``VirtualMachineInstance`` in API group
       ``kubevirt.io`` (any version) → the VM of that name (Kube-OVN's rule);
    2. else the label ``vm.kubevirt.io/name``, but only when the pod has no
       controller ownerReference at all: a pod controlled by something else
       (a ReplicaSet copying labels from a template) is not a virt-launcher;
    3. else the pod itself.

    A VM pod with a non-empty ``kubevirt.io/migrationJobName`` annotation is a
    live-migration target. Plain pods are never migration targets.
    """
    # Any field may have any JSON type (a hand-written or corrupted object): a wrong
    # type reads as absent, never as a crash (found by tests/fuzz/test_models.py).
    metadata = object_meta(pod)
    namespace = str(metadata.get("namespace") or "")
    pod_name = str(metadata.get("name") or "")
    refs = meta_owner_references(metadata)

    vm_name = next(
        (
            str(r["name"])
            for r in refs
            if r.get("kind") == VMI_KIND
            and _group(r.get("apiVersion")) == KUBEVIRT_GROUP
            and r.get("name")
        ),
        None,
    )
    if vm_name is None and not any(r.get("controller") is True for r in refs):
        label = meta_labels(metadata).get(VM_NAME_LABEL)
        vm_name = str(label) if label else None

    if vm_name is None:
        statefulset = next(
            (
                str(r["name"])
                for r in refs
                if r.get("kind") == "StatefulSet"
                and _group(r.get("apiVersion")) == "apps"
                and r.get("controller") is True
                and r.get("name")
            ),
            "",
        )
        return PodOwner(
            kind=OwnerKind.POD, name=pod_name, namespace=namespace, statefulset=statefulset
        )
    annotations = meta_annotations(metadata)
    return PodOwner(
        kind=OwnerKind.VIRTUAL_MACHINE,
        name=vm_name,
        namespace=namespace,
        is_migration_target=bool(annotations.get(MIGRATION_JOB_ANNOTATION)),
    )


def statefulset_ordinal(pod_name: str, statefulset: str) -> int | None:
    """The ordinal of ``<statefulset>-<n>``, or None when the name is not of that form."""
    prefix = f"{statefulset}-"
    if not pod_name.startswith(prefix):
        return None
    suffix = pod_name[len(prefix) :]
    return int(suffix) if suffix.isdigit() else None


def _group(api_version: object) -> str:
    """The API group of an ``apiVersion`` (``kubevirt.io/v1`` → ``kubevirt.io``)."""
    if not isinstance(api_version, str) or "/" not in api_version:
        return ""
    return api_version.rsplit("/", 1)[0]
