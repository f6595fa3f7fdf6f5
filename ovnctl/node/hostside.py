"""The host end of a pod's veth: plugged into OVS ``br-int`` (the default) or a Linux bridge.

Where it sits: :class:`~ovnctl.node.datapath.Datapath` builds the veth and the
pod end the same way for both, and asks its :class:`HostSide` to prepare,
plug, unplug and check the host end. Blocking; on the datapath thread only.

* :class:`OvsHostSide`: the host end becomes a Port/Interface of the
  integration bridge, with ``external_ids:iface-id`` naming the NIC's logical
  switch port, so ovn-controller claims it and the pod's traffic crosses OVN's
  switches and routers. The gateway is OVN's router port: the node holds no
  address. ADD returns only once ovn-controller marked the interface
  ``ovn-installed`` (its flows are in), within a bound.
* :class:`LinuxBridgeHostSide`: the fallback for nodes without Open vSwitch
  (``--datapath linux-bridge``). One bridge per subnet holding the gateway;
  pods of one subnet on one node reach each other and the host, nothing more.
"""

from __future__ import annotations

import errno
from typing import Any, Protocol

from pyroute2.netlink.exceptions import NetlinkError

from ovnctl.cni.errors import DATAPATH_FAILURE, TRY_AGAIN_LATER, CniError
from ovnctl.node.netlink import add_address, addresses, delete_link, failure, netlink
from ovnctl.node.ovsdb import OVN_INSTALLED, VENDOR, OpenVSwitch, OvsDbError
from ovnctl.node.wiring import Wiring

__all__ = ["HostSide", "LinuxBridgeHostSide", "OvsHostSide"]


class HostSide(Protocol):
    """What the datapath needs from the host end's destination."""

    userspace: bool
    """True when packets are forwarded in userspace (OVS netdev): the pod end then gets
    transmit checksum offload turned off (see :func:`ovnctl.node.netlink.disable_tx_checksum`)."""

    def prepare(self, ipr: Any, wiring: Wiring) -> int | None:
        """Before the veth exists: the master's link index, or None (no Linux master)."""

    def plug(self, wiring: Wiring) -> None:
        """After the veth and the pod end are set up: join the host end to the datapath."""

    def unplug(self, ipr: Any, host_ifname: str) -> None:
        """Before the veth goes: undo :meth:`plug` (from the name alone: state may be lost)."""

    def collect(self, ipr: Any, wiring: Wiring) -> None:
        """After the veth went: undo :meth:`prepare` when nothing else needs it."""

    def problems(self, ipr: Any, wiring: Wiring, host: int | None) -> list[str]:
        """How the host side differs from what ADD set up (``host``: the link's index)."""


class LinuxBridgeHostSide:
    """A Linux bridge per subnet holding the gateway; no Open vSwitch, no OVN on the node."""

    userspace = False

    def prepare(self, ipr: Any, wiring: Wiring) -> int | None:
        found = ipr.link_lookup(ifname=wiring.bridge)
        if not found:
            try:
                ipr.link("add", ifname=wiring.bridge, kind="bridge")
            except NetlinkError as exc:
                if exc.code != errno.EEXIST:
                    raise failure(f"create bridge {wiring.bridge}", exc) from None
            found = ipr.link_lookup(ifname=wiring.bridge)
        index = int(found[0])
        netlink(f"bring {wiring.bridge} up", lambda: ipr.link("set", index=index, state="up"))
        for address in wiring.bridge_addresses:
            add_address(ipr, index, address)
        return index

    def plug(self, wiring: Wiring) -> None:
        return None  # the host end joined the bridge as it came up (prepare's master)

    def unplug(self, ipr: Any, host_ifname: str) -> None:
        return None  # deleting the veth takes it off the bridge

    def collect(self, ipr: Any, wiring: Wiring) -> None:
        found = ipr.link_lookup(ifname=wiring.bridge)
        if not found:
            return
        ports = [link for link in ipr.get_links() if link.get_attr("IFLA_MASTER") == found[0]]
        if not ports:  # the bridge's last port: a node whose pods are gone keeps no trace
            delete_link(ipr, wiring.bridge)

    def problems(self, ipr: Any, wiring: Wiring, host: int | None) -> list[str]:
        found: list[str] = []
        bridge = ipr.link_lookup(ifname=wiring.bridge)
        if not bridge:
            found.append(f"bridge {wiring.bridge} is missing")
        else:
            have = addresses(ipr, bridge[0])
            found += [
                f"bridge {wiring.bridge} lacks gateway {a}"
                for a in wiring.bridge_addresses
                if a not in have
            ]
        if (
            host is not None
            and bridge
            and ipr.get_links(host)[0].get_attr("IFLA_MASTER") != (bridge[0])
        ):
            found.append(f"host interface {wiring.host_ifname} is not on {wiring.bridge}")
        return found


class OvsHostSide:
    """The host end as a port of the integration bridge, bound by ovn-controller."""

    def __init__(
        self, ovs: OpenVSwitch, *, install_timeout: float = 10.0, userspace: bool = False
    ) -> None:
        self.ovs = ovs
        self.install_timeout = install_timeout
        self.userspace = userspace

    @staticmethod
    def external_ids(wiring: Wiring) -> dict[str, str]:
        """The Interface's external_ids, as Kube-OVN sets them (docs/node.md)."""
        return {
            "iface-id": wiring.iface_id,
            "pod_name": wiring.pod_name,
            "pod_namespace": wiring.pod_namespace,
            "ip": ",".join(a.split("/", 1)[0] for a in wiring.addresses),
            "vendor": VENDOR,
        }

    def prepare(self, ipr: Any, wiring: Wiring) -> int | None:
        return None

    def plug(self, wiring: Wiring) -> None:
        port = wiring.host_ifname
        try:
            self.ovs.add_port(
                bridge=wiring.bridge, name=port, external_ids=self.external_ids(wiring)
            )
            installed = self.ovs.wait_installed(port, self.install_timeout)
        except OvsDbError as exc:
            raise CniError(DATAPATH_FAILURE, f"add {port} to {wiring.bridge}: {exc}") from None
        if not installed:
            raise CniError(
                TRY_AGAIN_LATER,
                f"ovn-controller did not mark {port} (logical switch port {wiring.iface_id!r}) "
                f"{OVN_INSTALLED} within {self.install_timeout:g} s",
                "is ovn-controller running on this node and connected to the southbound DB, "
                "and does the port exist in the northbound DB?",
            )

    def unplug(self, ipr: Any, host_ifname: str) -> None:
        try:
            self.ovs.delete_port(host_ifname)
        except OvsDbError as exc:
            raise CniError(DATAPATH_FAILURE, f"remove {host_ifname} from OVS: {exc}") from None

    def collect(self, ipr: Any, wiring: Wiring) -> None:
        return None  # the integration bridge is the node's, not the pod's

    def problems(self, ipr: Any, wiring: Wiring, host: int | None) -> list[str]:
        try:
            found = self.ovs.port(wiring.host_ifname)
        except OvsDbError as exc:
            return [f"cannot read the Open_vSwitch database: {exc}"]
        if found is None:
            return [f"OVS port {wiring.host_ifname} is missing"]
        bridge, ids = found
        problems: list[str] = []
        if bridge != wiring.bridge:
            problems.append(f"OVS port {wiring.host_ifname} is on {bridge}, not {wiring.bridge}")
        if ids.get("iface-id") != wiring.iface_id:
            problems.append(
                f"OVS interface {wiring.host_ifname} has iface-id {ids.get('iface-id')!r}, "
                f"expected {wiring.iface_id!r}"
            )
        if ids.get(OVN_INSTALLED) != "true":
            problems.append(f"OVS interface {wiring.host_ifname} is not {OVN_INSTALLED}")
        return problems
