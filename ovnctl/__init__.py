"""ovnctl: a Kube-OVN-style network controller for Kubernetes.

Users create ``kubeovn.io/v1`` Subnets and attach pods and KubeVirt VMs to them
through Multus NetworkAttachmentDefinitions; ovnctl allocates their addresses,
records them as IP objects and pod annotations, and writes the network into
OVN's northbound database.

The package is layered (see ``docs/architecture.md``): pure cores at the bottom
(:mod:`ovnctl.ipam`, :mod:`ovnctl.queue`, :mod:`ovnctl.models`), the only
Kubernetes-aware code above them, and :mod:`ovnctl.cli` as the composition root.
:mod:`ovnctl.sim` is the embedded API server used by tests, the demo and
benchmarks; the controller never imports it.
"""

__version__ = "0.1.0"
