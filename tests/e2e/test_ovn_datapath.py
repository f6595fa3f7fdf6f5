"""Packets through OVN: ``ovnctl run`` writes the NB, ``ovnctl daemon`` binds pods to br-int.

One cluster per module (API server, ``ovnctl run``, ``ovnctl daemon`` and the
OVN stack, each its own process); every test uses its own pods. The CNI
plugin is exec'd as a container runtime runs it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ovnctl.demo.objects import pod, subnet, virtual_machine, virtual_machine_instance
from ovnctl.node.naming import host_veth_name
from ovnctl.ovn.stack import OvnStack
from tests.e2e.ovn_cluster import NODE, OvnCluster
from tests.node import netns as nstools

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

BLUE = "blue"
SWITCH = "ovn.kubernetes.io/logical_switch"


@pytest.fixture(scope="module")
def cluster(ovn_stack: OvnStack) -> Iterator[OvnCluster]:
    with OvnCluster(ovn_stack) as running:
        running.create(subnet("ovn-default", "10.16.0.0/16", default=True))
        running.create(subnet(BLUE, "10.17.0.0/16"))
        yield running


def test_pod_and_vm_pod_on_one_subnet_ping_each_other(cluster: OvnCluster) -> None:
    """A pod and a KubeVirt VM pod, wired by the exec'd plugin, ping and talk TCP through OVN."""
    cluster.create(virtual_machine("vm1"))
    cluster.create(virtual_machine_instance("vm1"))
    web_ns, web_ip = cluster.start_pod(pod("web-0", node=NODE))
    vm_ns, vm_ip = cluster.start_pod(pod("virt-launcher-vm1-a1b2c", node=NODE, vm="vm1"))
    assert "vm1.default" in cluster.stack.nb.nbctl("lsp-list", "ovn-default")
    assert cluster.pings(web_ns, vm_ip), cluster.logs()
    assert cluster.pings(vm_ns, web_ip)
    # TCP too: the userspace datapath forwards no half-checksummed packets.
    assert cluster.talks_tcp(web_ns, vm_ip), cluster.logs()


def test_pod_on_another_subnet_is_reached_through_the_router(cluster: OvnCluster) -> None:
    """Two subnets joined by the ovn-cluster router: a ping crosses it both ways."""
    red_ns, red_ip = cluster.start_pod(pod("red-0", node=NODE))
    blue_ns, blue_ip = cluster.start_pod(pod("blue-0", node=NODE, annotations={SWITCH: BLUE}))
    assert blue_ip.startswith("10.17.")
    assert cluster.pings(red_ns, blue_ip), cluster.logs()
    assert cluster.pings(blue_ns, red_ip)
    assert cluster.pings(blue_ns, "10.17.0.1"), "the router port answers as the gateway"


def test_port_security_cuts_a_pod_that_changes_its_ip_or_mac(cluster: OvnCluster) -> None:
    """A pod that takes another IP or MAC is cut off; its own pair works again."""
    peer_ns, peer_ip = cluster.start_pod(pod("peer-0", node=NODE))
    rogue_ns, rogue_ip = cluster.start_pod(pod("rogue-0", node=NODE))
    assert cluster.pings(rogue_ns, peer_ip)

    nstools.ip("addr", "flush", "dev", "eth0", netns=rogue_ns)
    nstools.ip("addr", "add", "10.16.200.200/16", "dev", "eth0", netns=rogue_ns)
    assert not cluster.pings(rogue_ns, peer_ip), "a spoofed source IP got through"
    nstools.ip("addr", "flush", "dev", "eth0", netns=rogue_ns)
    nstools.ip("addr", "add", f"{rogue_ip}/16", "dev", "eth0", netns=rogue_ns)
    assert cluster.pings(rogue_ns, peer_ip, tries=3)

    own_mac = nstools.mac(rogue_ns, "eth0")
    nstools.ip("link", "set", "eth0", "address", "0a:de:ad:be:ef:01", netns=rogue_ns)
    nstools.ip("neigh", "flush", "all", netns=peer_ns)
    assert not cluster.pings(rogue_ns, peer_ip), "a spoofed MAC got through"
    nstools.ip("link", "set", "eth0", "address", own_mac, netns=rogue_ns)
    assert cluster.pings(rogue_ns, peer_ip, tries=3)


def test_vm_pod_recreated_keeps_its_address_and_reaches_peers(cluster: OvnCluster) -> None:
    """A VM's new virt-launcher pod gets the VM's address and port, and pings again."""
    cluster.create(virtual_machine("vm2"))
    cluster.create(virtual_machine_instance("vm2"))
    peer_ns, peer_ip = cluster.start_pod(pod("peer-1", node=NODE))
    first = "virt-launcher-vm2-aaaaa"
    vm_ns, vm_ip = cluster.start_pod(pod(first, node=NODE, vm="vm2"))
    assert cluster.pings(vm_ns, peer_ip)

    assert cluster.cni("DEL", pod=first, netns=vm_ns) == (0, None)
    cluster.remove_netns(vm_ns)
    cluster.delete_pod(first)
    cluster.wait(lambda: cluster.pod(first) is None, what=f"{first} deleted")

    second_ns, second_ip = cluster.start_pod(pod("virt-launcher-vm2-bbbbb", node=NODE, vm="vm2"))
    assert second_ip == vm_ip
    assert cluster.pings(second_ns, peer_ip, tries=3), cluster.logs()
    assert cluster.pings(peer_ns, second_ip)


def test_add_and_del_leave_nothing_behind(cluster: OvnCluster) -> None:
    """After DEL and the runtime's namespace removal: no OVS port, veth, state or namespace."""
    before = set(cluster.ovnctl_ports())
    ns, _ = cluster.start_pod(pod("brief-0", node=NODE))
    port = host_veth_name(container_id="c-brief-0", ifname="eth0")
    assert set(cluster.ovnctl_ports()) == before | {port}
    assert cluster.cni("DEL", pod="brief-0", netns=ns) == (0, None)
    cluster.remove_netns(ns)
    assert cluster.cni("DEL", pod="brief-0", netns="") == (0, None)  # the runtime retries
    assert set(cluster.ovnctl_ports()) == before
    assert not nstools.link_exists(port)
    assert ns not in nstools.ip("netns", "list").stdout
    assert not list((cluster.root / "state").glob("c-brief-0_*"))


def test_hand_deleted_port_is_recreated_within_a_second(cluster: OvnCluster) -> None:
    """NB drift on ovnctl's rows is repaired within 1 s and traffic resumes; others' rows stay."""
    nb = cluster.stack.nb.nbctl
    a_ns, _ = cluster.start_pod(pod("drift-a", node=NODE))
    _, b_ip = cluster.start_pod(pod("drift-b", node=NODE))
    assert cluster.pings(a_ns, b_ip)
    addresses = nb("lsp-get-addresses", "drift-b.default")
    nb("lsp-add", "ovn-default", "not-ovnctl", "--", "lsp-set-addresses", "not-ovnctl", "unknown")

    nb("lsp-del", "drift-b.default")
    cluster.wait(
        lambda: "drift-b.default" in nb("lsp-list", "ovn-default"),
        what="the deleted port recreated",
        within=1.0,
    )
    assert nb("lsp-get-addresses", "drift-b.default") == addresses
    assert cluster.pings(a_ns, b_ip, tries=5), "traffic did not resume"

    nb("lsp-set-addresses", "drift-b.default", "0a:00:00:00:00:01 10.16.250.250")
    cluster.wait(
        lambda: nb("lsp-get-addresses", "drift-b.default") == addresses,
        what="the changed addresses put back",
        within=1.0,
    )
    assert nb("lsp-get-addresses", "not-ovnctl").strip() == "unknown"
    nb("lsp-del", "not-ovnctl")
