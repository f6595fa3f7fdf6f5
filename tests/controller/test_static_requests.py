"""Static IP and MAC requests, by annotation and by the networks JSON (docs/allocation.md)."""

from __future__ import annotations

import json

from tests.controller import probes
from tests.controller.objects import create_all, kube_ovn_nad, pod, subnet
from tests.controller.probes import key

A = "net-a.default.ovn"


async def test_static_ip_and_mac_by_annotation(start_controller, kube) -> None:
    """`<P>.kubernetes.io/ip_address` and `mac_address` pin both the primary and an attachment."""
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/16", default=True),
        kube_ovn_nad("net-a"),
        subnet("sub-a", "172.17.0.0/24", provider=A),
    )
    await start_controller()
    await create_all(
        kube,
        pod(
            "p1",
            networks="net-a",
            annotations={
                "ovn.kubernetes.io/ip_address": "10.16.3.4",
                "ovn.kubernetes.io/mac_address": "0e:00:00:00:00:42",
                key(A, "ip_address"): "172.17.0.77",
                key(A, "mac_address"): "0E-00-00-00-00-77",
            },
        ),
    )
    got = await probes.allocated(kube, "p1", "ovn", A)
    assert got["ovn.kubernetes.io/ip_address"] == "10.16.3.4"
    assert got["ovn.kubernetes.io/mac_address"] == "0e:00:00:00:00:42"
    assert got[key(A, "ip_address")] == "172.17.0.77"
    assert got[key(A, "mac_address")] == "0e:00:00:00:00:77"
    ip = await probes.ip_object(kube, "p1.default.net-a.default.ovn")
    assert ip is not None
    assert (ip["spec"]["ipAddress"], ip["spec"]["v4IpAddress"]) == ("172.17.0.77", "172.17.0.77")
    assert ip["spec"]["macAddress"] == "0e:00:00:00:00:77"
    # Automatic allocation goes around the static address.
    await create_all(kube, pod("p2", networks="net-a"))
    assert (await probes.allocated(kube, "p2", A))[key(A, "ip_address")] == "172.17.0.2"


async def test_static_ip_and_mac_by_json(start_controller, kube) -> None:
    """A JSON networks entry's `ips` (with a prefix) and `mac` are honoured."""
    await create_all(kube, kube_ovn_nad("net-a"), subnet("sub-a", "172.17.0.0/24", provider=A))
    await start_controller(primary_network=False)
    networks = json.dumps([{"name": "net-a", "ips": ["172.17.0.9/24"], "mac": "0e:11:22:33:44:55"}])
    await create_all(kube, pod("p1", networks=networks))
    got = await probes.allocated(kube, "p1", A)
    assert (got[key(A, "ip_address")], got[key(A, "mac_address")]) == (
        "172.17.0.9",
        "0e:11:22:33:44:55",
    )


async def test_annotation_wins_over_json(start_controller, kube) -> None:
    """When both ask, the per-provider annotation wins over the JSON entry, field by field."""
    await create_all(kube, kube_ovn_nad("net-a"), subnet("sub-a", "172.17.0.0/24", provider=A))
    await start_controller(primary_network=False)
    networks = json.dumps([{"name": "net-a", "ips": ["172.17.0.9"], "mac": "0e:11:22:33:44:55"}])
    await create_all(
        kube,
        pod("p1", networks=networks, annotations={key(A, "ip_address"): "172.17.0.10"}),
    )
    got = await probes.allocated(kube, "p1", A)
    assert got[key(A, "ip_address")] == "172.17.0.10"
    assert got[key(A, "mac_address")] == "0e:11:22:33:44:55"  # the annotation did not ask


async def test_dual_stack_static(start_controller, kube) -> None:
    """A dual-stack subnet gives one address per family; a static pair is taken as asked."""
    cidr = "10.16.0.0/24,fd00:10:16::/64"
    await create_all(kube, subnet("dual", cidr, default=True))
    await start_controller()
    await create_all(
        kube,
        pod("p1", annotations={"ovn.kubernetes.io/ip_address": "fd00:10:16::99, 10.16.0.99"}),
        pod("p2"),
    )
    got = await probes.allocated(kube, "p1", "ovn")
    assert got["ovn.kubernetes.io/ip_address"] == "10.16.0.99,fd00:10:16::99"
    assert got["ovn.kubernetes.io/cidr"] == cidr
    assert got["ovn.kubernetes.io/gateway"] == "10.16.0.1,fd00:10:16::1"
    ip = await probes.ip_object(kube, "p1.default")
    assert ip is not None
    assert ip["spec"]["v4IpAddress"] == "10.16.0.99"
    assert ip["spec"]["v6IpAddress"] == "fd00:10:16::99"
    auto = await probes.allocated(kube, "p2", "ovn")
    assert auto["ovn.kubernetes.io/ip_address"] == "10.16.0.2,fd00:10:16::2"
