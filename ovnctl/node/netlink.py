"""Netlink helpers of the node's datapath: connections into namespaces, links, addresses.

Where it sits: used by :mod:`ovnctl.node.datapath` (the veth and the pod end)
and :mod:`ovnctl.node.hostside` (the host end's bridge). Every netlink failure
becomes a :class:`~ovnctl.cni.errors.CniError` naming what was being done and
the kernel's reason. Blocking; run on the daemon's datapath thread only.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import ipaddress
import os
import socket
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from ovnctl.cni.errors import CONTAINER_UNKNOWN, DATAPATH_FAILURE, IFNAME_CLASH, CniError

__all__ = [
    "add_address",
    "addresses",
    "delete_link",
    "disable_tx_checksum",
    "failure",
    "host_route",
    "lookup",
    "netlink",
    "ns_route",
    "routes",
]

_IFA_F_NODAD = 0x02
_CLONE_NEWNET = 0x40000000
_LIBC = ctypes.CDLL(None, use_errno=True)
_MAIN_TABLE = 254


@contextmanager
def host_route() -> Iterator[Any]:
    with IPRoute() as ipr:
        yield ipr


@contextmanager
def ns_route(path: str) -> Iterator[Any]:
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
    return _socket_in(path, socket.AF_NETLINK, socket.SOCK_DGRAM)


def _socket_in(path: str, family: int, kind: int) -> socket.socket:
    """A socket (NETLINK_ROUTE, or one for ioctls) bound to the namespace at ``path``.

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
                return socket.socket(family, kind, 0)
            finally:
                if _LIBC.setns(own, _CLONE_NEWNET) != 0:
                    # The thread would go on working in the pod's namespace: nothing is safe.
                    os.abort()
        finally:
            os.close(target)
    finally:
        os.close(own)


_SIOCETHTOOL = 0x8946
_ETHTOOL_STXCSUM = 0x17
_IFREQ_SIZE = 40


def disable_tx_checksum(path: str, ifname: str) -> None:
    """Turn off transmit checksum offload of ``ifname`` in the namespace at ``path``.

    Why: a veth hands its packets on with the checksum left to the hardware
    (CHECKSUM_PARTIAL). The kernel's OVS datapath copes; the userspace
    (netdev) datapath reads them from an AF_PACKET socket and forwards them
    with the checksum unfilled, so the receiving pod drops every TCP and UDP
    packet (ICMP is checksummed by the sender and passes). Kube-OVN does the
    same (``ethtool -K eth0 tx off``) for its userspace datapath. The
    ``ETHTOOL_STXCSUM`` ioctl, on a socket opened in the pod's namespace.
    """
    try:
        sock = _socket_in(path, socket.AF_INET, socket.SOCK_DGRAM)
    except OSError as exc:
        raise CniError(
            CONTAINER_UNKNOWN, f"cannot enter network namespace {path}: {exc.strerror or exc}"
        ) from None
    value = ctypes.create_string_buffer(struct.pack("II", _ETHTOOL_STXCSUM, 0))
    request = struct.pack("16sP", ifname.encode(), ctypes.addressof(value))
    request += b"\0" * (_IFREQ_SIZE - len(request))
    try:
        with sock:
            fcntl.ioctl(sock.fileno(), _SIOCETHTOOL, request)
    except OSError as exc:
        raise CniError(
            DATAPATH_FAILURE,
            f"turn off tx checksum offload on {ifname}: {exc.strerror or exc}",
        ) from None


def lookup(ipr: Any, name: str) -> int:
    found = ipr.link_lookup(ifname=name)
    if not found:
        raise CniError(DATAPATH_FAILURE, f"interface {name} vanished while being set up")
    return int(found[0])


def delete_link(ipr: Any, name: str) -> None:
    for index in ipr.link_lookup(ifname=name):
        try:
            ipr.link("del", index=index)
        except NetlinkError as exc:
            if exc.code != errno.ENODEV:
                raise failure(f"delete {name}", exc) from None


def add_address(ipr: Any, index: int, cidr: str) -> None:
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
            raise failure(f"add address {cidr}", exc) from None


def addresses(ipr: Any, index: int) -> set[str]:
    return {f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}" for a in ipr.get_addr(index=index)}


def routes(ipr: Any, index: int) -> set[tuple[str, str | None]]:
    found: set[tuple[str, str | None]] = set()
    for route in ipr.get_routes(table=_MAIN_TABLE):
        if route.get_attr("RTA_OIF") != index:
            continue
        family_any = "0.0.0.0" if route["family"] == 2 else "::"
        dst = f"{route.get_attr('RTA_DST') or family_any}/{route['dst_len']}"
        found.add((str(ipaddress.ip_network(dst, strict=False)), route.get_attr("RTA_GATEWAY")))
    return found


def netlink(what: str, action: Any, *, clash: str | None = None) -> Any:
    try:
        return action()
    except NetlinkError as exc:
        if clash is not None and exc.code == errno.EEXIST:
            raise CniError(IFNAME_CLASH, f"interface {clash!r} already exists") from None
        raise failure(what, exc) from None


def failure(what: str, exc: NetlinkError) -> CniError:
    return CniError(DATAPATH_FAILURE, f"{what}: {os.strerror(exc.code)} (netlink error {exc.code})")
