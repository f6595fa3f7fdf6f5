"""IPAMClaims: the address belongs to the claim, through pods and migrations, until it goes."""

from __future__ import annotations

import json
from typing import Any

from ovnctl.k8s.resources import IPAMCLAIMS, PODS, VIRTUAL_MACHINES
from tests.controller import probes
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, pod, subnet, virtual_machine

PROVIDER = "tenantnet.default.ovn"
IP = f"{PROVIDER}.kubernetes.io/ip_address"
MAC = f"{PROVIDER}.kubernetes.io/mac_address"


def nad(persistent: bool = True) -> dict[str, Any]:
    config: dict[str, Any] = {"cniVersion": "0.3.1", "name": "tenantnet", "type": "kube-ovn"}
    if persistent:
        config["allowPersistentIPs"] = True
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": "tenantnet", "namespace": "default"},
        "spec": {"config": json.dumps(config)},
    }


def claim(name: str, network: str = "tenantnet") -> dict[str, Any]:
    return {
        "apiVersion": "k8s.cni.cncf.io/v1alpha1",
        "kind": "IPAMClaim",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"network": network, "interface": "pod16367aacb67"},
    }


def networks(claim_name: str) -> str:
    return json.dumps([{"name": "tenantnet", "ipam-claim-reference": claim_name}])


def _mismatch(status: dict[str, Any]) -> bool:
    return any(c.get("reason") == "NetworkMismatch" for c in status.get("conditions", []))


async def claim_status(kube, name: str) -> dict[str, Any]:
    body = await kube.get(IPAMCLAIMS, name=name, namespace="default")
    return dict(body.get("status") or {})


async def test_claim_survives_pods_a_migration_and_the_vm(start_controller, kube) -> None:
    """Launcher pods, a live migration and even the VM's deletion keep the claim's address."""
    await create_all(
        kube,
        nad(),
        subnet("tenant", "172.17.0.0/24", provider=PROVIDER),
        virtual_machine("vm1"),
        claim("vm1.tenantnet"),
    )
    await start_controller(primary_network=False)
    await create_all(kube, pod("virt-launcher-vm1-a", networks=networks("vm1.tenantnet"), vm="vm1"))
    first = await probes.allocated(kube, "virt-launcher-vm1-a", PROVIDER)
    ip = await probes.ip_object(kube, f"vm1.tenantnet.default.{PROVIDER}")
    assert ip is not None
    assert (ip["spec"]["podType"], ip["spec"]["podName"]) == ("IPAMClaim", "vm1.tenantnet")
    status = await eventually(
        lambda: claim_status(kube, "vm1.tenantnet"), until=lambda s: bool(s.get("ips"))
    )
    assert status["ips"] == [f"{first[IP]}/24"]
    assert status["ownerPod"] == {"name": "virt-launcher-vm1-a"}

    # Live migration: the target runs beside the source with the same address.
    target = pod(
        "virt-launcher-vm1-b",
        networks=networks("vm1.tenantnet"),
        vm="vm1",
        node="node2",
        annotations={"kubevirt.io/migrationJobName": "mig1"},
    )
    await create_all(kube, target)
    moved = await probes.allocated(kube, "virt-launcher-vm1-b", PROVIDER)
    assert (moved[IP], moved[MAC]) == (first[IP], first[MAC])

    # Both pods and the VM gone: the claim still holds the address.
    for name in ("virt-launcher-vm1-a", "virt-launcher-vm1-b"):
        await kube.delete(PODS, name=name, namespace="default")
    await kube.delete(VIRTUAL_MACHINES, name="vm1", namespace="default")
    await create_all(kube, pod("other", networks="tenantnet"))
    other = await probes.allocated(kube, "other", PROVIDER)
    assert other[IP] != first[IP]
    await create_all(kube, virtual_machine("vm1"))
    await create_all(kube, pod("virt-launcher-vm1-c", networks=networks("vm1.tenantnet"), vm="vm1"))
    again = await probes.allocated(kube, "virt-launcher-vm1-c", PROVIDER)
    assert (again[IP], again[MAC]) == (first[IP], first[MAC])


async def test_claim_deletion_frees_the_address(start_controller, kube) -> None:
    """Deleting the claim (its pod gone first, or after) releases the address."""
    await create_all(
        kube, nad(), subnet("tenant", "172.17.0.0/24", provider=PROVIDER), claim("c1"), claim("c2")
    )
    await start_controller(primary_network=False)
    await create_all(kube, pod("p1", networks=networks("c1")), pod("p2", networks=networks("c2")))
    await probes.allocated(kube, "p1", PROVIDER)
    await probes.allocated(kube, "p2", PROVIDER)
    # c1: pod first, then claim. c2: claim first, then pod.
    await kube.delete(PODS, name="p1", namespace="default")
    await kube.delete(IPAMCLAIMS, name="c1", namespace="default")
    await kube.delete(IPAMCLAIMS, name="c2", namespace="default")
    await kube.delete(PODS, name="p2", namespace="default")
    await eventually(lambda: probes.ip_objects(kube), until=lambda ips: not ips)
    await eventually(lambda: probes.using(kube, "tenant"), until=lambda n: n == 0)


async def test_claim_errors_are_events_and_conditions(start_controller, kube) -> None:
    """A missing claim waits; a claim of another network is an Event and a condition."""
    await create_all(
        kube, nad(), subnet("tenant", "172.17.0.0/24", provider=PROVIDER), claim("wrong", "blue")
    )
    await start_controller(primary_network=False)
    await create_all(kube, pod("early", networks=networks("later")))
    await probes.warning(kube, "early", "IPAMClaimNotFound")
    await create_all(kube, claim("later"))
    await probes.allocated(kube, "early", PROVIDER)

    await create_all(kube, pod("mismatch", networks=networks("wrong")))
    event = await probes.warning(kube, "mismatch", "IPAMClaimNetworkMismatch")
    assert "'blue'" in event["message"]
    assert "'tenantnet'" in event["message"]
    status = await eventually(lambda: claim_status(kube, "wrong"), until=_mismatch)
    assert status["conditions"][0]["status"] == "False"
    assert not status.get("ips")


async def test_without_allow_persistent_ips_the_claim_is_ignored(start_controller, kube) -> None:
    """A NAD that does not opt in gives the pod an ordinary, pod-owned address."""
    await create_all(
        kube, nad(persistent=False), subnet("tenant", "172.17.0.0/24", provider=PROVIDER)
    )
    await start_controller(primary_network=False)
    await create_all(kube, pod("plain", networks=networks("absent")))
    await probes.allocated(kube, "plain", PROVIDER)
    assert await probes.ip_object(kube, f"plain.default.{PROVIDER}") is not None
