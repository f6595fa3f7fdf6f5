"""rebuild_ipam alone: the IPAM and the ledger rebuilt from IP objects, then pod annotations.

IP objects are seeded in the fake writer (what a LIST returns), pods in the
caches; the rebuild is run as the controller runs it at start-up.
"""

from __future__ import annotations

from typing import Any

from ovnctl.ipam import AllocationRecord, ConflictReason
from ovnctl.k8s.resources import IPS
from ovnctl.models import VM_POD_TYPE, build_ip_object
from tests.controller.objects import pod, subnet
from tests.reconcilers.factories import Rig, run_rebuild


def ip_object(
    name: str, ip: str, *, subnet: str = "s1", mac: str = "", pod_name: str = "", **kw: Any
) -> dict[str, Any]:
    return build_ip_object(
        name=name,
        pod_name=pod_name or name.split(".")[0],
        namespace="default",
        subnet=subnet,
        ips=[ip],
        mac=mac,
        **kw,
    )


def setup(rig: Rig, *objects: dict[str, Any]) -> None:
    rig.add_subnet(subnet("s1", "10.16.0.0/24"), serve=False)
    rig.serving.add("s1")
    for body in objects:
        rig.writer.seed(IPS, body)


async def test_ip_objects_are_replayed_into_serving_subnets(rig: Rig) -> None:
    """Each IP object's address and MAC are held again by its NIC, and the NIC recorded."""
    setup(rig, ip_object("p1.default", "10.16.0.7", mac="02:00:00:00:00:07"))
    report = await run_rebuild(rig)
    assert report.recorded == 1
    [held] = rig.ipam.lookup("p1.default")
    assert (held.ips, held.mac) == (("10.16.0.7",), "02:00:00:00:00:07")
    assert rig.ledger.nics_of_pod(("default", "p1")) == {"p1.default"}
    assert rig.ledger.written("p1.default") is not None


async def test_subnets_that_may_not_serve_are_not_registered(rig: Rig) -> None:
    """A subnet the reconciler would refuse gets no pool; its IP objects are reported."""
    setup(rig, ip_object("p1.default", "10.17.0.7", subnet="refused"))
    rig.add_subnet(subnet("refused", "10.17.0.0/24"), serve=False)
    report = await run_rebuild(rig)
    assert "refused" not in rig.ipam
    [conflict] = report.conflicts
    assert conflict.reason is ConflictReason.UNKNOWN_SUBNET
    assert rig.ledger.owner_of("p1.default") is not None  # its release must still delete it


async def test_conflicting_claims_are_reported_not_resolved(rig: Rig) -> None:
    """Two IP objects claiming one address: the first holds it, the second is only reported."""
    setup(
        rig,
        ip_object("a.default", "10.16.0.7"),
        ip_object("b.default", "10.16.0.7"),
    )
    report = await run_rebuild(rig)
    assert rig.ipam.subnet("s1").owner_of("10.16.0.7") == "a.default"
    assert rig.ipam.lookup("b.default") == ()
    [conflict] = report.conflicts
    assert (conflict.record.owner, conflict.reason) == ("b.default", ConflictReason.IP_TAKEN)
    assert conflict.holder == "a.default"
    # Neither IP object was touched: the operator decides.
    assert rig.writer.writes() == []
    assert rig.ledger.owner_of("b.default") is not None


async def test_pod_annotations_are_replayed_after_ip_objects(rig: Rig) -> None:
    """An allocation only a pod annotation records is restored; an IP object's address wins."""
    setup(rig, ip_object("holder.default", "10.16.0.9"))
    annotated = {
        "ovn.kubernetes.io/allocated": "true",
        "ovn.kubernetes.io/ip_address": "10.16.0.8",
        "ovn.kubernetes.io/mac_address": "02:00:00:00:00:08",
        "ovn.kubernetes.io/logical_switch": "s1",
    }
    clashing = {**annotated, "ovn.kubernetes.io/ip_address": "10.16.0.9"}
    rig.add(pod("only-annotated", annotations=annotated), pod("clash", annotations=clashing))
    report = await run_rebuild(rig)
    assert rig.ipam.lookup("only-annotated.default")[0].ips == ("10.16.0.8",)
    assert rig.ipam.subnet("s1").owner_of("10.16.0.9") == "holder.default"
    assert rig.ipam.lookup("clash.default") == ()
    # The clash is that address's NIC under another name (an IPAMClaim's), not a conflict.
    assert report.conflicts == ()
    assert rig.ledger.nics_of_pod(("default", "only-annotated")) == {"only-annotated.default"}


async def test_malformed_ip_objects_are_skipped(rig: Rig) -> None:
    """An IP object that does not parse is skipped; the others are restored."""
    bad = ip_object("bad.default", "10.16.0.5")
    bad["spec"]["ipAddress"] = "not-an-ip"
    bad["spec"]["v4IpAddress"] = "not-an-ip"
    setup(rig, bad, ip_object("good.default", "10.16.0.6"))
    report = await run_rebuild(rig)
    assert report.recorded == 1
    assert rig.ipam.lookup("bad.default") == ()
    assert rig.ledger.owner_of("bad.default") is None


async def test_ip_objects_are_read_in_pages(rig: Rig) -> None:
    """The IP objects are LISTed in pages of the given size and all of them restored."""
    setup(rig, *(ip_object(f"p{i}.default", f"10.16.0.{10 + i}") for i in range(5)))
    report = await run_rebuild(rig, page_size=2)
    assert report.recorded == 5
    [listed] = rig.writer.calls_to("list", IPS)
    assert listed.body == {"limit": 2}


async def test_vm_ip_objects_are_recorded_under_the_vm(rig: Rig) -> None:
    """A VM's IP object is recorded under the VM, so the VM reconciler finds it."""
    setup(rig, ip_object("vm1.default", "10.16.0.7", pod_type=VM_POD_TYPE))
    await run_rebuild(rig)
    assert rig.ledger.nics_of_vm(("default", "vm1")) == {"vm1.default"}


async def test_reserved_addresses_go_first_and_their_users_are_not_owners(rig: Rig) -> None:
    """A Vip's reservation is replayed first; an IP object using it is recorded, not held."""
    setup(rig, ip_object("user.default", "10.16.0.20"))
    reserved = AllocationRecord(owner="vip:v1", ips=("10.16.0.20",), subnet="s1")
    report = await run_rebuild(rig, reserved=[reserved])
    assert report.conflicts == ()
    assert rig.ipam.subnet("s1").owner_of("10.16.0.20") == "vip:v1"
    assert rig.ipam.lookup("user.default") == ()
    assert rig.ledger.owner_of("user.default") is not None


async def test_annotation_naming_an_unknown_subnet_is_reported(rig: Rig) -> None:
    """A pod annotation recording an address in a subnet that does not serve is reported."""
    setup(rig)
    annotated = {
        "ovn.kubernetes.io/allocated": "true",
        "ovn.kubernetes.io/ip_address": "10.40.0.8",
        "ovn.kubernetes.io/logical_switch": "nowhere",
    }
    rig.add(pod("p1", annotations=annotated))
    report = await run_rebuild(rig)
    [conflict] = report.conflicts
    assert (conflict.record.owner, conflict.reason) == ("p1.default", ConflictReason.UNKNOWN_SUBNET)
    assert rig.ipam.lookup("p1.default") == ()
