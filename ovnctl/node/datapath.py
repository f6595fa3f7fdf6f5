"""The node's datapath: a veth per pod NIC, its host end on OVS ``br-int`` or a Linux bridge.

Where it sits: the server hands a planned :class:`~ovnctl.node.wiring.Wiring`
to :meth:`Datapath.add` and container/interface ids to :meth:`Datapath.delete`
and :meth:`Datapath.check`. This module builds the veth and the pod end with
netlink (pyroute2, helpers in :mod:`ovnctl.node.netlink`); where the host end
goes is the :class:`~ovnctl.node.hostside.HostSide`'s business: a port of the
OVS integration bridge bound by ovn-controller (the default where Open vSwitch
runs), or a Linux bridge per subnet (the fallback). It is blocking code: the
daemon runs it on one worker thread, so operations never interleave (a DEL
that removes a subnet's last bridge port cannot race an ADD about to join it).

What ADD builds: a veth pair. The pod end is created directly in the pod's
network namespace under the requested name, then gets the MAC, MTU,
addresses (IPv6 without DAD, so it is usable at once) and routes of the plan;
the host end comes up with the MTU and is plugged into the host side.

Every failure of ADD removes what this ADD created (deleting the host end of a
veth deletes both ends, wherever the other one is). DEL is idempotent: a
missing namespace, device or OVS port is success.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from typing import Any

from ovnctl.cni.errors import CHECK_FAILED, CONTAINER_UNKNOWN, IFNAME_CLASH, CniError
from ovnctl.node.hostside import HostSide, LinuxBridgeHostSide
from ovnctl.node.naming import host_veth_name
from ovnctl.node.netlink import (
    add_address,
    addresses,
    delete_link,
    disable_tx_checksum,
    host_route,
    lookup,
    netlink,
    ns_route,
    routes,
)
from ovnctl.node.state import StateStore
from ovnctl.node.wiring import Wiring

__all__ = ["NETNS_RUN_DIR", "Datapath", "netns_path"]

NETNS_RUN_DIR = "/var/run/netns"


def netns_path(netns: str) -> str:
    """``CNI_NETNS`` is a path; a bare name (handy by hand) means one under /var/run/netns."""
    return netns if "/" in netns else f"{NETNS_RUN_DIR}/{netns}"


class Datapath:
    """ADD, DEL and CHECK of pod interfaces on this node (blocking, serialised by a lock)."""

    def __init__(self, *, state: StateStore, host_side: HostSide | None = None) -> None:
        self.state = state
        self.host_side: HostSide = host_side or LinuxBridgeHostSide()
        self._lock = threading.Lock()

    # -- ADD ---------------------------------------------------------------

    def add(self, wiring: Wiring) -> dict[str, Any]:
        """Build ``wiring``; the reply for the plugin. Idempotent for an identical repeat."""
        with self._lock:
            recorded = self.state.load(container_id=wiring.container_id, ifname=wiring.ifname)
            if recorded is not None:
                previous, host_mac = recorded
                if previous == wiring and not self._problems(previous):
                    return wiring.reply(host_mac=host_mac)
                # Something changed (or broke) since: start again from nothing.
                self._teardown(previous.container_id, previous.ifname, previous)
            path = self._existing_netns(wiring.netns)
            try:
                host_mac = self._build(wiring, path)
            except BaseException:
                self._rollback(wiring)
                raise
            self.state.save(wiring, host_mac=host_mac)
            return wiring.reply(host_mac=host_mac)

    def _build(self, wiring: Wiring, path: str) -> str:
        with ns_route(path) as ns:
            if ns.link_lookup(ifname=wiring.ifname):
                raise CniError(
                    IFNAME_CLASH,
                    f"interface {wiring.ifname!r} already exists in network namespace {path}",
                    "another plugin or a previous sandbox owns that name; "
                    "pick another interface in the pod's networks annotation",
                )
        with host_route() as ipr:
            master = self.host_side.prepare(ipr, wiring)
            delete_link(ipr, wiring.host_ifname)  # left by an ADD that died half-way
            fd = os.open(path, os.O_RDONLY)
            try:
                # The pod end is born in the pod's namespace under its final name: moving
                # a device between namespaces costs the kernel an RCU grace period (tens
                # of ms), creating it there does not.
                netlink(
                    f"create veth {wiring.host_ifname} with {wiring.ifname} in {path}",
                    lambda: ipr.link(
                        "add",
                        ifname=wiring.host_ifname,
                        kind="veth",
                        peer={"ifname": wiring.ifname, "net_ns_fd": fd},
                    ),
                    clash=wiring.ifname,
                )
            finally:
                os.close(fd)
            host = lookup(ipr, wiring.host_ifname)
            spec: dict[str, Any] = {"index": host, "mtu": wiring.mtu, "state": "up"}
            if master is not None:
                spec["master"] = master
            netlink(f"bring {wiring.host_ifname} up", lambda: ipr.link("set", **spec))
            host_mac = str(ipr.get_links(host)[0].get_attr("IFLA_ADDRESS"))
        with ns_route(path) as ns:
            index = lookup(ns, wiring.ifname)
            netlink(
                f"configure {wiring.ifname}",
                lambda: ns.link("set", index=index, address=wiring.mac, mtu=wiring.mtu, state="up"),
            )
            if self.host_side.userspace:
                disable_tx_checksum(path, wiring.ifname)
            loopback = ns.link_lookup(ifname="lo")
            if loopback:
                ns.link("set", index=loopback[0], state="up")
            for address in wiring.addresses:
                add_address(ns, index, address)
            for route in wiring.routes:
                dst = ipaddress.ip_network(route.dst)
                rspec: dict[str, Any] = {"dst": route.dst, "oif": index}
                if route.gw:
                    rspec["gateway"] = route.gw
                if dst.version == 6:
                    rspec["family"] = 10
                netlink(
                    f"add route {route.dst} via {route.gw or wiring.ifname}",
                    lambda rspec=rspec: ns.route("replace", **rspec),
                )
        # Last: once plugged (and for OVS, installed) the pod is fully configured.
        self.host_side.plug(wiring)
        return host_mac

    def _rollback(self, wiring: Wiring) -> None:
        with host_route() as ipr:
            self.host_side.unplug(ipr, wiring.host_ifname)
            delete_link(ipr, wiring.host_ifname)
            self.host_side.collect(ipr, wiring)

    # -- DEL ---------------------------------------------------------------

    def delete(self, *, container_id: str, ifname: str) -> None:
        """Remove the interface, its port or emptied bridge and its state; missing is fine."""
        with self._lock:
            recorded = self.state.load(container_id=container_id, ifname=ifname)
            self._teardown(container_id, ifname, recorded[0] if recorded else None)

    def _teardown(self, container_id: str, ifname: str, wiring: Wiring | None) -> None:
        host_ifname = host_veth_name(container_id=container_id, ifname=ifname)
        with host_route() as ipr:
            # The OVS port goes first, so vswitchd never polls a vanished device.
            self.host_side.unplug(ipr, host_ifname)
            delete_link(ipr, host_ifname)
            if wiring is not None:
                self.host_side.collect(ipr, wiring)
        self.state.remove(container_id=container_id, ifname=ifname)

    # -- CHECK -------------------------------------------------------------

    def check(self, *, container_id: str, ifname: str) -> None:
        """Raise :class:`CniError` 103 listing every way the interface differs from its ADD."""
        with self._lock:
            recorded = self.state.load(container_id=container_id, ifname=ifname)
            if recorded is None:
                raise CniError(
                    CHECK_FAILED,
                    f"no ADD recorded for container {container_id!r} interface {ifname!r}",
                )
            wiring = recorded[0]
            self._existing_netns(wiring.netns)
            problems = self._problems(wiring)
            if problems:
                raise CniError(
                    CHECK_FAILED,
                    f"interface {ifname!r} of pod {wiring.pod_namespace}/{wiring.pod_name} "
                    f"differs from what ADD set up: {'; '.join(problems)}",
                )

    def _problems(self, wiring: Wiring) -> list[str]:
        path = netns_path(wiring.netns)
        if not os.path.exists(path):
            return [f"network namespace {path} is gone"]
        problems: list[str] = []
        with host_route() as ipr:
            found = ipr.link_lookup(ifname=wiring.host_ifname)
            host = int(found[0]) if found else None
            problems += self.host_side.problems(ipr, wiring, host)
            if host is None:
                problems.append(f"host interface {wiring.host_ifname} is missing")
        with ns_route(path) as ns:
            found = ns.link_lookup(ifname=wiring.ifname)
            if not found:
                return [*problems, f"interface {wiring.ifname} is missing in {path}"]
            index = found[0]
            link = ns.get_links(index)[0]
            mac = str(link.get_attr("IFLA_ADDRESS") or "")
            if mac.lower() != wiring.mac.lower():
                problems.append(f"MAC is {mac}, expected {wiring.mac}")
            if link.get_attr("IFLA_MTU") != wiring.mtu:
                problems.append(f"MTU is {link.get_attr('IFLA_MTU')}, expected {wiring.mtu}")
            have = addresses(ns, index)
            problems += [f"address {a} is missing" for a in wiring.addresses if a not in have]
            present = routes(ns, index)
            for route in wiring.routes:
                if (route.dst, route.gw) not in present:
                    problems.append(f"route {route.dst} via {route.gw or wiring.ifname} is missing")
        return problems

    # -- helpers -----------------------------------------------------------

    @staticmethod
    def _existing_netns(netns: str) -> str:
        path = netns_path(netns)
        if not os.path.exists(path):
            raise CniError(
                CONTAINER_UNKNOWN,
                f"network namespace {path} does not exist",
                "the sandbox is gone (or CNI_NETNS is wrong); nothing was set up",
            )
        return path
