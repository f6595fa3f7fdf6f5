"""Kubernetes objects as users write them: Subnets, NADs, pods, KubeVirt VMs.

One set of builders for everything that creates objects against an API
server: the demo's scenario, ``ovnctl bench`` and the controller tests. The
shapes are those docs/models.md describes (Kube-OVN Subnets, Multus NADs and
annotations, KubeVirt virt-launcher ownership), so a builder fixed here is fixed for all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ovnctl.models import NETWORKS_ANNOTATION, VM_NAME_LABEL

__all__ = [
    "kube_ovn_nad",
    "macvlan_nad",
    "pod",
    "subnet",
    "virtual_machine",
    "virtual_machine_instance",
]


def subnet(name: str, cidr: str, **spec: Any) -> dict[str, Any]:
    """A ``kubeovn.io/v1`` Subnet; ``spec`` adds fields (``provider``, ``excludeIps``, ...)."""
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "Subnet",
        "metadata": {"name": name},
        "spec": {"cidrBlock": cidr, **spec},
    }


def _nad(name: str, namespace: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"config": json.dumps(config)},
    }


def kube_ovn_nad(name: str, namespace: str = "default", **extra: Any) -> dict[str, Any]:
    """A NAD whose plugin is kube-ovn: provider ``<name>.<namespace>.ovn``."""
    config = {"cniVersion": "0.3.1", "type": "kube-ovn", "server_socket": "/run/ovnctl.sock"}
    return _nad(name, namespace, {**config, **extra})


def macvlan_nad(name: str, namespace: str = "default", **ipam: Any) -> dict[str, Any]:
    """A macvlan NAD with kube-ovn IPAM: provider ``<name>.<namespace>`` (addresses only)."""
    config = {
        "cniVersion": "0.3.1",
        "type": "macvlan",
        "master": "eth0",
        "ipam": {"type": "kube-ovn", "server_socket": "/run/ovnctl.sock", **ipam},
    }
    return _nad(name, namespace, config)


def pod(
    name: str,
    namespace: str = "default",
    *,
    networks: str | Sequence[str] | None = None,
    annotations: dict[str, str] | None = None,
    node: str = "node1",
    vm: str | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A pod; ``networks`` is the Multus annotation (a string, or NAD names to join);
    with ``vm``, a KubeVirt virt-launcher pod owned by that VM's VMI."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    all_annotations = dict(annotations or {})
    if networks:
        all_annotations[NETWORKS_ANNOTATION] = (
            networks if isinstance(networks, str) else ",".join(networks)
        )
    if all_annotations:
        meta["annotations"] = all_annotations
    if labels:
        meta["labels"] = dict(labels)
    if vm is not None:
        meta.setdefault("labels", {}).update({VM_NAME_LABEL: vm, "kubevirt.io": "virt-launcher"})
        meta["ownerReferences"] = [
            {
                "apiVersion": "kubevirt.io/v1",
                "kind": "VirtualMachineInstance",
                "name": vm,
                "uid": f"uid-{vm}",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"nodeName": node, "containers": [{"name": "main", "image": "busybox"}]},
    }


def virtual_machine(name: str, namespace: str = "default") -> dict[str, Any]:
    """A running KubeVirt VirtualMachine."""
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"running": True, "template": {"spec": {}}},
    }


def virtual_machine_instance(name: str, namespace: str = "default") -> dict[str, Any]:
    """The VirtualMachineInstance of a running VM (or a standalone one)."""
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstance",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"domain": {"devices": {}}},
    }
