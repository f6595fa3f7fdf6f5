"""Which networks a pod asks for, and where each attachment's address comes from.

The forms and rules are those docs/allocation.md and docs/models.md describe.
"""

from __future__ import annotations

import json
from typing import Any

from ovnctl.k8s.resources import NAMESPACES
from tests.controller import probes
from tests.controller.objects import create_all, kube_ovn_nad, macvlan_nad, pod, subnet
from tests.controller.probes import NETWORKS, key

A = "net-a.default.ovn"
B = "net-b.default.ovn"


async def _two_networks(kube: Any) -> None:
    await create_all(
        kube,
        kube_ovn_nad("net-a"),
        kube_ovn_nad("net-b"),
        subnet("sub-a", "172.17.0.0/24", provider=A),
        subnet("sub-b", "172.18.0.0/24", provider=B),
    )


def host_local_nad(name: str, namespace: str = "default") -> dict[str, Any]:
    config = {
        "cniVersion": "0.3.1",
        "type": "macvlan",
        "master": "eth0",
        "ipam": {"type": "host-local", "subnet": "192.168.50.0/24"},
    }
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"config": json.dumps(config)},
    }


async def test_comma_list_with_namespaces_interfaces_and_blanks(start_controller, kube) -> None:
    """`name`, `ns/name@ifname` and blank items in one comma list each get an address."""
    await _two_networks(kube)
    await start_controller(primary_network=False)
    await create_all(kube, pod("p1", networks=" net-a@eth1 , , default/net-b@eth2 ,"))
    got = await probes.allocated(kube, "p1", A, B)
    assert got[key(A, "ip_address")] == "172.17.0.2"
    assert got[key(A, "logical_switch")] == "sub-a"
    assert got[key(B, "ip_address")] == "172.18.0.2"
    assert got[key(B, "logical_switch")] == "sub-b"
    ips = await probes.ip_objects(kube)
    assert sorted(ips) == ["p1.default.net-a.default.ovn", "p1.default.net-b.default.ovn"]


async def test_plain_and_namespaced_names(start_controller, kube) -> None:
    """`name` and `ns/name` without interfaces are the same NADs."""
    await _two_networks(kube)
    await start_controller(primary_network=False)
    await create_all(kube, pod("p1", networks="net-a,default/net-b"))
    got = await probes.allocated(kube, "p1", A, B)
    assert got[key(B, "cidr")] == "172.18.0.0/24"
    assert got[key(B, "gateway")] == "172.18.0.1"


async def test_json_list_with_ips_mac_and_interface(start_controller, kube) -> None:
    """A JSON list entry's `ips` and `mac` are honoured; `interface` is accepted."""
    await _two_networks(kube)
    await start_controller(primary_network=False)
    networks = json.dumps(
        [
            {"name": "net-a", "interface": "eth1", "ips": ["172.17.0.50/24"]},
            {"name": "net-b", "namespace": "default", "mac": "0E:AA:BB:CC:DD:01"},
        ]
    )
    await create_all(kube, pod("p1", networks=networks))
    got = await probes.allocated(kube, "p1", A, B)
    assert got[key(A, "ip_address")] == "172.17.0.50"
    assert got[key(B, "mac_address")] == "0e:aa:bb:cc:dd:01"
    ip = await probes.ip_object(kube, "p1.default.net-b.default.ovn")
    assert ip is not None
    assert ip["spec"]["macAddress"] == "0e:aa:bb:cc:dd:01"


async def test_json_single_object(start_controller, kube) -> None:
    """A single JSON object (not a list), with leading blanks, is one attachment."""
    await _two_networks(kube)
    await start_controller(primary_network=False)
    await create_all(kube, pod("p1", networks='  {"name": "net-a", "interface": "eth9"}'))
    got = await probes.allocated(kube, "p1", A)
    assert got[key(A, "ip_address")] == "172.17.0.2"
    assert key(B, "allocated") not in got


async def test_cross_namespace_nad(start_controller, kube) -> None:
    """A pod in one namespace may use a NAD of another; the provider names the NAD's namespace."""
    await kube.create(
        NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "netns"}}
    )
    provider = "shared.netns.ovn"
    await create_all(
        kube, kube_ovn_nad("shared", "netns"), subnet("sub-s", "172.19.0.0/24", provider=provider)
    )
    await start_controller(primary_network=False)
    await create_all(kube, pod("p1", networks="netns/shared@eth1"))
    got = await probes.allocated(kube, "p1", provider)
    assert got[key(provider, "logical_switch")] == "sub-s"
    assert await probes.ip_object(kube, f"p1.default.{provider}") is not None


async def test_nad_not_served_is_skipped_quietly(start_controller, kube) -> None:
    """A macvlan NAD with host-local IPAM is another IPAM's: no address, no Event."""
    await create_all(
        kube,
        kube_ovn_nad("net-a"),
        subnet("sub-a", "172.17.0.0/24", provider=A),
        host_local_nad("hostlocal"),
    )
    controller = await start_controller(primary_network=False)
    await create_all(kube, pod("p1", networks="hostlocal,net-a"), pod("p2", networks="hostlocal"))
    got = await probes.allocated(kube, "p1", A)
    assert not any(k.startswith("hostlocal.") for k in got)
    await probes.pod_settled(controller, kube, "p2")
    assert await probes.events(kube, "p1") == []
    assert await probes.events(kube, "p2") == []
    assert await probes.annotations_of(kube, "p2") == {NETWORKS: "hostlocal"}
    assert sorted(await probes.ip_objects(kube)) == ["p1.default.net-a.default.ovn"]


async def test_macvlan_with_kube_ovn_ipam(start_controller, kube) -> None:
    """A macvlan NAD whose IPAM is kube-ovn has the address-only provider `<nad>.<ns>`."""
    provider = "mv.default"
    await create_all(kube, macvlan_nad("mv"), subnet("sub-mv", "10.50.0.0/24", provider=provider))
    await start_controller(primary_network=False)
    await create_all(kube, pod("p1", networks="mv"))
    got = await probes.allocated(kube, "p1", provider)
    assert got[key(provider, "ip_address")] == "10.50.0.2"
    ip = await probes.ip_object(kube, "p1.default.mv.default")
    assert ip is not None
    assert ip["spec"]["subnet"] == "sub-mv"
    assert ip["metadata"]["labels"]["ovn.kubernetes.io/subnet"] == "sub-mv"


async def test_logical_switch_annotation_picks_the_subnet(start_controller, kube) -> None:
    """`<P>.kubernetes.io/logical_switch` chooses among the provider's subnets."""
    await create_all(
        kube,
        kube_ovn_nad("net-a"),
        subnet("a1", "172.17.0.0/24", provider=A),
        subnet("a2", "172.27.0.0/24", provider=A),
    )
    await start_controller(primary_network=False)
    await create_all(
        kube,
        pod("p1", networks="net-a", annotations={key(A, "logical_switch"): "a2"}),
        pod("p2", networks="net-a"),
    )
    assert (await probes.allocated(kube, "p1", A))[key(A, "ip_address")] == "172.27.0.2"
    assert (await probes.allocated(kube, "p2", A))[key(A, "logical_switch")] == "a1"


async def test_first_subnet_by_name_with_room(start_controller, kube) -> None:
    """Without a choice, the first subnet by name is used until it is full, then the next."""
    await create_all(
        kube,
        kube_ovn_nad("net-a"),
        # a /30 has two usable addresses, one of them the gateway: room for one pod.
        subnet("a1", "172.17.0.0/30", provider=A),
        subnet("a2", "172.27.0.0/24", provider=A),
    )
    await start_controller(primary_network=False)
    await create_all(kube, pod("p1", networks="net-a"))
    first = await probes.allocated(kube, "p1", A)
    assert (first[key(A, "logical_switch")], first[key(A, "ip_address")]) == ("a1", "172.17.0.2")
    await create_all(kube, pod("p2", networks="net-a"), pod("p3", networks="net-a"))
    later = [await probes.allocated(kube, name, A) for name in ("p2", "p3")]
    assert [got[key(A, "logical_switch")] for got in later] == ["a2", "a2"]
    assert sorted(got[key(A, "ip_address")] for got in later) == ["172.27.0.2", "172.27.0.3"]
    assert await probes.events(kube, "p2") == []


async def test_primary_network_by_annotation(start_controller, kube) -> None:
    """`ovn.kubernetes.io/logical_switch` picks the primary subnet over the default one."""
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/16", default=True),
        subnet("special", "10.17.0.0/24"),
    )
    await start_controller()
    await create_all(kube, pod("p1", annotations={"ovn.kubernetes.io/logical_switch": "special"}))
    got = await probes.allocated(kube, "p1", "ovn")
    assert got["ovn.kubernetes.io/ip_address"] == "10.17.0.2"
    assert got["ovn.kubernetes.io/cidr"] == "10.17.0.0/24"
    ip = await probes.ip_object(kube, "p1.default")
    assert ip is not None
    assert ip["spec"]["subnet"] == "special"


async def test_primary_network_by_namespace_binding(start_controller, kube) -> None:
    """A subnet listing the pod's namespace serves its primary network."""
    await kube.create(
        NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    )
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/16", default=True),
        subnet("team-net", "10.18.0.0/24", namespaces=["team"]),
    )
    await start_controller()
    await create_all(kube, pod("p1", "team"), pod("p2"))
    team = await probes.allocated(kube, "p1", "ovn", namespace="team")
    assert team["ovn.kubernetes.io/logical_switch"] == "team-net"
    other = await probes.allocated(kube, "p2", "ovn")
    assert other["ovn.kubernetes.io/logical_switch"] == "ovn-default"


async def test_primary_network_default_subnet_and_none(
    start_controller, kube, frozen_clock
) -> None:
    """Without a default subnet no primary address is managed; with one, new pods get it."""
    # Pods created before it keep none: tests/controller/test_default_subnet_order.py.
    await create_all(kube, kube_ovn_nad("net-a"), subnet("sub-a", "172.17.0.0/24", provider=A))
    await start_controller()
    await create_all(kube, pod("p1", networks="net-a"))
    got = await probes.allocated(kube, "p1", A)
    assert "ovn.kubernetes.io/allocated" not in got
    frozen_clock.append("2026-01-01T10:00:05Z")  # strictly after p1
    await create_all(kube, subnet("ovn-default", "10.16.0.0/16", default=True))
    await probes.ready(kube, "ovn-default")
    await create_all(kube, pod("p2", networks="net-a"))
    both = await probes.allocated(kube, "p2", "ovn", A)
    assert both["ovn.kubernetes.io/logical_switch"] == "ovn-default"
    assert await probes.ip_object(kube, "p1.default") is None


async def test_primary_network_setting_off(start_controller, kube) -> None:
    """`primary_network=False`: pods get their attachments but no primary address."""
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/16", default=True),
        kube_ovn_nad("net-a"),
        subnet("sub-a", "172.17.0.0/24", provider=A),
    )
    controller = await start_controller(primary_network=False)
    await create_all(kube, pod("p1", networks="net-a"), pod("p2"))
    got = await probes.allocated(kube, "p1", A)
    assert "ovn.kubernetes.io/allocated" not in got
    await probes.pod_settled(controller, kube, "p2")
    assert "ovn.kubernetes.io/allocated" not in await probes.annotations_of(kube, "p2")
    assert sorted(await probes.ip_objects(kube)) == ["p1.default.net-a.default.ovn"]


async def test_host_network_pods_are_skipped(start_controller, kube) -> None:
    """A hostNetwork pod gets nothing, primary or attachment (Multus does not run for it)."""
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/16", default=True),
        kube_ovn_nad("net-a"),
        subnet("sub-a", "172.17.0.0/24", provider=A),
    )
    controller = await start_controller()
    host = pod("host1", networks="net-a")
    host["spec"]["hostNetwork"] = True
    await create_all(kube, host, pod("p1"))
    await probes.allocated(kube, "p1", "ovn")
    await probes.pod_settled(controller, kube, "host1")
    assert await probes.annotations_of(kube, "host1") == {NETWORKS: "net-a"}
    assert await probes.events(kube, "host1") == []
    assert sorted(await probes.ip_objects(kube)) == ["p1.default"]


async def test_nad_listed_twice_is_refused(start_controller, kube) -> None:
    """The same NAD twice would need two addresses for one provider: DuplicateProvider."""
    await _two_networks(kube)
    await start_controller(primary_network=False)
    await create_all(kube, pod("p1", networks="net-a@eth1,net-a@eth2"))
    event = await probes.warning(kube, "p1", "DuplicateProvider")
    assert "net-a" in event["message"]
    assert await probes.ip_objects(kube) == {}
