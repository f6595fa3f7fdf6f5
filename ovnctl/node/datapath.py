"""The node's datapath, built with netlink: a Linux bridge per subnet, a veth per pod NIC.

Where it sits: the server hands a planned :class:`~ovnctl.node.wiring.Wiring`
to :meth:`Datapath.add` and container/interface ids to :meth:`Datapath.delete`
and :meth:`Datapath.check`; this module is the only one that talks netlink
(pyroute2). It is blocking code: the daemon runs it on one worker thread, so
operations never interleave (a DEL that removes a subnet's last port, and with
it the bridge, cannot race an ADD that is about to join that bridge).

What ADD builds, on machines without Open vSwitch:

* bridge ``ob-<subnet>`` (see :mod:`ovnctl.node.naming`), up, holding the
  subnet's gateway address(es): pods of one subnet on this node reach each
  other through it, and the gateway is the host itself;
* a veth pair: the host end joins the bridge, the other end is created
  directly in the pod's network namespace under the requested name, then gets
  the MAC, MTU, addresses (IPv6 without DAD, so it is usable at once) and
  routes of the plan.

Every failure of ADD removes what this ADD created (deleting the host end of a
veth deletes both ends, wherever the other one is) and leaves an existing
bridge in place. DEL is idempotent: a missing namespace or device is success.
An empty bridge is removed by the DEL that emptied it, so a node whose pods are
gone carries no trace of them.
"""

from __future__ import annotations

import ctypes
import errno
import ipaddress
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from ovnctl.cni.errors import (
    CHECK_FAILED,
    CONTAINER_UNKNOWN,
    DATAPATH_FAILURE,
    IFNAME_CLASH,
    CniError,
)
from ovnctl.node.naming import host_veth_name
from ovnctl.node.state import StateStore
from ovnctl.node.wiring import Wiring

__all__ = ["NETNS_RUN_DIR", "Datapath", "netns_path"]

NETNS_RUN_DIR = "/var/run/netns"

_IFA_F_NODAD = 0x02
_CLONE_NEWNET = 0x40000000
_LIBC = ctypes.CDLL(None, use_errno=True)
_MAIN_TABLE = 254


def netns_path(netns: str) -> str:
    """``CNI_NETNS`` is a path; a bare name (handy by hand) means one under /var/run/netns."""
    return netns if "/" in netns else f"{NETNS_RUN_DIR}/{netns}"


class Datapath:
    """ADD, DEL and CHECK of pod interfaces on this node (blocking, serialised by a lock)."""

    def __init__(self, *, state: StateStore) -> None:
        self.state = state
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
        with _ns_route(path) as ns:
            if ns.link_lookup(ifname=wiring.ifname):
                raise CniError(
                    IFNAME_CLASH,
                    f"interface {wiring.ifname!r} already exists in network namespace {path}",
                    "another plugin or a previous sandbox owns that name; "
                    "pick another interface in the pod's networks annotation",
                )
        with _host_route() as ipr:
            bridge = self._ensure_bridge(ipr, wiring)
            _delete_link(ipr, wiring.host_ifname)  # left by an ADD that died half-way
            fd = os.open(path, os.O_RDONLY)
            try:
                # The pod end is born in the pod's namespace under its final name: moving
                # a device between namespaces costs the kernel an RCU grace period (tens
                # of ms), creating it there does not.
                _netlink(
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
            host = _lookup(ipr, wiring.host_ifname)
            _netlink(
                f"attach {wiring.host_ifname} to {wiring.bridge}",
                lambda: ipr.link("set", index=host, master=bridge, mtu=wiring.mtu, state="up"),
            )
            host_mac = str(ipr.get_links(host)[0].get_attr("IFLA_ADDRESS"))
        with _ns_route(path) as ns:
            index = _lookup(ns, wiring.ifname)
            _netlink(
                f"configure {wiring.ifname}",
                lambda: ns.link("set", index=index, address=wiring.mac, mtu=wiring.mtu, state="up"),
            )
            loopback = ns.link_lookup(ifname="lo")
            if loopback:
                ns.link("set", index=loopback[0], state="up")
            for address in wiring.addresses:
                _add_address(ns, index, address)
            for route in wiring.routes:
                dst = ipaddress.ip_network(route.dst)
                spec: dict[str, Any] = {"dst": route.dst, "oif": index}
                if route.gw:
                    spec["gateway"] = route.gw
                if dst.version == 6:
                    spec["family"] = 10
                _netlink(
                    f"add route {route.dst} via {route.gw or wiring.ifname}",
                    lambda spec=spec: ns.route("replace", **spec),
                )
        return host_mac

    def _ensure_bridge(self, ipr: Any, wiring: Wiring) -> int:
        found = ipr.link_lookup(ifname=wiring.bridge)
        if not found:
            try:
                ipr.link("add", ifname=wiring.bridge, kind="bridge")
            except NetlinkError as exc:
                if exc.code != errno.EEXIST:
                    raise _failure(f"create bridge {wiring.bridge}", exc) from None
            found = ipr.link_lookup(ifname=wiring.bridge)
        index = int(found[0])
        _netlink(f"bring {wiring.bridge} up", lambda: ipr.link("set", index=index, state="up"))
        for address in wiring.bridge_addresses:
            _add_address(ipr, index, address)
        return index

    def _rollback(self, wiring: Wiring) -> None:
        with _host_route() as ipr:
            _delete_link(ipr, wiring.host_ifname)
            self._collect_bridge(ipr, wiring.bridge)

    # -- DEL ---------------------------------------------------------------

    def delete(self, *, container_id: str, ifname: str) -> None:
        """Remove the interface, its state and an emptied bridge; missing pieces are fine."""
        with self._lock:
            recorded = self.state.load(container_id=container_id, ifname=ifname)
            self._teardown(container_id, ifname, recorded[0] if recorded else None)

    def _teardown(self, container_id: str, ifname: str, wiring: Wiring | None) -> None:
        with _host_route() as ipr:
            _delete_link(ipr, host_veth_name(container_id=container_id, ifname=ifname))
            if wiring is not None:
                self._collect_bridge(ipr, wiring.bridge)
        self.state.remove(container_id=container_id, ifname=ifname)

    def _collect_bridge(self, ipr: Any, bridge: str) -> None:
        found = ipr.link_lookup(ifname=bridge)
        if not found:
            return
        ports = [link for link in ipr.get_links() if link.get_attr("IFLA_MASTER") == found[0]]
        if not ports:
            _delete_link(ipr, bridge)

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
        with _host_route() as ipr:
            host = ipr.link_lookup(ifname=wiring.host_ifname)
            bridge = ipr.link_lookup(ifname=wiring.bridge)
            if not bridge:
                problems.append(f"bridge {wiring.bridge} is missing")
            else:
                have = _addresses(ipr, bridge[0])
                problems += [
                    f"bridge {wiring.bridge} lacks gateway {a}"
                    for a in wiring.bridge_addresses
                    if a not in have
                ]
            if not host:
                problems.append(f"host interface {wiring.host_ifname} is missing")
            elif bridge and ipr.get_links(host[0])[0].get_attr("IFLA_MASTER") != bridge[0]:
                problems.append(f"host interface {wiring.host_ifname} is not on {wiring.bridge}")
        with _ns_route(path) as ns:
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
            have = _addresses(ns, index)
            problems += [f"address {a} is missing" for a in wiring.addresses if a not in have]
            routes = _routes(ns, index)
            for route in wiring.routes:
                if (route.dst, route.gw) not in routes:
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


@contextmanager
def _host_route() -> Iterator[Any]:
    with IPRoute() as ipr:
        yield ipr


@contextmanager
def _ns_route(path: str) -> Iterator[Any]:
    """A netlink connection into the namespace at ``path`` (which must exist)."""
    try:
        sock = _netlink_socket_in(path)
    except OSError as exc:
        raise CniError(
            CONTAINER_UNKNOWN, f"cannot enter network namespace {path}: {exc.strerror or exc}"
        ) from None
    with IPRoute(use_socket=sock) as ipr:
        yield ipr


def _netlink_socket_in(path: str) -> socket.socket:
    """A NETLINK_ROUTE socket bound to the namespace at ``path``.

    A socket belongs to the namespace its creator was in, and ``setns`` moves
    only the calling thread: so this thread steps into the pod's namespace,
    opens the socket and steps back. pyroute2's own ``netns=`` forks a helper
    process per connection instead (about 12 ms each, against well under one)
    and creates the namespace when it is missing, which an ADD must never do.
    """
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        target = os.open(path, os.O_RDONLY)
        try:
            if _LIBC.setns(target, _CLONE_NEWNET) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns: {os.strerror(err)}")
            try:
                return socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)
            finally:
                if _LIBC.setns(own, _CLONE_NEWNET) != 0:
                    # The thread would go on working in the pod's namespace: nothing is safe.
                    os.abort()
        finally:
            os.close(target)
    finally:
        os.close(own)


def _lookup(ipr: Any, name: str) -> int:
    found = ipr.link_lookup(ifname=name)
    if not found:
        raise CniError(DATAPATH_FAILURE, f"interface {name} vanished while being set up")
    return int(found[0])


def _delete_link(ipr: Any, name: str) -> None:
    for index in ipr.link_lookup(ifname=name):
        try:
            ipr.link("del", index=index)
        except NetlinkError as exc:
            if exc.code != errno.ENODEV:
                raise _failure(f"delete {name}", exc) from None


def _add_address(ipr: Any, index: int, cidr: str) -> None:
    interface = ipaddress.ip_interface(cidr)
    spec: dict[str, Any] = {
        "index": index,
        "address": str(interface.ip),
        "prefixlen": interface.network.prefixlen,
    }
    if interface.version == 6:
        spec["family"] = 10
        spec["flags"] = _IFA_F_NODAD  # usable at once: no duplicate detection on our own link
    try:
        ipr.addr("add", **spec)
    except NetlinkError as exc:
        if exc.code != errno.EEXIST:
            raise _failure(f"add address {cidr}", exc) from None


def _addresses(ipr: Any, index: int) -> set[str]:
    return {f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}" for a in ipr.get_addr(index=index)}


def _routes(ipr: Any, index: int) -> set[tuple[str, str | None]]:
    found: set[tuple[str, str | None]] = set()
    for route in ipr.get_routes(table=_MAIN_TABLE):
        if route.get_attr("RTA_OIF") != index:
            continue
        family_any = "0.0.0.0" if route["family"] == 2 else "::"
        dst = f"{route.get_attr('RTA_DST') or family_any}/{route['dst_len']}"
        found.add((str(ipaddress.ip_network(dst, strict=False)), route.get_attr("RTA_GATEWAY")))
    return found


def _netlink(what: str, action: Any, *, clash: str | None = None) -> Any:
    try:
        return action()
    except NetlinkError as exc:
        if clash is not None and exc.code == errno.EEXIST:
            raise CniError(IFNAME_CLASH, f"interface {clash!r} already exists") from None
        raise _failure(what, exc) from None


def _failure(what: str, exc: NetlinkError) -> CniError:
    return CniError(DATAPATH_FAILURE, f"{what}: {os.strerror(exc.code)} (netlink error {exc.code})")
