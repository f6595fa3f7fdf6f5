"""The CNI plugin ovnctl installs on every node (``ovnctl cni``, ``python -m ovnctl.cni``).

Where it sits: a container runtime (or Multus) execs the plugin once per
network of each pod sandbox. The plugin only translates between the CNI
contract (stdin config, ``CNI_*`` environment, result or error JSON on stdout)
and the node agent (:mod:`ovnctl.node`), which it asks over a unix socket
(:mod:`ovnctl.cni.protocol`). It never talks to Kubernetes and never touches
netlink itself.

It runs per pod creation, so this package imports nothing heavy: no Kopf, no
Kubernetes client, no pyroute2, and this ``__init__`` imports nothing at all.
"""
