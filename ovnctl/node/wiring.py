"""From a pod's allocation to the exact interface the datapath builds (pure).

Where it sits: the server has the plugin's request and the allocation read
from the pod's annotations (``P.kubernetes.io/ip_address|mac_address|cidr|
gateway|logical_switch``); :func:`plan_wiring` turns them into a
:class:`Wiring`: device names, MAC, MTU, addresses with the subnet's prefix
length, the bridge's gateway addresses, and routes. The datapath executes
it, the state file stores it, CHECK compares against it, and
:meth:`Wiring.reply` is what goes back to the plugin. Keeping the decisions
here, free of netlink, makes them testable without root.
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Any

from ovnctl.cni.errors import ALLOCATION_INVALID, INVALID_CONFIG, CniError
from ovnctl.cni.protocol import Request
from ovnctl.models import NicAllocation, ip_object_name, is_primary
from ovnctl.node.naming import bridge_name, host_veth_name

__all__ = ["DATAPATHS", "LINUX_BRIDGE", "OVS", "Route", "Wiring", "plan_wiring"]

DEFAULT_MTU = 1500
"""The usual Ethernet MTU. Pods of one node talk without encapsulation; clusters whose
nodes are joined by Geneve tunnels set ``--mtu`` (or the config's ``mtu``) 58 bytes lower."""

OVS = "ovs"
"""The host end joins the OVS integration bridge and is bound by ovn-controller."""
LINUX_BRIDGE = "linux-bridge"
"""The host end joins a Linux bridge per subnet holding the gateway (no OVS on the node)."""
DATAPATHS = (OVS, LINUX_BRIDGE)


@dataclass(frozen=True, slots=True)
class Route:
    """A route in the pod: ``dst`` (CIDR) via ``gw`` (None: on-link)."""

    dst: str
    gw: str | None = None


@dataclass(frozen=True, slots=True)
class Wiring:
    """Everything ADD sets up for one (container, interface)."""

    container_id: str
    netns: str
    ifname: str
    pod_namespace: str
    pod_name: str
    provider: str
    subnet: str
    bridge: str
    host_ifname: str
    mac: str
    mtu: int
    addresses: tuple[str, ...]
    """The pod's addresses with the subnet's prefix length, e.g. ``10.16.0.5/16``."""
    gateways: tuple[str | None, ...]
    """The gateway of each address's family, in the same order (None: none)."""
    bridge_addresses: tuple[str, ...]
    """The gateways with the subnet's prefix length, held by the bridge."""
    routes: tuple[Route, ...]
    datapath: str = LINUX_BRIDGE
    """:data:`OVS` or :data:`LINUX_BRIDGE` (state files written before OVS lack it)."""
    iface_id: str = ""
    """OVS only: the NIC's logical switch port, ``external_ids:iface-id`` of the interface."""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Wiring:
        fields = {f.name for f in dataclasses.fields(cls)}
        data = {k: v for k, v in raw.items() if k in fields}
        for key in ("addresses", "gateways", "bridge_addresses"):
            data[key] = tuple(data[key])
        data["routes"] = tuple(Route(**r) for r in data["routes"])
        return cls(**data)

    def reply(self, *, host_mac: str) -> dict[str, Any]:
        """The neutral wiring the plugin renders as a CNI result (see ovnctl.cni.result)."""
        return {
            "host": {"name": self.host_ifname, "mac": host_mac},
            "container": {
                "name": self.ifname,
                "mac": self.mac,
                "sandbox": self.netns,
                "mtu": self.mtu,
            },
            "ips": [
                {"address": address, "gateway": gateway}
                for address, gateway in zip(self.addresses, self.gateways, strict=True)
            ],
            "routes": [{"dst": r.dst, "gw": r.gw} for r in self.routes],
        }


def plan_wiring(
    *,
    request: Request,
    allocation: NicAllocation,
    default_mtu: int = DEFAULT_MTU,
    datapath: str = LINUX_BRIDGE,
    integration_bridge: str = "br-int",
) -> Wiring:
    """Plan the interface for ``request`` from ``allocation`` on ``datapath``.

    On :data:`OVS` the host end joins ``integration_bridge`` with the NIC's
    logical switch port name (the IP object's name: the VM's for a KubeVirt
    pod, so a recreated virt-launcher binds the same port) and the node holds
    no gateway address: the gateway is OVN's router port. On
    :data:`LINUX_BRIDGE` the subnet's bridge holds the gateway.

    Raises :class:`CniError` 104 when the allocation's addresses, CIDRs and
    gateways do not fit together (an address outside its CIDR, a family with
    no CIDR), and 7 for a malformed ``routes`` entry in the CNI config.
    """
    where = f"pod {request.pod_namespace}/{request.pod_name} provider {allocation.provider!r}"
    networks = _by_family(allocation.cidr, network=True, what="cidr", where=where)
    gateways = _by_family(allocation.gateway, network=False, what="gateway", where=where)
    addresses: list[str] = []
    address_gateways: list[str | None] = []
    bridge_addresses: list[str] = []
    for raw in allocation.ips:
        ip = ipaddress.ip_address(raw)
        network = networks.get(ip.version)
        if network is None or ip not in network:
            raise CniError(
                ALLOCATION_INVALID,
                f"{where}: address {raw} is not inside cidr {allocation.cidr!r}",
            )
        addresses.append(f"{ip}/{network.prefixlen}")
        gateway = gateways.get(ip.version)
        address_gateways.append(str(gateway) if gateway is not None else None)
        if gateway is not None:
            bridge_addresses.append(f"{gateway}/{network.prefixlen}")

    default_route = request.default_route
    if default_route is None:
        # A second default route would fight eth0's: attachments get none unless asked.
        default_route = is_primary(request.provider)
    routes: list[Route] = []
    if default_route:
        for version, gateway in sorted(gateways.items()):
            if version in networks and any(
                ipaddress.ip_address(a).version == version for a in allocation.ips
            ):
                routes.append(Route(dst="0.0.0.0/0" if version == 4 else "::/0", gw=str(gateway)))
    for entry in request.routes:
        routes.append(_extra_route(entry, gateways=gateways))

    ovs = datapath == OVS
    return Wiring(
        container_id=request.container_id,
        netns=request.netns,
        ifname=request.ifname,
        pod_namespace=request.pod_namespace,
        pod_name=request.pod_name,
        provider=request.provider,
        subnet=allocation.subnet,
        bridge=integration_bridge if ovs else bridge_name(allocation.subnet),
        host_ifname=host_veth_name(container_id=request.container_id, ifname=request.ifname),
        mac=allocation.mac or _derived_mac(request),
        mtu=request.mtu or default_mtu,
        addresses=tuple(addresses),
        gateways=tuple(address_gateways),
        bridge_addresses=() if ovs else tuple(dict.fromkeys(bridge_addresses)),
        routes=tuple(dict.fromkeys(routes)),
        datapath=datapath,
        iface_id=ip_object_name(
            owner=allocation.vm_name or request.pod_name,
            namespace=request.pod_namespace,
            provider=request.provider,
        )
        if ovs
        else "",
    )


def _by_family(raw: str, *, network: bool, what: str, where: str) -> dict[int, Any]:
    found: dict[int, Any] = {}
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            value = (
                ipaddress.ip_network(part, strict=False) if network else ipaddress.ip_address(part)
            )
        except ValueError:
            raise CniError(
                ALLOCATION_INVALID, f"{where}: {what} {raw!r}: {part!r} is not valid"
            ) from None
        found.setdefault(value.version, value)
    return found


def _extra_route(entry: dict[str, str], *, gateways: dict[int, Any]) -> Route:
    try:
        dst = ipaddress.ip_network(entry["dst"], strict=False)
        gw = ipaddress.ip_address(entry["gw"]) if entry.get("gw") else gateways.get(dst.version)
    except ValueError as exc:
        raise CniError(INVALID_CONFIG, f"routes entry {entry!r}: {exc}") from None
    if gw is not None and gw.version != dst.version:
        raise CniError(INVALID_CONFIG, f"routes entry {entry!r}: gateway family differs from dst")
    return Route(dst=str(dst), gw=str(gw) if gw is not None else None)


def _derived_mac(request: Request) -> str:
    """A stable locally administered unicast MAC when the controller recorded none."""
    digest = hashlib.sha256(
        f"{request.provider}/{request.pod_namespace}/{request.pod_name}/{request.ifname}".encode()
    ).digest()
    return ":".join(f"{b:02x}" for b in (0x0A, *digest[:5]))
