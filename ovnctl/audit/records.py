"""What the invariant checks read: slim records made from API objects and NB ports.

A checker that audits 100k pods must not keep 100k pod bodies, so each object
is reduced, page by page, to the few fields an invariant needs. The records
are built from plain dicts (what a LIST returns) and from NB port rows handed
over as names and address strings; nothing here does I/O.

A record that cannot be read (an IP object without a subnet, a pod annotation
``allocated: "true"`` without an address) is not dropped: it becomes a
``malformed`` finding naming the object and the field, because silently
skipping it would hide exactly the damage an audit is for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ovnctl.models import (
    VM_POD_TYPE,
    ModelError,
    allocated_provider,
    object_meta,
    parse_ip_object,
    parse_subnet,
    pod_owner,
    read_allocation,
)

__all__ = [
    "IpObjectRecord",
    "NbPortRecord",
    "OwnerRecord",
    "PodNic",
    "PodRecord",
    "SubnetRecord",
    "Unreadable",
    "ip_object_record",
    "nb_port_record",
    "owner_record",
    "pod_record",
    "subnet_record",
]

_FINISHED = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An object the checks could not read: reported as ``malformed``, never skipped."""

    kind: str
    name: str
    field: str
    detail: str


@dataclass(frozen=True, slots=True)
class IpObjectRecord:
    """One IP object: a NIC's durable record (its name is the NIC name)."""

    name: str
    subnet: str
    ips: tuple[str, ...]
    mac: str
    namespace: str
    owner: str
    """``spec.podName``: the pod's name, or the VM's name for a VM NIC."""
    is_vm: bool


@dataclass(frozen=True, slots=True)
class PodNic:
    """One allocation a pod's annotations record (``<provider>.kubernetes.io/*``)."""

    provider: str
    subnet: str
    ips: tuple[str, ...]
    mac: str


@dataclass(frozen=True, slots=True)
class PodRecord:
    """A pod as the checks need it: identity, owner, liveness and recorded NICs."""

    namespace: str
    name: str
    owner: str
    """The pod's name, or its VM's name for a virt-launcher pod."""
    is_vm: bool
    live: bool
    """Not Succeeded or Failed (a terminating pod still holds its addresses)."""
    nics: tuple[PodNic, ...]


@dataclass(frozen=True, slots=True)
class OwnerRecord:
    """A KubeVirt VirtualMachine or VirtualMachineInstance: only its existence matters."""

    namespace: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SubnetRecord:
    """A Subnet: whether OVN serves it and what its status counts say."""

    name: str
    has_logical_switch: bool
    v4_using: int | None
    v6_using: int | None
    v4_available: int | None
    v6_available: int | None


@dataclass(frozen=True, slots=True)
class NbPortRecord:
    """A logical switch port ovnctl owns in the NB (router ports excluded)."""

    name: str
    switch: str
    mac: str
    ips: tuple[str, ...]


def _name(body: Mapping[str, Any]) -> str:
    metadata = object_meta(body)
    namespace, name = metadata.get("namespace"), metadata.get("name")
    return f"{namespace}/{name}" if namespace else str(name)


def ip_object_record(body: Mapping[str, Any]) -> IpObjectRecord | Unreadable:
    """The record of an IP object, or why it cannot be read."""
    try:
        ip = parse_ip_object(body=body)
    except ModelError as exc:
        return Unreadable("IP", _name(body), exc.field, str(exc))
    return IpObjectRecord(
        name=ip.name,
        subnet=ip.subnet,
        ips=ip.ips,
        mac=(ip.mac or "").lower(),
        namespace=ip.namespace,
        owner=ip.pod_name,
        is_vm=ip.pod_type == VM_POD_TYPE,
    )


def pod_record(body: Mapping[str, Any]) -> PodRecord | Unreadable:
    """The record of a pod, or why one of its allocation annotations cannot be read."""
    metadata = object_meta(body)
    annotations = metadata.get("annotations")
    annotations = annotations if isinstance(annotations, Mapping) else {}
    status = body.get("status")
    phase = status.get("phase") if isinstance(status, Mapping) else None
    phase = phase if isinstance(phase, str) else None
    owner = pod_owner(pod=body)
    nics: list[PodNic] = []
    for key, value in sorted(annotations.items()):
        provider = allocated_provider(key, value)
        if provider is None:
            continue
        try:
            allocation = read_allocation(annotations=annotations, provider=provider)
        except ModelError as exc:
            return Unreadable("Pod", _name(body), exc.field, str(exc))
        if allocation is not None:
            mac = (allocation.mac or "").lower()
            nics.append(PodNic(provider, allocation.subnet, allocation.ips, mac))
    return PodRecord(
        namespace=str(metadata.get("namespace") or ""),
        name=str(metadata.get("name") or ""),
        owner=owner.name,
        is_vm=owner.is_vm,
        live=phase not in _FINISHED,
        nics=tuple(nics),
    )


def owner_record(body: Mapping[str, Any]) -> OwnerRecord:
    """A VirtualMachine or VirtualMachineInstance."""
    metadata = object_meta(body)
    return OwnerRecord(str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def _count(status: Mapping[str, Any], key: str) -> int | None:
    value = status.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    return None


def subnet_record(body: Mapping[str, Any]) -> SubnetRecord | Unreadable:
    """A Subnet's record, or why its spec cannot be read."""
    try:
        spec = parse_subnet(body=body)
    except ModelError as exc:
        return Unreadable("Subnet", _name(body), exc.field, str(exc))
    status = body.get("status")
    status = status if isinstance(status, Mapping) else {}
    return SubnetRecord(
        name=spec.name,
        has_logical_switch=spec.has_logical_switch,
        v4_using=_count(status, "v4usingIPs"),
        v6_using=_count(status, "v6usingIPs"),
        v4_available=_count(status, "v4availableIPs"),
        v6_available=_count(status, "v6availableIPs"),
    )


def nb_port_record(name: str, switch: str, addresses: Iterable[str]) -> NbPortRecord:
    """A port from its name, switch and ``addresses`` column (``"MAC IP [IP]"`` strings)."""
    mac = ""
    ips: list[str] = []
    for entry in addresses:
        parts = entry.split()
        if parts and parts[0] not in ("router", "unknown", "dynamic"):
            mac = mac or parts[0].lower()
            ips.extend(parts[1:])
    v4 = [ip for ip in ips if ":" not in ip]
    v6 = [ip for ip in ips if ":" in ip]
    return NbPortRecord(name=name, switch=switch, mac=mac, ips=tuple(v4 + v6))
