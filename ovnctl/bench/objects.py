"""Object bodies the scenarios create: NADs, Subnets, pods, VMs, IP objects.

The shapes are those of REFERENCE §1-4 (what Kube-OVN, Multus and KubeVirt
users write); IP objects and allocation annotations come from ovnctl's own
models, so preloaded state is exactly what the controller itself would have
written.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from ovnctl.models import NETWORKS_ANNOTATION
from ovnctl.models.annotations import allocation_annotations
from ovnctl.models.ip_object import build_ip_object, ip_object_name

__all__ = ["allocated_pod", "ip_object", "nad", "pod", "subnet", "vm"]

NAMESPACE = "default"


def nad(name: str, namespace: str = NAMESPACE) -> dict[str, Any]:
    config = {"cniVersion": "0.3.1", "type": "kube-ovn", "server_socket": "/run/ovnctl.sock"}
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"config": json.dumps(config)},
    }


def provider(nad_name: str, namespace: str = NAMESPACE) -> str:
    """The provider string of a kube-ovn NAD (REFERENCE §2)."""
    return f"{nad_name}.{namespace}.ovn"


def subnet(name: str, cidr: str, *, nad_name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "Subnet",
        "metadata": {"name": name},
        "spec": {"cidrBlock": cidr, "provider": provider(nad_name), **spec},
    }


def vm(name: str, namespace: str = NAMESPACE) -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"running": True, "template": {"spec": {}}},
    }


def pod(
    name: str,
    *,
    networks: list[str] | None = None,
    vm_name: str | None = None,
    annotations: dict[str, str] | None = None,
    namespace: str = NAMESPACE,
) -> dict[str, Any]:
    """A pod on ``node1``; with ``vm_name``, a KubeVirt virt-launcher pod of that VM."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    all_annotations = dict(annotations or {})
    if networks:
        all_annotations[NETWORKS_ANNOTATION] = ",".join(networks)
    if all_annotations:
        meta["annotations"] = all_annotations
    if vm_name is not None:
        meta["labels"] = {"vm.kubevirt.io/name": vm_name}
        meta["ownerReferences"] = [
            {
                "apiVersion": "kubevirt.io/v1",
                "kind": "VirtualMachineInstance",
                "name": vm_name,
                "uid": f"uid-{vm_name}",
                "controller": True,
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"nodeName": "node1", "containers": [{"name": "c", "image": "busybox"}]},
    }


def _nth(cidr: str, index: int) -> tuple[str, str]:
    """The address ``index`` places after the gateway, and the gateway."""
    network = ipaddress.ip_network(cidr)
    return str(network.network_address + 2 + index), str(network.network_address + 1)


def _mac(index: int) -> str:
    return "00:00:00:" + ":".join(f"{(index >> s) & 0xFF:02x}" for s in (16, 8, 0))


def allocated_pod(
    name: str, *, subnet_name: str, cidr: str, nad_name: str, index: int
) -> dict[str, Any]:
    """A pod attached to ``nad_name`` whose address (the ``index``-th) is already recorded."""
    ip, gateway = _nth(cidr, index)
    annotations = allocation_annotations(
        provider=provider(nad_name),
        subnet=subnet_name,
        cidr_block=cidr,
        gateway=gateway,
        ips=[ip],
        mac=_mac(index),
    )
    return pod(name, networks=[nad_name], annotations=annotations)


def ip_object(
    pod_name: str, *, subnet_name: str, cidr: str, nad_name: str, index: int
) -> dict[str, Any]:
    """The IP object ovnctl writes for that pod's NIC (same address and MAC)."""
    ip, _ = _nth(cidr, index)
    return build_ip_object(
        name=ip_object_name(owner=pod_name, namespace=NAMESPACE, provider=provider(nad_name)),
        pod_name=pod_name,
        namespace=NAMESPACE,
        subnet=subnet_name,
        ips=[ip],
        mac=_mac(index),
        node_name="node1",
    )
