"""The node agent (``ovnctl daemon``): wires the controller's allocations into pods.

Where it sits: one agent per node (a DaemonSet). It watches only its own
node's pods (:mod:`ovnctl.k8s.nodepods`), keeping their allocation
annotations (:mod:`ovnctl.node.allocations`); the CNI plugin
(:mod:`ovnctl.cni`) asks it over a unix socket (:mod:`ovnctl.node.server`)
to ADD, DEL or CHECK an interface; it plans the interface from the
allocation (:mod:`ovnctl.node.wiring`) and builds it with netlink
(:mod:`ovnctl.node.datapath`): a veth pair whose host end joins a Linux
bridge per subnet holding the gateway address. What it set up is recorded
per container and interface (:mod:`ovnctl.node.state`) so DEL works
without the API server. :mod:`ovnctl.node.daemon` composes the parts.
"""
