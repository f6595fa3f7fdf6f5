"""The IPAM's promises as checks over a snapshot of the cluster: the one implementation.

``ovnctl ipam check`` (operators) and the chaos benchmark's checker both call
:func:`audit` with a :class:`Snapshot` filled from what they read through the
API server and the OVN NB, never from a controller's memory, and get
:class:`Finding` objects back. The promises (docs/ipam-check.md):

- no address (or MAC) is held by two owners in one subnet; the two pods of a
  live migration are one owner (their VM's NIC);
- every IP object's owner exists (else it is a *leak*), and its subnet too;
- every allocated pod NIC has its IP object, saying the same address, and
  every IP object whose owner has live pods is annotated on one of them;
- with the NB: every port ovnctl owns has an IP object and the reverse (for
  subnets OVN serves), with the same MAC and addresses;
- each subnet's status counts equal its IP objects;
- (from a server's request log, :mod:`.fencing`) every controller write comes
  from the replica that held the leader Lease when it was received.

A snapshot read while the cluster changes is not one instant: the IP
objects are listed before the pods, so a pod created and allocated in
between has an annotation whose IP object the snapshot lacks. Only the
checks that compare objects of one listing with each other are exact at any
moment (:attr:`Scope.LIVE`); the others hold once the cluster is quiet
(:attr:`Scope.FULL`), which is when an operator runs the check, and when the
chaos checker runs them after the faults stop.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ovnctl.audit.records import (
    IpObjectRecord,
    NbPortRecord,
    OwnerRecord,
    PodRecord,
    SubnetRecord,
    Unreadable,
    ip_object_record,
    owner_record,
    pod_record,
    subnet_record,
)
from ovnctl.models import ip_object_name

__all__ = [
    "AuditReport",
    "Finding",
    "FindingKind",
    "Scope",
    "Snapshot",
    "SubnetUtilisation",
    "audit",
]


class FindingKind(enum.StrEnum):
    """What is wrong; the values are the ``kind`` of ``--output json``."""

    DUPLICATE_IP = "duplicate-ip"
    DUPLICATE_MAC = "duplicate-mac"
    LEAK = "leak"
    UNKNOWN_SUBNET = "unknown-subnet"
    MISSING_IP_OBJECT = "missing-ip-object"
    MISSING_ANNOTATION = "missing-annotation"
    ANNOTATION_MISMATCH = "annotation-mismatch"
    PORT_WITHOUT_IP_OBJECT = "port-without-ip-object"
    IP_OBJECT_WITHOUT_PORT = "ip-object-without-port"
    PORT_MISMATCH = "port-mismatch"
    COUNT_MISMATCH = "count-mismatch"
    MALFORMED = "malformed"
    UNFENCED_WRITE = "unfenced-write"
    STALE_IN_FLIGHT = "stale-in-flight"


class Scope(enum.Enum):
    """Which checks to run: exact at any moment (LIVE), or all of them (FULL, when quiet)."""

    LIVE = "live"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken promise: ``subject`` is the object to look at (an IP object, a pod, ...)."""

    kind: FindingKind
    subject: str
    detail: str
    subnet: str = ""
    address: str = ""

    def to_json(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "subject": self.subject,
            "subnet": self.subnet,
            "address": self.address,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class SubnetUtilisation:
    """IP objects per family of one subnet, against the capacity its status reports."""

    subnet: str
    ip_objects: int
    v4_used: int
    v6_used: int
    v4_capacity: int | None
    """``v4usingIPs + v4availableIPs`` from status; None before the controller wrote it."""
    v6_capacity: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "subnet": self.subnet,
            "ipObjects": self.ip_objects,
            "v4Used": self.v4_used,
            "v4Capacity": self.v4_capacity,
            "v6Used": self.v6_used,
            "v6Capacity": self.v6_capacity,
        }


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The findings (sorted by kind, then subject) and every subnet's utilisation."""

    findings: tuple[Finding, ...]
    utilisation: tuple[SubnetUtilisation, ...]
    counts: Mapping[str, int]
    """Objects read, by kind: ``ips``, ``pods``, ``vms``, ``vmis``, ``subnets``, ``ports``."""

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "findings": [f.to_json() for f in self.findings],
            "subnets": [u.to_json() for u in self.utilisation],
            "read": dict(self.counts),
        }


@dataclass
class Snapshot:
    """What was read, as slim records; fill it page by page with the ``add_*`` methods."""

    ips: list[IpObjectRecord] = field(default_factory=list)
    pods: list[PodRecord] = field(default_factory=list)
    vms: set[tuple[str, str]] = field(default_factory=set)
    vmis: set[tuple[str, str]] = field(default_factory=set)
    subnets: dict[str, SubnetRecord] = field(default_factory=dict)
    ports: list[NbPortRecord] | None = None
    """None: the NB was not read (no ``--ovn-nb``), so its checks are skipped."""
    unreadable: list[Unreadable] = field(default_factory=list)

    def add_ips(self, bodies: Iterable[Mapping[str, Any]]) -> None:
        for body in bodies:
            record = ip_object_record(body)
            if isinstance(record, Unreadable):
                self.unreadable.append(record)
            else:
                self.ips.append(record)

    def add_pods(self, bodies: Iterable[Mapping[str, Any]]) -> None:
        for body in bodies:
            record = pod_record(body)
            if isinstance(record, Unreadable):
                self.unreadable.append(record)
            else:
                self.pods.append(record)

    def add_vms(self, bodies: Iterable[Mapping[str, Any]]) -> None:
        self.vms.update(_key(owner_record(body)) for body in bodies)

    def add_vmis(self, bodies: Iterable[Mapping[str, Any]]) -> None:
        self.vmis.update(_key(owner_record(body)) for body in bodies)

    def add_subnets(self, bodies: Iterable[Mapping[str, Any]]) -> None:
        for body in bodies:
            record = subnet_record(body)
            if isinstance(record, Unreadable):
                self.unreadable.append(record)
                # It exists all the same: its IP objects are not orphans.
                name = record.name
                self.subnets[name] = SubnetRecord(
                    name=name,
                    has_logical_switch=False,
                    v4_using=None,
                    v6_using=None,
                    v4_available=None,
                    v6_available=None,
                )
            else:
                self.subnets[record.name] = record

    def merge(self, other: Snapshot) -> None:
        """Take in what ``other`` read (a retried LIST reads into a scratch snapshot first)."""
        self.ips.extend(other.ips)
        self.pods.extend(other.pods)
        self.vms |= other.vms
        self.vmis |= other.vmis
        self.subnets.update(other.subnets)
        self.unreadable.extend(other.unreadable)
        if other.ports is not None:
            self.add_ports(other.ports)

    def add_ports(self, ports: Iterable[NbPortRecord]) -> None:
        if self.ports is None:
            self.ports = []
        self.ports.extend(ports)


def _key(owner: OwnerRecord) -> tuple[str, str]:
    return (owner.namespace, owner.name)


def audit(snapshot: Snapshot, *, scope: Scope = Scope.FULL) -> AuditReport:
    """Every broken promise in ``snapshot``; see the module docstring for ``scope``."""
    findings: list[Finding] = []
    findings.extend(_duplicates_among_ip_objects(snapshot.ips))
    findings.extend(_duplicates_among_pods(snapshot.pods))
    if scope is Scope.FULL:
        by_name = {ip.name: ip for ip in snapshot.ips}
        findings.extend(_malformed(snapshot.unreadable))
        findings.extend(_leaks(snapshot))
        findings.extend(_pods_against_ip_objects(snapshot.pods, by_name))
        findings.extend(_ip_objects_against_pods(snapshot.ips, snapshot.pods))
        if snapshot.ports is not None:
            findings.extend(_northbound(snapshot.ports, snapshot.ips, snapshot.subnets))
        findings.extend(_counts(snapshot))
    findings.sort(key=lambda f: (f.kind.value, f.subnet, f.subject, f.address))
    counts = {
        "ips": len(snapshot.ips),
        "pods": len(snapshot.pods),
        "vms": len(snapshot.vms),
        "vmis": len(snapshot.vmis),
        "subnets": len(snapshot.subnets),
        "ports": len(snapshot.ports) if snapshot.ports is not None else 0,
        "unreadable": len(snapshot.unreadable),
    }
    return AuditReport(tuple(findings), _utilisation(snapshot), counts)


# -- duplicates ---------------------------------------------------------------------


def _duplicates_among_ip_objects(ips: Iterable[IpObjectRecord]) -> list[Finding]:
    by_ip: dict[tuple[str, str], list[str]] = defaultdict(list)
    by_mac: dict[tuple[str, str], list[str]] = defaultdict(list)
    for ip in ips:
        for address in ip.ips:
            by_ip[(ip.subnet, address)].append(ip.name)
        if ip.mac:
            by_mac[(ip.subnet, ip.mac)].append(ip.name)
    findings = [
        Finding(
            FindingKind.DUPLICATE_IP,
            ", ".join(sorted(names)),
            f"{address} is recorded by {len(names)} IP objects: {', '.join(sorted(names))}",
            subnet,
            address,
        )
        for (subnet, address), names in by_ip.items()
        if len(names) > 1
    ]
    findings.extend(
        Finding(
            FindingKind.DUPLICATE_MAC,
            ", ".join(sorted(names)),
            f"MAC {mac} is recorded by {len(names)} IP objects: {', '.join(sorted(names))}",
            subnet,
            mac,
        )
        for (subnet, mac), names in by_mac.items()
        if len(names) > 1
    )
    return findings


def _pod_nic(pod: PodRecord, provider: str) -> str:
    return ip_object_name(owner=pod.owner, namespace=pod.namespace, provider=provider)


def _duplicates_among_pods(pods: Iterable[PodRecord]) -> list[Finding]:
    # Holders are NIC names: the two pods of a live migration are one NIC, one owner.
    holders: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for pod in pods:
        if not pod.live:
            continue  # a finished pod's addresses were given back; its annotations linger
        for nic in pod.nics:
            for address in nic.ips:
                holders[(nic.subnet, address)][_pod_nic(pod, nic.provider)].append(
                    f"{pod.namespace}/{pod.name}"
                )
    findings: list[Finding] = []
    for (subnet, address), by_nic in holders.items():
        if len(by_nic) < 2:
            continue
        names = sorted(p for pod_names in by_nic.values() for p in pod_names)
        findings.append(
            Finding(
                FindingKind.DUPLICATE_IP,
                ", ".join(names),
                f"{address} is annotated on {len(names)} live pods of {len(by_nic)} different "
                f"owners ({', '.join(sorted(by_nic))})",
                subnet,
                address,
            )
        )
    return findings


# -- owners, records and annotations ----------------------------------------------------------


def _malformed(unreadable: Iterable[Unreadable]) -> list[Finding]:
    return [
        Finding(FindingKind.MALFORMED, f"{u.kind} {u.name}", f"{u.field}: {u.detail}")
        for u in unreadable
    ]


def _leaks(snapshot: Snapshot) -> list[Finding]:
    live_pods = {(p.namespace, p.name) for p in snapshot.pods if p.live}
    vm_pods = {(p.namespace, p.owner) for p in snapshot.pods if p.live and p.is_vm}
    findings: list[Finding] = []
    for ip in snapshot.ips:
        key = (ip.namespace, ip.owner)
        address = ",".join(ip.ips)
        if ip.subnet not in snapshot.subnets:
            findings.append(
                Finding(
                    FindingKind.UNKNOWN_SUBNET,
                    ip.name,
                    f"spec.subnet {ip.subnet!r} names no Subnet",
                    ip.subnet,
                    address,
                )
            )
        if not ip.namespace:
            continue  # Kube-OVN's node ports (``node-<name>``): no pod or VM owns them
        if ip.is_vm:
            if key in snapshot.vms or key in snapshot.vmis or key in vm_pods:
                continue
            gone = f"VM {ip.namespace}/{ip.owner}: no VirtualMachine, VMI or launcher pod"
        else:
            if key in live_pods:
                continue
            gone = f"pod {ip.namespace}/{ip.owner} is gone or finished"
        findings.append(Finding(FindingKind.LEAK, ip.name, gone, ip.subnet, address))
    return findings


def _pods_against_ip_objects(
    pods: Iterable[PodRecord], by_name: Mapping[str, IpObjectRecord]
) -> list[Finding]:
    findings: list[Finding] = []
    for pod in pods:
        if not pod.live:
            continue
        for nic in pod.nics:
            name = _pod_nic(pod, nic.provider)
            subject = f"{pod.namespace}/{pod.name}"
            address = ",".join(nic.ips)
            ip = by_name.get(name)
            if ip is None:
                findings.append(
                    Finding(
                        FindingKind.MISSING_IP_OBJECT,
                        subject,
                        f"provider {nic.provider} is allocated but IP object {name} is missing",
                        nic.subnet,
                        address,
                    )
                )
            elif (ip.subnet, set(ip.ips)) != (nic.subnet, set(nic.ips)) or (
                nic.mac and ip.mac and nic.mac != ip.mac
            ):
                findings.append(
                    Finding(
                        FindingKind.ANNOTATION_MISMATCH,
                        subject,
                        f"provider {nic.provider}: annotations say {nic.subnet} {address} "
                        f"{nic.mac}, IP object {name} says {ip.subnet} {','.join(ip.ips)} "
                        f"{ip.mac}",
                        nic.subnet,
                        address,
                    )
                )
    return findings


def _ip_objects_against_pods(
    ips: Iterable[IpObjectRecord], pods: Iterable[PodRecord]
) -> list[Finding]:
    """An IP object whose owner runs (a pod, or a VM's launcher pods) must be annotated."""
    annotated: set[str] = set()
    running: set[tuple[bool, str, str]] = set()
    for pod in pods:
        if pod.live:
            running.add((pod.is_vm, pod.namespace, pod.owner))
            annotated.update(_pod_nic(pod, nic.provider) for nic in pod.nics)
    return [
        Finding(
            FindingKind.MISSING_ANNOTATION,
            ip.name,
            f"{'VM' if ip.is_vm else 'pod'} {ip.namespace}/{ip.owner} runs but no pod of it is "
            "annotated with this NIC's address",
            ip.subnet,
            ",".join(ip.ips),
        )
        for ip in ips
        if (ip.is_vm, ip.namespace, ip.owner) in running and ip.name not in annotated
    ]


# -- the northbound ------------------------------------------------------------------------


def _northbound(
    ports: Iterable[NbPortRecord],
    ips: Iterable[IpObjectRecord],
    subnets: Mapping[str, SubnetRecord],
) -> list[Finding]:
    findings: list[Finding] = []
    by_port = {port.name: port for port in ports}
    seen: set[str] = set()
    for ip in ips:
        subnet = subnets.get(ip.subnet)
        port = by_port.get(ip.name)
        if port is None:
            if subnet is not None and subnet.has_logical_switch:
                findings.append(
                    Finding(
                        FindingKind.IP_OBJECT_WITHOUT_PORT,
                        ip.name,
                        f"subnet {ip.subnet} is served by OVN but the NB has no port {ip.name}",
                        ip.subnet,
                        ",".join(ip.ips),
                    )
                )
            continue
        seen.add(port.name)
        if set(port.ips) != set(ip.ips) or (ip.mac and port.mac != ip.mac):
            findings.append(
                Finding(
                    FindingKind.PORT_MISMATCH,
                    ip.name,
                    f"NB port says {port.mac} {','.join(port.ips)}, IP object says "
                    f"{ip.mac} {','.join(ip.ips)}",
                    ip.subnet,
                    ",".join(ip.ips),
                )
            )
    for name, port in sorted(by_port.items()):
        if name not in seen:
            findings.append(
                Finding(
                    FindingKind.PORT_WITHOUT_IP_OBJECT,
                    name,
                    f"NB port on switch {port.switch} ({port.mac} {','.join(port.ips)}) has no "
                    "IP object",
                    port.switch,
                    ",".join(port.ips),
                )
            )
    return findings


# -- subnet status --------------------------------------------------------------------------


def _per_family(ips: Iterable[IpObjectRecord]) -> dict[str, list[int]]:
    """Subnet → [IP objects, with a v4 address, with a v6 address]."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for ip in ips:
        row = counts[ip.subnet]
        row[0] += 1
        row[1] += any(":" not in a for a in ip.ips)
        row[2] += any(":" in a for a in ip.ips)
    return counts


def _counts(snapshot: Snapshot) -> list[Finding]:
    per = _per_family(snapshot.ips)
    findings: list[Finding] = []
    for name, subnet in sorted(snapshot.subnets.items()):
        _, v4, v6 = per.get(name, [0, 0, 0])
        for label, status, actual in (("v4", subnet.v4_using, v4), ("v6", subnet.v6_using, v6)):
            if status is None or status == actual:
                continue
            findings.append(
                Finding(
                    FindingKind.COUNT_MISMATCH,
                    f"Subnet {name}",
                    f"status.{label}usingIPs is {status} but {actual} IP objects hold a "
                    f"{label} address",
                    name,
                )
            )
    return findings


def _utilisation(snapshot: Snapshot) -> tuple[SubnetUtilisation, ...]:
    per = _per_family(snapshot.ips)
    rows: list[SubnetUtilisation] = []
    for name, subnet in sorted(snapshot.subnets.items()):
        total, v4, v6 = per.get(name, [0, 0, 0])

        def capacity(using: int | None, available: int | None) -> int | None:
            return None if using is None or available is None else using + available

        rows.append(
            SubnetUtilisation(
                subnet=name,
                ip_objects=total,
                v4_used=v4,
                v6_used=v6,
                v4_capacity=capacity(subnet.v4_using, subnet.v4_available),
                v6_capacity=capacity(subnet.v6_using, subnet.v6_available),
            )
        )
    return tuple(rows)
