"""KubeVirt ownership: VM pods, label fallback, migration targets."""

from __future__ import annotations

import copy
from typing import Any

from ovnctl.models import (
    MIGRATION_JOB_ANNOTATION,
    VM_NAME_LABEL,
    OwnerKind,
    PodOwner,
    pod_owner,
)
from tests.models.conftest import example


def launcher() -> dict[str, Any]:
    return copy.deepcopy(example("kubevirt.yaml", name="virt-launcher-vm1-x7k2p"))


def pod(**metadata: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p1", "namespace": "ns1", **metadata}}


def test_sample_virt_launcher_is_vm():
    """The sample virt-launcher pod belongs to VM vm1 (its VMI's name)."""
    owner = pod_owner(pod=launcher())
    assert owner == PodOwner(kind=OwnerKind.VIRTUAL_MACHINE, name="vm1", namespace="default")
    assert owner.is_vm
    assert owner.pod_type == "VirtualMachine"
    assert not owner.is_migration_target


def test_plain_pod_owns_itself():
    """A pod without KubeVirt owner or label owns its addresses."""
    owner = pod_owner(pod=example("pods.yaml", name="web-1"))
    assert owner == PodOwner(kind=OwnerKind.POD, name="web-1", namespace="default")
    assert not owner.is_vm
    assert owner.pod_type == ""


def test_owner_reference_any_kubevirt_version():
    """Any kubevirt.io version counts (v1alpha3 objects still exist)."""
    ref = {"apiVersion": "kubevirt.io/v1alpha3", "kind": "VirtualMachineInstance", "name": "vmx"}
    assert pod_owner(pod=pod(ownerReferences=[ref])).name == "vmx"


def test_owner_reference_wrong_group_ignored():
    """A VirtualMachineInstance kind from another API group is not KubeVirt's."""
    ref = {"apiVersion": "example.com/v1", "kind": "VirtualMachineInstance", "name": "vmx"}
    assert pod_owner(pod=pod(ownerReferences=[ref])).kind is OwnerKind.POD


def test_owner_reference_wins_over_label():
    """The ownerReference decides the VM name even when the label disagrees."""
    ref = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "name": "vm-ref"}
    body = pod(ownerReferences=[ref], labels={VM_NAME_LABEL: "vm-label"})
    assert pod_owner(pod=body).name == "vm-ref"


def test_label_fallback_without_owner_references():
    """Without ownerReferences the vm.kubevirt.io/name label identifies the VM."""
    body = launcher()
    del body["metadata"]["ownerReferences"]
    owner = pod_owner(pod=body)
    assert owner.is_vm
    assert owner.name == "vm1"


def test_label_ignored_when_another_controller_owns_the_pod():
    """A pod controlled by a ReplicaSet is not a VM pod even with the label copied."""
    ref = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "controller": True}
    body = pod(ownerReferences=[ref], labels={VM_NAME_LABEL: "vm1"})
    assert pod_owner(pod=body) == PodOwner(kind=OwnerKind.POD, name="p1", namespace="ns1")


def test_label_used_with_non_controller_owner():
    """A non-controller ownerReference does not block the label fallback."""
    ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "cm"}
    body = pod(ownerReferences=[ref], labels={VM_NAME_LABEL: "vm1"})
    assert pod_owner(pod=body).name == "vm1"


def test_migration_target():
    """A VM pod with kubevirt.io/migrationJobName is a live-migration target of the same VM."""
    body = launcher()
    body["metadata"]["name"] = "virt-launcher-vm1-abcde"
    body["metadata"]["annotations"][MIGRATION_JOB_ANNOTATION] = "kubevirt-migrate-vm-xyz"
    owner = pod_owner(pod=body)
    assert owner.is_migration_target
    assert owner.name == "vm1"


def test_migration_annotation_on_plain_pod_ignored():
    """Only VM pods can be migration targets."""
    body = pod(annotations={MIGRATION_JOB_ANNOTATION: "job"})
    assert not pod_owner(pod=body).is_migration_target


def test_empty_migration_annotation_is_not_target():
    """An empty migrationJobName is not a migration."""
    body = launcher()
    body["metadata"]["annotations"][MIGRATION_JOB_ANNOTATION] = ""
    assert not pod_owner(pod=body).is_migration_target


def test_tolerates_sparse_pod():
    """A pod dict with missing or odd metadata does not crash."""
    assert pod_owner(pod={}) == PodOwner(kind=OwnerKind.POD, name="", namespace="")
    odd = pod(ownerReferences=["junk", {"kind": "VirtualMachineInstance"}], labels=None)
    assert pod_owner(pod=odd).kind is OwnerKind.POD
