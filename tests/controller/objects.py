"""Builders for the objects controller tests create: Subnets, NADs, pods, VMs."""

from __future__ import annotations

import json
from typing import Any

from ovnctl.k8s.api import KubeApi
from ovnctl.k8s.resources import NADS, PODS, SUBNETS, VIRTUAL_MACHINES


def subnet(name: str, cidr: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "Subnet",
        "metadata": {"name": name},
        "spec": {"cidrBlock": cidr, **spec},
    }


def kube_ovn_nad(name: str, namespace: str = "default", **extra: Any) -> dict[str, Any]:
    config = {"cniVersion": "0.3.1", "type": "kube-ovn", "server_socket": "/run/ovnctl.sock"}
    config.update(extra)
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"config": json.dumps(config)},
    }


def macvlan_nad(name: str, namespace: str = "default") -> dict[str, Any]:
    config = {
        "cniVersion": "0.3.1",
        "type": "macvlan",
        "master": "eth0",
        "ipam": {"type": "kube-ovn", "server_socket": "/run/ovnctl.sock"},
    }
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"config": json.dumps(config)},
    }


def pod(
    name: str,
    namespace: str = "default",
    *,
    networks: str | None = None,
    annotations: dict[str, str] | None = None,
    node: str = "node1",
    vm: str | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    all_annotations = dict(annotations or {})
    if networks is not None:
        all_annotations["k8s.v1.cni.cncf.io/networks"] = networks
    if all_annotations:
        meta["annotations"] = all_annotations
    if labels:
        meta["labels"] = dict(labels)
    if vm is not None:
        meta.setdefault("labels", {})["vm.kubevirt.io/name"] = vm
        meta["ownerReferences"] = [
            {
                "apiVersion": "kubevirt.io/v1",
                "kind": "VirtualMachineInstance",
                "name": vm,
                "uid": f"uid-{vm}",
                "controller": True,
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]},
    }


def virtual_machine(name: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"running": True, "template": {"spec": {}}},
    }


async def create_all(kube: KubeApi, *objects: dict[str, Any]) -> None:
    """Create objects in order, each in its own resource."""
    by_kind = {
        "Subnet": SUBNETS,
        "NetworkAttachmentDefinition": NADS,
        "Pod": PODS,
        "VirtualMachine": VIRTUAL_MACHINES,
    }
    for obj in objects:
        resource = by_kind[obj["kind"]]
        await kube.create(resource, obj, namespace=obj["metadata"].get("namespace"))
