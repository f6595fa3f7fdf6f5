"""The only layer that talks to the Kubernetes API.

The watches live here: one reflector thread per bulk kind (pods, NADs, IP
objects, VMs, VMIs, IPPools ...: :mod:`~ovnctl.k8s.reflector` and
:mod:`~ovnctl.k8s.informers`, which fill the caches' indexes and report
changes as keys), and Kopf for the Subnet kind only, with the Subnet and
IPPool admission webhook (:mod:`~ovnctl.k8s.kopf_subnets`). So do the API
writer the reconcilers are given (:mod:`~ovnctl.k8s.api` over
:mod:`~ovnctl.k8s.transport`), Event posting, leader election and the node
agent's pod watch. Nothing below this layer imports Kopf or the Kubernetes
client; the reconcilers above it receive its writer by injection so they can
be driven by tests. See ``docs/architecture.md``.
"""
