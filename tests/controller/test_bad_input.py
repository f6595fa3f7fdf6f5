"""Bad input: a Warning Event naming field and value, no partial state, a retry on change.

Every pod here also asks for a good attachment (and, where a default subnet
exists, its primary network), so "no partial state" means the good parts were
not allocated either: all of a pod's NICs are written or none is.
"""

from __future__ import annotations

import json
from typing import Any

from ovnctl.k8s.resources import PODS
from tests.controller import probes
from tests.controller.objects import create_all, kube_ovn_nad, macvlan_nad, pod, subnet
from tests.controller.probes import NETWORKS, key

A = "net-a.default.ovn"
B = "net-b.default.ovn"


async def _setup(kube: Any, *, b_subnet: str = "172.18.0.0/24") -> None:
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/16", default=True),
        kube_ovn_nad("net-a"),
        kube_ovn_nad("net-b"),
        subnet("sub-a", "172.17.0.0/24", provider=A),
        subnet("sub-b", b_subnet, provider=B),
    )


async def _nothing_allocated(kube: Any, controller: Any, name: str, *subnets: str) -> None:
    """No IP object of the pod, no allocation annotation, no address counted in use."""
    await probes.pod_settled(controller, kube, name)
    assert not [n for n in await probes.ip_objects(kube) if n.startswith(f"{name}.")]
    assert not [k for k in await probes.annotations_of(kube, name) if k.endswith("/allocated")]
    for name_ in subnets:
        assert await probes.using(kube, name_) == 0


async def _patch_annotations(kube: Any, name: str, annotations: dict[str, str | None]) -> None:
    await kube.patch(
        PODS, name=name, namespace="default", body={"metadata": {"annotations": annotations}}
    )


async def test_malformed_networks_annotation(start_controller, kube) -> None:
    """A broken networks annotation is reported and nothing is allocated until it is fixed."""
    await _setup(kube)
    controller = await start_controller()
    await create_all(kube, pod("p1", networks="net-a,net-b@@eth2"))
    event = await probes.warning(kube, "p1", "InvalidNetworksAnnotation")
    assert f"{NETWORKS}[1]" in event["message"]
    assert "net-b@@eth2" in event["message"]
    await _nothing_allocated(kube, controller, "p1", "ovn-default", "sub-a", "sub-b")

    await _patch_annotations(kube, "p1", {NETWORKS: "net-a,net-b@eth2"})
    await probes.allocated(kube, "p1", "ovn", A, B)


async def test_malformed_networks_json(start_controller, kube) -> None:
    """Invalid JSON is reported with the annotation's value."""
    await _setup(kube)
    controller = await start_controller()
    await create_all(kube, pod("p1", networks='[{"name": "net-a"'))
    event = await probes.warning(kube, "p1", "InvalidNetworksAnnotation")
    assert NETWORKS in event["message"]
    assert '[{"name": "net-a"' in event["message"]
    await _nothing_allocated(kube, controller, "p1", "ovn-default", "sub-a")
    await _patch_annotations(kube, "p1", {NETWORKS: '[{"name": "net-a"}]'})
    await probes.allocated(kube, "p1", "ovn", A)


async def test_unknown_nad_then_created(start_controller, kube) -> None:
    """A missing NAD is reported; creating it (and nothing else) gets the pod allocated."""
    await _setup(kube)
    # The subnet for the NAD to come exists already (not Ready: its NAD is missing).
    await create_all(kube, subnet("sub-m", "172.19.0.0/24", provider="late.default"))
    controller = await start_controller()
    await create_all(kube, pod("p1", networks="net-a,late"))
    event = await probes.warning(kube, "p1", "NadNotFound")
    assert f"{NETWORKS}[1]" in event["message"]
    assert "default/late" in event["message"]
    await _nothing_allocated(kube, controller, "p1", "ovn-default", "sub-a")

    await create_all(kube, macvlan_nad("late"))
    got = await probes.allocated(kube, "p1", "ovn", A, "late.default")
    assert got[key("late.default", "ip_address")] == "172.19.0.2"


async def test_provider_bound_to_no_subnet(start_controller, kube) -> None:
    """A served NAD with no subnet is reported; creating a subnet for it allocates the pod."""
    await _setup(kube)
    await create_all(kube, kube_ovn_nad("net-c"))
    controller = await start_controller()
    await create_all(kube, pod("p1", networks="net-a,net-c"))
    event = await probes.warning(kube, "p1", "ProviderNotBound")
    assert "provider net-c.default.ovn is not bound to any subnet" in event["message"]
    await _nothing_allocated(kube, controller, "p1", "ovn-default", "sub-a")

    await create_all(kube, subnet("sub-c", "172.20.0.0/24", provider="net-c.default.ovn"))
    got = await probes.allocated(kube, "p1", "ovn", A, "net-c.default.ovn")
    assert got[key("net-c.default.ovn", "logical_switch")] == "sub-c"


async def _static_refused(
    kube: Any,
    controller: Any,
    *,
    reason: str,
    bad: dict[str, str],
    good: dict[str, str],
    shown: str,
) -> dict[str, Any]:
    """Pod p1 asks ``bad`` on net-b: refused with ``reason``; fixed to ``good``: allocated."""
    await create_all(kube, pod("p1", networks="net-a,net-b", annotations=bad))
    event = await probes.warning(kube, "p1", reason)
    field = next(iter(bad))
    assert field in event["message"], event["message"]
    assert shown in event["message"], event["message"]
    await _nothing_allocated(kube, controller, "p1", "ovn-default", "sub-a", "sub-b")
    await _patch_annotations(kube, "p1", {**dict.fromkeys(bad), **good})
    return await probes.allocated(kube, "p1", "ovn", A, B)


async def test_static_ip_out_of_range(start_controller, kube) -> None:
    """A static IP outside the subnet: StaticIPOutOfRange, then fixed by the user."""
    await _setup(kube)
    controller = await start_controller()
    got = await _static_refused(
        kube,
        controller,
        reason="StaticIPOutOfRange",
        bad={key(B, "ip_address"): "10.99.0.5"},
        good={key(B, "ip_address"): "172.18.0.5"},
        shown="10.99.0.5",
    )
    assert got[key(B, "ip_address")] == "172.18.0.5"


async def test_static_ip_wrong_family(start_controller, kube) -> None:
    """An IPv6 address asked of an IPv4 subnet: StaticIPWrongFamily."""
    await _setup(kube)
    controller = await start_controller()
    await _static_refused(
        kube,
        controller,
        reason="StaticIPWrongFamily",
        bad={key(B, "ip_address"): "fd00::5"},
        good={},
        shown="fd00::5",
    )


async def test_static_ip_is_the_gateway(start_controller, kube) -> None:
    """The subnet's gateway cannot be asked for: StaticIPIsGateway."""
    await _setup(kube)
    controller = await start_controller()
    await _static_refused(
        kube,
        controller,
        reason="StaticIPIsGateway",
        bad={key(B, "ip_address"): "172.18.0.1"},
        good={},
        shown="172.18.0.1",
    )


async def test_malformed_mac(start_controller, kube) -> None:
    """A MAC that is not one: InvalidMAC naming the annotation and value."""
    await _setup(kube)
    controller = await start_controller()
    got = await _static_refused(
        kube,
        controller,
        reason="InvalidMAC",
        bad={key(B, "mac_address"): "0e:zz:00:00:00:01"},
        good={key(B, "mac_address"): "0e:00:00:00:00:01"},
        shown="0e:zz:00:00:00:01",
    )
    assert got[key(B, "mac_address")] == "0e:00:00:00:00:01"


async def test_malformed_mac_in_json(start_controller, kube) -> None:
    """A bad `mac` in a JSON networks entry names the entry's field."""
    await _setup(kube)
    controller = await start_controller()
    networks = json.dumps([{"name": "net-a"}, {"name": "net-b", "mac": "not-a-mac"}])
    await create_all(kube, pod("p1", networks=networks))
    event = await probes.warning(kube, "p1", "InvalidNetworksAnnotation")
    assert f"{NETWORKS}[1].mac" in event["message"]
    assert "not-a-mac" in event["message"]
    await _nothing_allocated(kube, controller, "p1", "ovn-default", "sub-a", "sub-b")


async def test_static_ip_taken_until_the_holder_goes(start_controller, kube) -> None:
    """An address another pod holds: StaticIPTaken; allocated once that pod is deleted."""
    await _setup(kube)
    controller = await start_controller()
    await create_all(
        kube, pod("holder", networks="net-b", annotations={key(B, "ip_address"): "172.18.0.7"})
    )
    await probes.allocated(kube, "holder", B)
    networks = json.dumps([{"name": "net-a"}, {"name": "net-b", "ips": ["172.18.0.7"]}])
    await create_all(kube, pod("p1", networks=networks))
    event = await probes.warning(kube, "p1", "StaticIPTaken")
    assert f"{NETWORKS}[1].ips" in event["message"]
    assert "172.18.0.7" in event["message"]
    await probes.pod_settled(controller, kube, "p1")
    assert not [n for n in await probes.ip_objects(kube) if n.startswith("p1.")]
    assert await probes.using(kube, "sub-b") == 1  # the holder's only
    assert await probes.using(kube, "sub-a") == 0

    await kube.delete(PODS, name="holder", namespace="default")
    got = await probes.allocated(kube, "p1", "ovn", A, B)
    assert got[key(B, "ip_address")] == "172.18.0.7"


async def test_subnet_exhausted_until_an_address_frees(start_controller, kube) -> None:
    """A full subnet: SubnetExhausted; allocated as soon as another pod's address frees."""
    # A /29 has six usable addresses, one of them the gateway: room for five pods.
    await _setup(kube, b_subnet="172.18.0.0/29")
    controller = await start_controller()
    await create_all(kube, *(pod(f"f{i}", networks="net-b") for i in range(5)))
    full = [(await probes.allocated(kube, f"f{i}", B))[key(B, "ip_address")] for i in range(5)]
    await create_all(kube, pod("p1", networks="net-a,net-b"))
    event = await probes.warning(kube, "p1", "SubnetExhausted")
    assert "sub-b" in event["message"]
    await probes.pod_settled(controller, kube, "p1")
    assert not [n for n in await probes.ip_objects(kube) if n.startswith("p1.")]
    assert await probes.using(kube, "sub-a") == 0
    assert await probes.using(kube, "sub-b") == 5

    await kube.delete(PODS, name="f3", namespace="default")
    got = await probes.allocated(kube, "p1", "ovn", A, B)
    assert got[key(B, "ip_address")] == full[3]


async def test_exhausted_provider_waits_on_every_candidate_subnet(start_controller, kube) -> None:
    """With every subnet of a provider full, an address freed in any of them serves the pod."""
    await create_all(
        kube,
        kube_ovn_nad("net-a"),
        subnet("a1", "172.17.0.0/30", provider=A),
        subnet("a2", "172.27.0.0/30", provider=A),
    )
    await start_controller(primary_network=False)
    await create_all(kube, pod("f1", networks="net-a"))
    await probes.allocated(kube, "f1", A)
    await create_all(kube, pod("f2", networks="net-a"))
    assert (await probes.allocated(kube, "f2", A))[key(A, "logical_switch")] == "a2"
    await create_all(kube, pod("p1", networks="net-a"))
    await probes.warning(kube, "p1", "SubnetExhausted")
    await kube.delete(PODS, name="f2", namespace="default")  # frees a2, not a1
    got = await probes.allocated(kube, "p1", A)
    assert got[key(A, "logical_switch")] == "a2"
