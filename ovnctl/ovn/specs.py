"""Desired northbound state as frozen data: what one subnet and one NIC should look like in OVN.

Where it sits: reconcilers turn a validated :class:`~ovnctl.models.subnet.SubnetSpec`
into a :class:`SwitchSpec` and an IPAM :class:`~ovnctl.ipam.results.Allocation`
into a :class:`PortSpec`, then hand them to a :class:`~ovnctl.ovn.api.Northbound`.
Nothing here talks to OVN: these values say *what* should exist, the client
decides *how* (one transaction per call, idempotent). Keeping the naming rules
(``ovn-cluster-<subnet>``, ``<subnet>-ovn-cluster``) and the ``external_ids``
keys in one module means the writer, the converger and the docs agree.
"""

from __future__ import annotations

import enum
import hashlib
import ipaddress
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from ovnctl.models.provider import PRIMARY_PROVIDER
from ovnctl.models.subnet import DEFAULT_VPC

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ovnctl.ipam.results import Allocation
    from ovnctl.models.subnet import SubnetSpec

__all__ = [
    "CLUSTER_ROUTER",
    "KEY_LOGICAL_SWITCH",
    "KEY_OWNER_KIND",
    "KEY_OWNER_NAME",
    "KEY_OWNER_NAMESPACE",
    "KEY_POD",
    "KEY_PROVIDER",
    "KEY_VENDOR",
    "VENDOR",
    "OwnerKind",
    "PortSpec",
    "SwitchSpec",
    "router_port_name",
    "switch_router_port_name",
]

CLUSTER_ROUTER = DEFAULT_VPC
"""The logical router every switch is connected to (Kube-OVN's default VPC router)."""

KEY_VENDOR = "vendor"
VENDOR = "ovnctl"
"""``external_ids:vendor=ovnctl`` marks a row as ovnctl's: only such rows are ever updated or
removed. Kube-OVN marks its rows ``vendor=kube-ovn``; to ovnctl those are foreign."""

KEY_LOGICAL_SWITCH = "ls"
KEY_POD = "pod"
KEY_OWNER_KIND = "owner_kind"
KEY_OWNER_NAMESPACE = "owner_namespace"
KEY_OWNER_NAME = "owner_name"
KEY_PROVIDER = "provider"

# Locally administered unicast (bit 0x02 set, 0x01 clear), like the IPAM's generated MACs.
_ROUTER_MAC_PREFIX = 0x0E


def router_port_name(switch: str) -> str:
    """The router port of ``switch`` on the cluster router: ``ovn-cluster-<switch>``."""
    return f"{CLUSTER_ROUTER}-{switch}"


def switch_router_port_name(switch: str) -> str:
    """The switch port peered with the router port: ``<switch>-ovn-cluster``."""
    return f"{switch}-{CLUSTER_ROUTER}"


class OwnerKind(enum.StrEnum):
    """Who a NIC's address belongs to: a pod, or a KubeVirt VM (kept across its pods)."""

    POD = "pod"
    VM = "vm"


@dataclass(frozen=True, slots=True)
class SwitchSpec:
    """One OVN subnet as a logical switch plus its link to the cluster router.

    ``cidr_block`` and ``gateway`` are comma-joined and aligned, as in
    :class:`~ovnctl.models.subnet.SubnetSpec` (normalised there: host bits
    cleared, one gateway per CIDR). ``exclude_ips`` are the spec's entries
    (``"10.16.0.5"`` or ``"10.16.0.10..10.16.0.20"``).
    """

    name: str
    cidr_block: str
    gateway: str
    exclude_ips: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Validated here, not only in models: a bad network would otherwise fail
        # inside the NB transaction, on the connection thread, far from the caller.
        if not self.name:
            raise ValueError("a switch needs a name")
        cidrs, gateways = self.cidrs, self.gateways
        if len(cidrs) != len(gateways):
            raise ValueError(
                f"switch {self.name!r}: {len(cidrs)} CIDR(s) but {len(gateways)} gateway(s)"
            )
        for cidr, gateway in zip(cidrs, gateways, strict=True):
            network = ipaddress.ip_network(cidr, strict=False)
            if ipaddress.ip_address(gateway) not in network:
                raise ValueError(f"switch {self.name!r}: gateway {gateway} is outside {cidr}")

    @classmethod
    def from_subnet(cls, subnet: SubnetSpec) -> SwitchSpec:
        """The switch of a validated subnet (callers check ``subnet.has_logical_switch``)."""
        return cls(
            name=subnet.name,
            cidr_block=subnet.cidr_block,
            gateway=subnet.gateway,
            exclude_ips=subnet.exclude_ips,
        )

    @property
    def cidrs(self) -> tuple[str, ...]:
        """The CIDRs, in written order."""
        return tuple(part.strip() for part in self.cidr_block.split(","))

    @property
    def gateways(self) -> tuple[str, ...]:
        """The gateways, aligned with :attr:`cidrs`."""
        return tuple(part.strip() for part in self.gateway.split(","))

    @property
    def router_port(self) -> str:
        """Name of the router port: ``ovn-cluster-<name>``."""
        return router_port_name(self.name)

    @property
    def switch_port(self) -> str:
        """Name of the switch's router-type port: ``<name>-ovn-cluster``."""
        return switch_router_port_name(self.name)

    @property
    def router_networks(self) -> tuple[str, ...]:
        """The router port's ``networks``: each gateway with its CIDR's prefix length."""
        return tuple(
            f"{gateway}/{ipaddress.ip_network(cidr, strict=False).prefixlen}"
            for cidr, gateway in zip(self.cidrs, self.gateways, strict=True)
        )

    @property
    def router_mac(self) -> str:
        """The router port's MAC, derived from the switch name.

        Deterministic on purpose: re-ensuring or converging a switch never
        flaps the MAC, and no state needs storing to find it again. Collision
        odds with a generated NIC MAC on the same switch are 2**-40 per NIC.
        """
        digest = hashlib.sha256(f"{VENDOR}/router-port/{self.name}".encode()).digest()
        octets = (_ROUTER_MAC_PREFIX, *digest[:5])
        return ":".join(f"{octet:02x}" for octet in octets)

    @property
    def other_config(self) -> Mapping[str, str]:
        """The switch's ``other_config`` keys ovnctl manages (Kube-OVN's names).

        ``exclude_ips`` is space-separated, OVN's own format (``a..b`` ranges
        are already OVN's syntax); it is omitted when there are none.
        """
        config = {"subnet": self.cidr_block, "gateway": self.gateway}
        if self.exclude_ips:
            config["exclude_ips"] = " ".join(self.exclude_ips)
        return MappingProxyType(config)


@dataclass(frozen=True, slots=True)
class PortSpec:
    """One NIC on an OVN subnet as a logical switch port.

    ``name`` is the IP object's name (``<owner>.<ns>`` or
    ``<owner>.<ns>.<provider>``), ``switch`` the subnet's name, ``ips`` at most
    one address per family. For a VM the owner is the VM, not a pod: the port
    outlives its virt-launcher pods and serves source and target during live
    migration, because nothing about a pod is part of it.
    """

    name: str
    switch: str
    mac: str
    ips: tuple[str, ...]
    owner_kind: OwnerKind
    owner_namespace: str
    owner_name: str
    provider: str = PRIMARY_PROVIDER
    _addresses: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name or not self.switch:
            raise ValueError("a port needs a name and a switch")
        if not self.ips:
            raise ValueError(f"port {self.name!r}: no IP address")
        parsed = [ipaddress.ip_address(ip) for ip in self.ips]
        if len({ip.version for ip in parsed}) != len(parsed):
            raise ValueError(f"port {self.name!r}: more than one address of a family")
        # OVN's order and spelling: MAC, then IPv4, then IPv6, canonical forms.
        ordered = sorted(parsed, key=lambda ip: ip.version)
        text = " ".join([self.mac.strip().lower(), *(str(ip) for ip in ordered)])
        object.__setattr__(self, "_addresses", text)

    @classmethod
    def from_allocation(
        cls,
        allocation: Allocation,
        *,
        owner_kind: OwnerKind,
        owner_namespace: str,
        owner_name: str,
        provider: str = PRIMARY_PROVIDER,
    ) -> PortSpec:
        """The port of an IPAM allocation; its owner key is the IP object (and port) name."""
        return cls(
            name=allocation.owner,
            switch=allocation.subnet,
            mac=allocation.mac,
            ips=allocation.ips,
            owner_kind=owner_kind,
            owner_namespace=owner_namespace,
            owner_name=owner_name,
            provider=provider,
        )

    @property
    def addresses(self) -> str:
        """``addresses`` and ``port_security`` entry: ``"<mac> <ipv4>[ <ipv6>]"``."""
        return self._addresses

    @property
    def external_ids(self) -> Mapping[str, str]:
        """What ties the port to its owner and to ovnctl.

        ``pod=<ns>/<owner>`` is Kube-OVN's key (for a VM the owner is the VM's
        name, as Kube-OVN writes it); ``owner_kind`` tells pods and VMs apart.
        """
        return MappingProxyType(
            {
                KEY_VENDOR: VENDOR,
                KEY_LOGICAL_SWITCH: self.switch,
                KEY_POD: f"{self.owner_namespace}/{self.owner_name}",
                KEY_OWNER_KIND: str(self.owner_kind),
                KEY_OWNER_NAMESPACE: self.owner_namespace,
                KEY_OWNER_NAME: self.owner_name,
                KEY_PROVIDER: self.provider,
            }
        )
