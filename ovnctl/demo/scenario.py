"""The demo's objects and the steps it takes, as a user would apply them."""

from __future__ import annotations

import json
from typing import Any

NAMESPACE = "demo"


def _subnet(name: str, cidr: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "Subnet",
        "metadata": {"name": name},
        "spec": {"cidrBlock": cidr, **spec},
    }


def _nad(name: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"config": json.dumps(config)},
    }


def _pod(
    name: str,
    *,
    networks: str | None = None,
    annotations: dict[str, str] | None = None,
    vm: str | None = None,
    node: str = "node-1",
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": NAMESPACE}
    all_annotations = dict(annotations or {})
    if networks:
        all_annotations["k8s.v1.cni.cncf.io/networks"] = networks
    if all_annotations:
        meta["annotations"] = all_annotations
    if vm:
        meta["labels"] = {"vm.kubevirt.io/name": vm, "kubevirt.io": "virt-launcher"}
        meta["ownerReferences"] = [
            {
                "apiVersion": "kubevirt.io/v1",
                "kind": "VirtualMachineInstance",
                "name": vm,
                "uid": f"vmi-{vm}",
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


def _vm(kind: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"running": True} if kind == "VirtualMachine" else {"domain": {"devices": {}}},
    }


VM_NETWORKS = json.dumps([{"name": "attachnet", "interface": "eth1"}])

NETWORK = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
    _nad(
        "attachnet",
        {"cniVersion": "0.3.1", "type": "kube-ovn", "provider": f"attachnet.{NAMESPACE}.ovn"},
    ),
    _nad(
        "macnet",
        {
            "cniVersion": "0.3.1",
            "type": "macvlan",
            "master": "eth0",
            "ipam": {"type": "kube-ovn", "provider": f"macnet.{NAMESPACE}"},
        },
    ),
    _subnet("ovn-default", "10.16.0.0/16", default=True, excludeIps=["10.16.0.2..10.16.0.9"]),
    _subnet(
        "attach-dual",
        "10.17.0.0/24,fd00:10:17::/120",
        provider=f"attachnet.{NAMESPACE}.ovn",
        excludeIps=["10.17.0.2..10.17.0.10", "fd00:10:17::2..fd00:10:17::10"],
    ),
    _subnet(
        "attach-mac",
        "172.18.0.0/24",
        provider=f"macnet.{NAMESPACE}",
        excludeIps=["172.18.0.1..172.18.0.19"],
    ),
]

WORKLOADS = [
    _pod("web-0", networks="attachnet"),
    _pod("web-1", networks="attachnet"),
    _pod(
        "db-0",
        networks=f"attachnet,{NAMESPACE}/macnet@data",
        annotations={f"macnet.{NAMESPACE}.kubernetes.io/ip_address": "172.18.0.50"},
    ),
    _pod("broken-0", networks="no-such-nad"),
    _vm("VirtualMachine", "vm1"),
    _vm("VirtualMachineInstance", "vm1"),
    _pod("virt-launcher-vm1-x7k2p", networks=VM_NETWORKS, vm="vm1"),
    _vm("VirtualMachine", "vm2"),
    _vm("VirtualMachineInstance", "vm2"),
    _pod("virt-launcher-vm2-q9d4m", networks=VM_NETWORKS, vm="vm2"),
]

MIGRATION_TARGET = _pod(
    "virt-launcher-vm1-m3z8r",
    networks=VM_NETWORKS,
    vm="vm1",
    node="node-2",
    annotations={"kubevirt.io/migrationJobName": "vm1-migration"},
)
