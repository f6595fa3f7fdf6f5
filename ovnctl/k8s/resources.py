"""The API resources ovnctl reads and writes, named once."""

from __future__ import annotations

from ovnctl.k8s.api import Resource

__all__ = [
    "BY_KIND",
    "EVENTS",
    "IPAMCLAIMS",
    "IPPOOLS",
    "IPS",
    "LEASES",
    "NADS",
    "NAMESPACES",
    "PODS",
    "STATEFULSETS",
    "SUBNETS",
    "VIPS",
    "VIRTUAL_MACHINES",
    "VIRTUAL_MACHINE_INSTANCES",
]

NAMESPACES = Resource(group="", version="v1", plural="namespaces", namespaced=False)
PODS = Resource(group="", version="v1", plural="pods", namespaced=True)
STATEFULSETS = Resource(group="apps", version="v1", plural="statefulsets", namespaced=True)
EVENTS = Resource(group="", version="v1", plural="events", namespaced=True)
LEASES = Resource(group="coordination.k8s.io", version="v1", plural="leases", namespaced=True)
SUBNETS = Resource(group="kubeovn.io", version="v1", plural="subnets", namespaced=False)
IPS = Resource(group="kubeovn.io", version="v1", plural="ips", namespaced=False)
IPAMCLAIMS = Resource(
    group="k8s.cni.cncf.io", version="v1alpha1", plural="ipamclaims", namespaced=True
)
VIPS = Resource(group="kubeovn.io", version="v1", plural="vips", namespaced=False)
IPPOOLS = Resource(group="kubeovn.io", version="v1", plural="ippools", namespaced=False)
NADS = Resource(
    group="k8s.cni.cncf.io", version="v1", plural="network-attachment-definitions", namespaced=True
)
VIRTUAL_MACHINES = Resource(
    group="kubevirt.io", version="v1", plural="virtualmachines", namespaced=True
)
VIRTUAL_MACHINE_INSTANCES = Resource(
    group="kubevirt.io", version="v1", plural="virtualmachineinstances", namespaced=True
)

BY_KIND: dict[str, Resource] = {
    "Namespace": NAMESPACES,
    "Pod": PODS,
    "StatefulSet": STATEFULSETS,
    "Event": EVENTS,
    "Lease": LEASES,
    "Subnet": SUBNETS,
    "IP": IPS,
    "IPPool": IPPOOLS,
    "Vip": VIPS,
    "IPAMClaim": IPAMCLAIMS,
    "NetworkAttachmentDefinition": NADS,
    "VirtualMachine": VIRTUAL_MACHINES,
    "VirtualMachineInstance": VIRTUAL_MACHINE_INSTANCES,
}
"""The resource of each kind above: where an object body of that ``kind`` is created."""
