"""The demo's objects and the steps it takes, as a user would apply them."""

from __future__ import annotations

import json

from ovnctl.demo.objects import (
    kube_ovn_nad,
    macvlan_nad,
    pod,
    subnet,
    virtual_machine,
    virtual_machine_instance,
)

NAMESPACE = "demo"


VM_NETWORKS = json.dumps([{"name": "attachnet", "interface": "eth1"}])

N = NAMESPACE

NETWORK = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": N}},
    kube_ovn_nad("attachnet", N, provider=f"attachnet.{N}.ovn"),
    macvlan_nad("macnet", N, provider=f"macnet.{N}"),
    subnet("ovn-default", "10.16.0.0/16", default=True, excludeIps=["10.16.0.2..10.16.0.9"]),
    subnet(
        "attach-dual",
        "10.17.0.0/24,fd00:10:17::/120",
        provider=f"attachnet.{N}.ovn",
        excludeIps=["10.17.0.2..10.17.0.10", "fd00:10:17::2..fd00:10:17::10"],
    ),
    subnet(
        "attach-mac",
        "172.18.0.0/24",
        provider=f"macnet.{N}",
        excludeIps=["172.18.0.1..172.18.0.19"],
    ),
]

WORKLOADS = [
    pod("web-0", N, networks="attachnet", node="node-1"),
    pod("web-1", N, networks="attachnet", node="node-1"),
    pod(
        "db-0",
        N,
        networks=f"attachnet,{N}/macnet@data",
        annotations={f"macnet.{N}.kubernetes.io/ip_address": "172.18.0.50"},
        node="node-1",
    ),
    pod("broken-0", N, networks="no-such-nad", node="node-1"),
    virtual_machine("vm1", N),
    virtual_machine_instance("vm1", N),
    pod("virt-launcher-vm1-x7k2p", N, networks=VM_NETWORKS, vm="vm1", node="node-1"),
    virtual_machine("vm2", N),
    virtual_machine_instance("vm2", N),
    pod("virt-launcher-vm2-q9d4m", N, networks=VM_NETWORKS, vm="vm2", node="node-1"),
]

MIGRATION_TARGET = pod(
    "virt-launcher-vm1-m3z8r",
    N,
    networks=VM_NETWORKS,
    vm="vm1",
    node="node-2",
    annotations={"kubevirt.io/migrationJobName": "vm1-migration"},
)
