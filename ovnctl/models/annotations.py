"""Annotation and label keys ovnctl reads and writes, and the per-provider helpers.

Kube-OVN's contract with its CNI plugin (and with users' YAML) is a set of pod
annotations keyed by provider: ``<P>.kubernetes.io/<what>``, with ``P = ovn``
for the primary network. Before allocation some of them are *requests*
(``ip_address``, ``mac_address``, ``logical_switch``); after allocation the
controller overwrites them with the *result* and sets ``allocated: "true"``.
This module is the one place those keys are spelled, so the pod reconciler
(reading requests, writing results in one patch) and the node agent agree.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ovnctl.models._syntax import canonical_ip, canonical_mac
from ovnctl.models.errors import AnnotationError, MACAnnotationError, StaticIPAnnotationError
from ovnctl.models.networks import AttachmentRequest
from ovnctl.models.provider import PRIMARY_PROVIDER

__all__ = [
    "ALLOCATION_KEY_SUFFIXES",
    "LOGICAL_SWITCH_ANNOTATION",
    "MIGRATION_JOB_ANNOTATION",
    "NAMESPACE_POOL_ANNOTATION",
    "NETWORKS_ANNOTATION",
    "NETWORK_STATUS_ANNOTATION",
    "PROVIDER_KEY_INFIX",
    "PROVIDER_KEY_NAMES",
    "SUBNET_LABEL",
    "VIP_KEY_SUFFIX",
    "VM_NAME_LABEL",
    "NicAllocation",
    "ProviderKeys",
    "StaticRequest",
    "allocated_provider",
    "allocation_annotations",
    "is_allocated",
    "merge_requests",
    "provider_keys",
    "read_allocation",
    "read_static_request",
]

NETWORKS_ANNOTATION = "k8s.v1.cni.cncf.io/networks"
"""Pod annotation listing the Multus networks the pod asks for."""

NETWORK_STATUS_ANNOTATION = "k8s.v1.cni.cncf.io/network-status"
"""Pod annotation Multus writes with what each interface got; ovnctl never writes it."""

LOGICAL_SWITCH_ANNOTATION = "ovn.kubernetes.io/logical_switch"
"""Pod annotation naming the subnet of the primary network (request, then result)."""

MIGRATION_JOB_ANNOTATION = "kubevirt.io/migrationJobName"
"""Set by KubeVirt on the *target* virt-launcher pod of a live migration."""

VM_NAME_LABEL = "vm.kubevirt.io/name"
"""Label KubeVirt puts on virt-launcher pods: the VM (and VMI) name."""

SUBNET_LABEL = "ovn.kubernetes.io/subnet"
"""Label on IP objects naming their subnet, for label-selected LISTs."""

PROVIDER_KEY_INFIX = ".kubernetes.io/"
"""Between the provider and the name in a per-provider key: ``<P>.kubernetes.io/<name>``."""

_ALLOCATION_NAMES = (
    "allocated",
    "ip_address",
    "mac_address",
    "cidr",
    "gateway",
    "logical_switch",
    "virtualmachine",
)
# The names only read, never written: requests that narrow where the address comes from.
_REQUEST_ONLY_NAMES = (
    "ip_pool",  # a list of IPs or IPPool names the address must come from
    "vip",  # the Vip whose reserved address the NIC uses
)

PROVIDER_KEY_NAMES = frozenset(_ALLOCATION_NAMES + _REQUEST_ONLY_NAMES)
"""Every ``<name>`` of a per-provider key ovnctl reads (the pod cache keeps only these)."""

ALLOCATION_KEY_SUFFIXES = tuple(PROVIDER_KEY_INFIX + name for name in _ALLOCATION_NAMES)
"""``.kubernetes.io/<name>`` of the keys the controller writes per provider: what the node
agent keeps of its pods (``key.endswith(ALLOCATION_KEY_SUFFIXES)``)."""

_ALLOCATED_SUFFIX = PROVIDER_KEY_INFIX + "allocated"

VIP_KEY_SUFFIX = PROVIDER_KEY_INFIX + "vip"
"""``.kubernetes.io/vip``: a pod key ending so names a Vip, for any provider."""

_TRUE = "true"


@dataclass(frozen=True, slots=True)
class ProviderKeys:
    """The annotation keys of one provider ``P``: ``P.kubernetes.io/<what>``."""

    provider: str
    allocated: str
    ip_address: str
    mac_address: str
    cidr: str
    gateway: str
    logical_switch: str
    virtualmachine: str
    ip_pool: str
    """Request only: IPs or IPPool names the address must come from."""
    vip: str
    """Request only: the Vip whose reserved address the NIC uses."""


@functools.lru_cache(maxsize=1024)
def provider_keys(*, provider: str) -> ProviderKeys:
    """The annotation keys of ``provider`` (cached: a handful of providers, many pods)."""
    prefix = provider + PROVIDER_KEY_INFIX
    return ProviderKeys(
        provider=provider,
        allocated=f"{prefix}allocated",
        ip_address=f"{prefix}ip_address",
        mac_address=f"{prefix}mac_address",
        cidr=f"{prefix}cidr",
        gateway=f"{prefix}gateway",
        logical_switch=f"{prefix}logical_switch",
        virtualmachine=f"{prefix}virtualmachine",
        ip_pool=f"{prefix}ip_pool",
        vip=f"{prefix}vip",
    )


NAMESPACE_POOL_ANNOTATION = provider_keys(provider=PRIMARY_PROVIDER).ip_pool
"""Namespace annotation ``ovn.kubernetes.io/ip_pool``: IPPool names for its pods."""


def allocated_provider(key: object, value: object) -> str | None:
    """``P`` when ``key: value`` is ``P.kubernetes.io/allocated: "true"``, else None: how a
    reader walking a pod's annotations finds the providers it holds an allocation for."""
    if value != _TRUE or not isinstance(key, str) or not key.endswith(_ALLOCATED_SUFFIX):
        return None
    return key[: -len(_ALLOCATED_SUFFIX)] or None


@dataclass(frozen=True, slots=True)
class StaticRequest:
    """What a pod asks of one provider before allocation; empty fields mean "any"."""

    subnet: str | None = None
    """``P.kubernetes.io/logical_switch``: the subnet to allocate from."""
    ips: tuple[str, ...] = ()
    """Canonical addresses, at most one per family, in written order."""
    mac: str | None = None
    """Lower-case colon form."""

    @property
    def empty(self) -> bool:
        """True when the pod asks for nothing in particular."""
        return self.subnet is None and not self.ips and self.mac is None


@dataclass(frozen=True, slots=True)
class NicAllocation:
    """An allocation result as recorded on a pod (``P.kubernetes.io/allocated: "true"``)."""

    provider: str
    subnet: str
    ips: tuple[str, ...]
    mac: str | None
    cidr: str
    gateway: str
    vm_name: str | None


def is_allocated(*, annotations: Mapping[str, str] | None, provider: str) -> bool:
    """True when the pod records an allocation for ``provider``."""
    keys = provider_keys(provider=provider)
    return (annotations or {}).get(keys.allocated) == _TRUE


def read_static_request(
    *, annotations: Mapping[str, str] | None, provider: str = PRIMARY_PROVIDER
) -> StaticRequest:
    """Read the static requests of ``provider`` from a pod's annotations.

    ``P.kubernetes.io/ip_address`` is ``"v4"``, ``"v6"`` or ``"v4,v6"`` (either
    order, blanks ignored); ``P.kubernetes.io/mac_address`` a MAC in any form
    Go's ``net.ParseMAC`` takes for EUI-48. Once ``allocated`` is ``"true"``
    these keys hold the *result*, so a caller comparing request with result
    reads them before its own patch lands. Raises :class:`AnnotationError`
    naming the key and value when malformed.
    """
    annotations = annotations or {}
    keys = provider_keys(provider=provider)
    subnet = (annotations.get(keys.logical_switch) or "").strip() or None
    ips = _parse_ips(annotations.get(keys.ip_address), key=keys.ip_address)
    mac = _parse_mac(annotations.get(keys.mac_address), key=keys.mac_address)
    return StaticRequest(subnet=subnet, ips=ips, mac=mac)


def merge_requests(*, static: StaticRequest, attachment: AttachmentRequest | None) -> StaticRequest:
    """Combine annotation requests with a JSON networks entry's ``ips`` and ``mac``.

    The per-provider annotations win, field by field, as in Kube-OVN: they are
    what users (and KubeVirt templates) write to pin an address, while the
    networks entry is the Multus-generic fallback.
    """
    if attachment is None:
        return static
    return StaticRequest(
        subnet=static.subnet,
        ips=static.ips or attachment.ips,
        mac=static.mac if static.mac is not None else attachment.mac,
    )


def read_allocation(
    *, annotations: Mapping[str, str] | None, provider: str = PRIMARY_PROVIDER
) -> NicAllocation | None:
    """The allocation recorded on a pod for ``provider``, or None if not allocated.

    Raises :class:`AnnotationError` when ``allocated`` is ``"true"`` but the
    subnet or addresses are missing or malformed.
    """
    annotations = annotations or {}
    keys = provider_keys(provider=provider)
    if annotations.get(keys.allocated) != _TRUE:
        return None
    subnet = (annotations.get(keys.logical_switch) or "").strip()
    if not subnet:
        raise AnnotationError(
            f"missing while {keys.allocated} is 'true'", field=keys.logical_switch, value=""
        )
    ips = _parse_ips(annotations.get(keys.ip_address), key=keys.ip_address)
    if not ips:
        raise AnnotationError(
            f"missing while {keys.allocated} is 'true'", field=keys.ip_address, value=""
        )
    return NicAllocation(
        provider=provider,
        subnet=subnet,
        ips=ips,
        mac=_parse_mac(annotations.get(keys.mac_address), key=keys.mac_address),
        cidr=annotations.get(keys.cidr, ""),
        gateway=annotations.get(keys.gateway, ""),
        vm_name=annotations.get(keys.virtualmachine) or None,
    )


def allocation_annotations(
    *,
    provider: str,
    subnet: str,
    cidr_block: str,
    gateway: str,
    ips: Sequence[str],
    mac: str | None,
    vm_name: str | None = None,
) -> dict[str, str]:
    """The annotations recording one allocated NIC, for the pod's single patch.

    ``ips`` are canonical addresses (v4 then v6 as the IPAM returns them);
    ``gateway`` is the subnet's gateway string (comma-joined per family). The
    MAC key is left out when there is no MAC, and ``virtualmachine`` unless
    the pod belongs to a KubeVirt VM.
    """
    keys = provider_keys(provider=provider)
    result = {
        keys.allocated: _TRUE,
        keys.ip_address: ",".join(ips),
        keys.cidr: cidr_block,
        keys.gateway: gateway,
        keys.logical_switch: subnet,
    }
    if mac is not None:
        result[keys.mac_address] = mac
    if vm_name is not None:
        result[keys.virtualmachine] = vm_name
    return result


def _parse_ips(raw: str | None, *, key: str) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return ()
    seen: dict[int, str] = {}
    for part in raw.split(","):
        part = part.strip()
        try:
            version, canonical = canonical_ip(part)
        except ValueError:
            raise StaticIPAnnotationError(
                f"{part!r} is not a valid IP address", field=key, value=raw
            ) from None
        if version in seen:
            raise StaticIPAnnotationError(
                f"two IPv{version} addresses in {raw!r}; at most one per family",
                field=key,
                value=raw,
            )
        seen[version] = canonical
    return tuple(seen.values())


def _parse_mac(raw: str | None, *, key: str) -> str | None:
    if raw is None or not raw.strip():
        return None
    try:
        return canonical_mac(raw)
    except ValueError:
        raise MACAnnotationError(
            f"{raw!r} is not a valid MAC address", field=key, value=raw
        ) from None
