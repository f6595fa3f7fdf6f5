"""The shared invariant checks, on snapshots built from plain objects (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from ovnctl.audit import (
    FindingKind,
    Scope,
    Snapshot,
    WriteRecord,
    audit,
    nb_port_record,
    unfenced_writes,
)
from ovnctl.bench.objects import allocated_pod, ip_object, subnet
from ovnctl.demo.objects import pod, virtual_machine
from ovnctl.models import allocation_annotations, build_ip_object

CIDR = "172.17.0.0/24"


def _subnet(using: int = 2, available: int = 251) -> dict[str, Any]:
    body = subnet("attach", CIDR, nad_name="net")
    body["status"] = {"v4usingIPs": using, "v4availableIPs": available}
    return body


def _healthy() -> Snapshot:
    snapshot = Snapshot()
    snapshot.add_subnets([_subnet()])
    snapshot.add_ips(
        [
            ip_object(f"p{i}", subnet_name="attach", cidr=CIDR, nad_name="net", index=i)
            for i in (0, 1)
        ]
    )
    snapshot.add_pods(
        [
            allocated_pod(f"p{i}", subnet_name="attach", cidr=CIDR, nad_name="net", index=i)
            for i in (0, 1)
        ]
    )
    return snapshot


def _kinds(snapshot: Snapshot, scope: Scope = Scope.FULL) -> list[FindingKind]:
    return [f.kind for f in audit(snapshot, scope=scope).findings]


def test_healthy_snapshot_is_clean_and_reports_utilisation() -> None:
    """Pods, their IP objects and matching counts: no finding; utilisation is 2 of 253."""
    report = audit(_healthy())
    assert report.clean, report.findings
    (row,) = report.utilisation
    assert (row.subnet, row.v4_used, row.v4_capacity) == ("attach", 2, 253)


def test_two_ip_objects_with_one_address_are_a_duplicate() -> None:
    """A second IP object holding p0's address is reported with both names."""
    snapshot = _healthy()
    twin = ip_object("p9", subnet_name="attach", cidr=CIDR, nad_name="net", index=0)
    twin["spec"]["macAddress"] = "0e:00:00:00:00:99"
    snapshot.add_ips([twin])
    snapshot.add_pods(
        [allocated_pod("p9", subnet_name="attach", cidr=CIDR, nad_name="net", index=0)]
    )
    findings = [f for f in audit(snapshot).findings if f.kind is FindingKind.DUPLICATE_IP]
    assert {f.address for f in findings} == {"172.17.0.2"}
    assert any("p0.default.net.default.ovn" in f.subject and "p9" in f.subject for f in findings)
    # Exact at any moment: reported in the live scope too.
    assert FindingKind.DUPLICATE_IP in _kinds(snapshot, Scope.LIVE)


def test_live_migration_pair_is_one_owner() -> None:
    """Two launcher pods of one VM annotated with one address are not a duplicate."""
    snapshot = Snapshot()
    snapshot.add_subnets([_subnet(using=1)])
    snapshot.add_vms([virtual_machine("vm1")])
    annotations = allocation_annotations(
        provider="net.default.ovn",
        subnet="attach",
        cidr_block=CIDR,
        gateway="172.17.0.1",
        ips=["172.17.0.5"],
        mac="0e:00:00:00:00:05",
        vm_name="vm1",
    )
    snapshot.add_pods(
        [pod(f"virt-launcher-vm1-{s}", vm="vm1", annotations=annotations) for s in ("a", "b")]
    )
    snapshot.add_ips(
        [
            build_ip_object(
                name="vm1.default.net.default.ovn",
                pod_name="vm1",
                namespace="default",
                subnet="attach",
                ips=["172.17.0.5"],
                mac="0e:00:00:00:00:05",
                pod_type="VirtualMachine",
            )
        ]
    )
    assert _kinds(snapshot) == []


def test_ip_object_of_a_gone_pod_is_a_leak_and_live_scope_skips_it() -> None:
    """An IP object whose pod is not listed is a leak (full scope only)."""
    snapshot = _healthy()
    snapshot.pods = [p for p in snapshot.pods if p.name != "p1"]
    assert _kinds(snapshot) == [FindingKind.LEAK]
    assert _kinds(snapshot, Scope.LIVE) == []


def test_vm_ip_object_is_kept_by_the_vm_alone() -> None:
    """A stopped VM (no pod) owns its NIC; without the VM it is a leak."""
    snapshot = Snapshot()
    snapshot.add_subnets([_subnet(using=1)])
    snapshot.add_ips(
        [
            build_ip_object(
                name="vm1.default",
                pod_name="vm1",
                namespace="default",
                subnet="attach",
                ips=["172.17.0.7"],
                mac="0e:00:00:00:00:07",
                pod_type="VirtualMachine",
            )
        ]
    )
    assert _kinds(snapshot) == [FindingKind.LEAK]
    snapshot.add_vms([virtual_machine("vm1")])
    assert _kinds(snapshot) == []


def test_allocated_pod_without_ip_object_and_mismatch() -> None:
    """A pod annotated without an IP object, and one whose IP object disagrees, are reported."""
    snapshot = _healthy()
    snapshot.ips = [ip for ip in snapshot.ips if not ip.name.startswith("p1.")]
    snapshot.add_ips([ip_object("p0", subnet_name="attach", cidr=CIDR, nad_name="net", index=7)])
    snapshot.ips = [
        ip for ip in snapshot.ips if not (ip.name.startswith("p0.") and ip.ips == ("172.17.0.2",))
    ]
    kinds = _kinds(snapshot)
    assert FindingKind.MISSING_IP_OBJECT in kinds
    assert FindingKind.ANNOTATION_MISMATCH in kinds


def test_subnet_status_counts_are_compared_with_ip_objects() -> None:
    """status.v4usingIPs of 5 with 2 IP objects is a count mismatch naming both numbers."""
    snapshot = _healthy()
    snapshot.add_subnets([_subnet(using=5)])
    (finding,) = audit(snapshot).findings
    assert finding.kind is FindingKind.COUNT_MISMATCH
    assert "5" in finding.detail
    assert "2 IP objects" in finding.detail


def test_ip_object_naming_no_subnet() -> None:
    """An IP object in a subnet that does not exist is reported as unknown-subnet."""
    snapshot = _healthy()
    snapshot.add_subnets([])
    snapshot.subnets.clear()
    assert FindingKind.UNKNOWN_SUBNET in _kinds(snapshot)


def test_northbound_ports_against_ip_objects() -> None:
    """Ports without IP objects, IP objects without ports, and differing addresses."""
    snapshot = _healthy()
    snapshot.add_ports(
        [
            nb_port_record(
                "p0.default.net.default.ovn", "attach", ["0e:00:00:00:00:00 172.17.0.2"]
            ),
            nb_port_record(
                "ghost.default.net.default.ovn", "attach", ["0e:00:00:00:0f:00 172.17.0.99"]
            ),
        ]
    )
    kinds = _kinds(snapshot)
    assert kinds.count(FindingKind.PORT_WITHOUT_IP_OBJECT) == 1
    assert kinds.count(FindingKind.IP_OBJECT_WITHOUT_PORT) == 1  # p1 has no port
    assert FindingKind.PORT_MISMATCH not in kinds
    snapshot.ports = [
        nb_port_record("p0.default.net.default.ovn", "attach", ["0e:00:00:00:00:00 172.17.0.3"])
    ]
    assert FindingKind.PORT_MISMATCH in _kinds(snapshot)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"metadata": {"name": "x"}, "spec": {"ipAddress": "10.0.0.1"}}, "spec.subnet"),
        (
            {"metadata": {"name": "x"}, "spec": {"subnet": "s", "ipAddress": "nope"}},
            "spec.ipAddress",
        ),
    ],
)
def test_unreadable_ip_object_is_reported_malformed_naming_the_field(body, field) -> None:
    """A broken IP object is not skipped: it is a malformed finding naming the field."""
    snapshot = Snapshot()
    snapshot.add_ips([body])
    (finding,) = audit(snapshot).findings
    assert finding.kind is FindingKind.MALFORMED
    assert field in finding.detail


def _w(agent: str, verb: str, resource: str, status: int = 200) -> WriteRecord:
    return WriteRecord(agent, verb, resource, status, f"/{resource}/x")


def test_writes_follow_the_lease_holder() -> None:
    """Writes by the holder of the moment pass; one after losing the Lease is reported."""
    log = [
        _w("ovnctl/a", "create", "leases"),
        _w("ovnctl/a", "create", "ips"),
        _w("ovnctl/b", "update", "leases", status=409),  # a failed takeover changes nothing
        _w("ovnctl/b", "get", "pods"),  # reads are anyone's
        _w("ovnctl/b", "create", "events"),  # events are not fenced
        _w("user", "delete", "pods"),  # not a replica
        _w("ovnctl/b", "update", "leases"),  # b takes over
        _w("ovnctl/b", "patch", "pods"),
        _w("ovnctl/a", "delete", "ips", status=404),  # a, too late
    ]
    (finding,) = unfenced_writes(log, agent_prefix="ovnctl/")
    assert finding.kind is FindingKind.UNFENCED_WRITE
    assert finding.subject == "ovnctl/a"
    assert "held by ovnctl/b" in finding.detail


def test_ip_object_of_a_running_owner_must_be_annotated() -> None:
    """A live pod whose IP object exists but whose annotations lack it is reported."""
    snapshot = _healthy()
    snapshot.pods = [p for p in snapshot.pods if p.name != "p1"]
    snapshot.add_pods([pod("p1")])  # running, never annotated
    assert _kinds(snapshot) == [FindingKind.MISSING_ANNOTATION]


def test_node_ip_objects_are_not_leaks() -> None:
    """Kube-OVN's node port IP objects (no namespace) belong to no pod: never a leak."""
    snapshot = _healthy()
    snapshot.add_subnets([_subnet(using=3)])
    snapshot.add_ips(
        [
            build_ip_object(
                name="node-node1",
                pod_name="node1",
                namespace="",
                subnet="attach",
                ips=["172.17.0.100"],
                mac="0e:00:00:00:01:00",
            )
        ]
    )
    assert _kinds(snapshot) == []


def test_writes_in_flight_when_a_replica_froze_are_told_apart() -> None:
    """Right after a resume, a frozen replica's in-flight writes are stale-in-flight."""
    log = [
        WriteRecord("ovnctl/a", "update", "leases", 200, "/l", 0),
        WriteRecord("ovnctl/b", "update", "leases", 200, "/l", 1),  # a froze; b took over
        WriteRecord("ovnctl/a", "create", "ips", 409, "/ips", 3),  # sent before the freeze
        WriteRecord("ovnctl/a", "create", "ips", 201, "/ips", 4),
    ]
    kinds = [
        f.kind
        for f in unfenced_writes(
            log, agent_prefix="ovnctl/", resumed={"ovnctl/a": [2]}, in_flight=1
        )
    ]
    assert kinds == [FindingKind.STALE_IN_FLIGHT, FindingKind.UNFENCED_WRITE]
