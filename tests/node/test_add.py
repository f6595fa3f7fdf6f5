"""ADD with real network namespaces: addresses, MAC, routes and reachability."""

from __future__ import annotations

import threading

from ovnctl.models import allocation_annotations
from tests.node import netns as nstools
from tests.node.conftest import Node, Subnet


def test_two_pods_and_a_vm_pod_get_their_addresses_and_reach_each_other(node: Node) -> None:
    """Two pods and a KubeVirt pod of one subnet are wired, see their config and ping around."""
    subnet = Subnet()
    node.allocated_pod("web-1", subnet, 10)
    node.allocated_pod("web-2", subnet, 11)
    node.allocated_pod(
        "virt-launcher-vm1-abcde",
        subnet,
        12,
        vm_name="vm1",
        labels={"vm.kubevirt.io/name": "vm1"},
        owner={
            "apiVersion": "kubevirt.io/v1",
            "kind": "VirtualMachineInstance",
            "name": "vm1",
            "uid": "3c1f0d2e-0000-4000-8000-000000000001",
        },
    )
    pods = {"web-1": 10, "web-2": 11, "virt-launcher-vm1-abcde": 12}
    spaces = {pod: node.netns() for pod in pods}
    for pod, ns in spaces.items():
        result = node.add(pod, ns)
        assert result["ips"] == [
            {"address": f"{subnet.ip(pods[pod])}/24", "gateway": subnet.gateway, "interface": 1}
        ]

    for pod, host in pods.items():
        ns = spaces[pod]
        assert nstools.addresses(ns, "eth0") == {f"{subnet.ip(host)}/24"}
        assert nstools.mac(ns, "eth0") == f"00:00:00:fb:00:{host:02x}"
        assert ("default", subnet.gateway) in nstools.routes(ns)
        assert (subnet.cidr, None) in nstools.routes(ns)
    bridge = nstools.ip_json("addr", "show", "dev", subnet.bridge)[0]
    assert f"{subnet.gateway}/24" in {f"{a['local']}/{a['prefixlen']}" for a in bridge["addr_info"]}

    for pod, ns in spaces.items():
        assert nstools.ping(ns, subnet.gateway), f"{pod} cannot reach the gateway"
        for other, host in pods.items():
            if other != pod:
                assert nstools.ping(ns, subnet.ip(host)), f"{pod} cannot reach {other}"


def test_result_names_both_veth_ends_and_the_sandbox(node: Node) -> None:
    """The ADD result lists the host end, the pod end in its sandbox, and the default route."""
    subnet = Subnet()
    node.allocated_pod("p1", subnet, 20)
    ns = node.netns()
    result = node.add("p1", ns)
    host, pod = result["interfaces"]
    assert "sandbox" not in host
    assert nstools.link_exists(host["name"])
    assert pod == {"name": "eth0", "mac": "00:00:00:fb:00:14", "sandbox": f"/var/run/netns/{ns}"}
    assert result["routes"] == [{"dst": "0.0.0.0/0", "gw": subnet.gateway}]
    assert result["cniVersion"] == "1.0.0"


def test_attachment_gets_no_default_route_and_its_own_bridge(node: Node) -> None:
    """A Multus attachment (provider <nad>.<ns>.ovn) lands on net1 without a default route."""
    primary, attach = Subnet(), Subnet()
    provider = "attachnet.default.ovn"
    annotations: dict[str, str] = {}
    for prov, subnet, host in (("ovn", primary, 30), (provider, attach, 31)):
        annotations.update(
            allocation_annotations(
                provider=prov,
                subnet=subnet.name,
                cidr_block=subnet.cidr,
                gateway=subnet.gateway,
                ips=[subnet.ip(host)],
                mac=f"00:00:00:fb:01:{host:02x}",
            )
        )
    node.bridges |= {primary.bridge, attach.bridge}
    node.create_pod("multi", annotations=annotations)
    ns = node.netns()
    node.add("multi", ns)
    conf = node.conf(name="attachnet", provider=provider)
    result = node.add("multi", ns, ifname="net1", conf=conf)
    assert result["routes"] == []
    assert nstools.addresses(ns, "net1") == {f"{attach.ip(31)}/24"}
    assert nstools.routes(ns) >= {("default", primary.gateway), (attach.cidr, None)}
    assert nstools.ping(ns, attach.gateway)


def test_mtu_and_extra_routes_from_the_config(node: Node) -> None:
    """The config's mtu and routes are applied in the pod."""
    subnet = Subnet()
    node.allocated_pod("tuned", subnet, 40)
    ns = node.netns()
    conf = node.conf(mtu=1400, routes=[{"dst": "10.96.0.0/12"}])
    result = node.add("tuned", ns, conf=conf)
    assert {"dst": "10.96.0.0/12", "gw": subnet.gateway} in result["routes"]
    link = nstools.ip_json("link", "show", "dev", "eth0", netns=ns)[0]
    assert link["mtu"] == 1400
    assert ("10.96.0.0/12", subnet.gateway) in nstools.routes(ns)


def test_add_waits_for_the_allocation(node: Node) -> None:
    """An ADD that arrives before the controller's annotations succeeds once they land."""
    subnet = Subnet()
    node.bridges.add(subnet.bridge)
    node.create_pod("late")
    ns = node.netns()
    timer = threading.Timer(
        0.3,
        node.annotate,
        args=(
            "late",
            allocation_annotations(
                provider="ovn",
                subnet=subnet.name,
                cidr_block=subnet.cidr,
                gateway=subnet.gateway,
                ips=[subnet.ip(50)],
                mac="00:00:00:fb:00:50",
            ),
        ),
    )
    timer.start()
    try:
        result = node.add("late", ns)
    finally:
        timer.cancel()
    assert result["ips"][0]["address"] == f"{subnet.ip(50)}/24"
