"""The node agent (``ovnctl daemon``): wires the controller's allocations into pods.

Where it sits: one agent per node (a DaemonSet). It watches only its own
node's pods (:mod:`ovnctl.k8s.nodepods`), keeping their allocation
annotations (:mod:`ovnctl.node.allocations`); the CNI plugin
(:mod:`ovnctl.cni`) asks it over a unix socket (:mod:`ovnctl.node.server`)
to ADD, DEL or CHECK an interface; it plans the interface from the
allocation (:mod:`ovnctl.node.wiring`) and builds it with netlink
(:mod:`ovnctl.node.datapath`, helpers in :mod:`ovnctl.node.netlink`): a veth
pair whose host end (:mod:`ovnctl.node.hostside`) joins Open vSwitch's
integration bridge, where ovn-controller binds it to the NIC's logical switch
port (through the Open_vSwitch database, :mod:`ovnctl.node.ovsdb`), or, on
nodes without Open vSwitch, a Linux bridge per subnet holding the gateway
address. The agent never imports the controller's NB layer
(:mod:`ovnctl.ovn`): it talks to the node's own OVS database, not to the
northbound, so its OVS client is its own. What it set up is recorded
per container and interface (:mod:`ovnctl.node.state`) so DEL works
without the API server. :mod:`ovnctl.node.daemon` composes the parts.
"""
