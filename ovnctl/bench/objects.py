"""Object bodies the scenarios create: NADs, Subnets, pods, VMs, IP objects.

The shapes are those docs/models.md describes (what Kube-OVN, Multus and
KubeVirt users write); IP objects and allocation annotations come from ovnctl's own
models, so preloaded state is exactly what the controller itself would have
written.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from ovnctl.demo.objects import kube_ovn_nad, pod
from ovnctl.demo.objects import subnet as shared_subnet
from ovnctl.demo.objects import virtual_machine as vm
from ovnctl.models.annotations import allocation_annotations
from ovnctl.models.ip_object import build_ip_object, ip_object_name

__all__ = ["allocated_pod", "ip_object", "nad", "pod", "subnet", "vm"]

NAMESPACE = "default"


def nad(name: str, namespace: str = NAMESPACE) -> dict[str, Any]:
    """A kube-ovn NAD (provider :func:`provider`)."""
    return kube_ovn_nad(name, namespace)


def provider(nad_name: str, namespace: str = NAMESPACE) -> str:
    """The provider string of a kube-ovn NAD (docs/models.md)."""
    return f"{nad_name}.{namespace}.ovn"


def subnet(name: str, cidr: str, *, nad_name: str, **spec: Any) -> dict[str, Any]:
    """A Subnet serving the kube-ovn NAD ``nad_name``."""
    return shared_subnet(name, cidr, provider=provider(nad_name), **spec)


def _nth(cidr: str, index: int) -> tuple[str, str]:
    """The address ``index`` places after the gateway, and the gateway."""
    network = ipaddress.ip_network(cidr)
    return str(network.network_address + 2 + index), str(network.network_address + 1)


def _mac(index: int) -> str:
    # Under the IPAM's default locally administered prefix: index 0 must not be the
    # all-zero MAC, which no NIC can own (the IPAM and the parsers refuse it).
    return "0e:00:00:" + ":".join(f"{(index >> s) & 0xFF:02x}" for s in (16, 8, 0))


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
    return pod(name, NAMESPACE, networks=[nad_name], annotations=annotations)


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
