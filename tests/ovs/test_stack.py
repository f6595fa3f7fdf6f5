"""The shared OVN stack fixture itself: it comes up, binds ports, forwards packets, cleans up.

Ports here are wired by hand (``ip`` and ``ovs-vsctl`` against the stack's own
database) so that the fixture is proven independently of ``ovnctl daemon``.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from ovnctl.ovn.stack import OvnStack
from tests.node import netns as nstools
from tests.ovs_stack import Namespaces, require_stack


def _vsctl(stack: OvnStack, *args: str) -> str:
    return stack._run("ovs-vsctl", f"--db={stack.ovs}", "--timeout=10", *args)


def _wire(stack: OvnStack, ns: str, port: str, mac: str, cidr: str, gw: str) -> str:
    host = f"vh{nstools.unique('')}"
    nstools.ip("link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns)
    nstools.ip("link", "set", "eth0", "address", mac, "up", netns=ns)
    nstools.ip("addr", "add", cidr, "dev", "eth0", netns=ns)
    nstools.ip("route", "add", "default", "via", gw, netns=ns)
    nstools.ip("link", "set", host, "up")
    _vsctl(stack, "add-port", stack.bridge, host, "--", "set", "Interface", host,
           f"external_ids:iface-id={port}")  # fmt: skip
    deadline = time.monotonic() + 10
    while "ovn-installed" not in _vsctl(stack, "get", "Interface", host, "external_ids"):
        assert time.monotonic() < deadline, f"{port} never claimed: {stack.logs('controller')}"
        time.sleep(0.05)
    return host


# First in the module: the netdev datapath's ``ovs-netdev`` tap is one per host, so this
# stack must be gone before the module's shared one starts.
def test_stop_ends_every_daemon_and_removes_the_taps() -> None:
    """After stop no daemon of the stack runs and the bridge's tap device is gone."""
    require_stack()
    folder = Path(tempfile.mkdtemp(prefix="ovs-"))
    try:
        with OvnStack(folder) as stack:
            processes = list(stack._processes.values())
            assert Path("/sys/class/net", stack.bridge).exists()
        assert all(p.poll() is not None for p in processes)
        assert not stack.nb.running
        assert not Path("/sys/class/net", stack.bridge).exists()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_stack_registers_the_chassis_with_a_netdev_integration_bridge(ovn_stack) -> None:
    """The chassis is in the SB with a geneve encap; the bridge is netdev and fail-mode secure."""
    assert ovn_stack.chassis in ovn_stack.sbctl("--bare", "--columns=name", "list", "Chassis")
    encap = ovn_stack.sbctl("--bare", "--columns=type,ip", "list", "Encap").split()
    assert encap == ["geneve", "127.0.0.1"]
    bridges = {r["name"]: r for r in ovn_stack.vsctl_json("Bridge")}
    assert bridges[ovn_stack.bridge]["datapath_type"] == "netdev"
    assert bridges[ovn_stack.bridge]["fail_mode"] == "secure"
    assert ovn_stack.ovs_socket.parent == ovn_stack.directory


def test_two_namespaces_ping_through_a_switch_and_across_a_router(
    ovn_stack, namespaces: Namespaces
) -> None:
    """Hand-wired ports are claimed, and packets cross a logical switch and a logical router."""
    sw1, sw2, lr = nstools.unique("s1-"), nstools.unique("s2-"), nstools.unique("r-")
    a, b = f"{sw1}-a", f"{sw1}-b"
    c = f"{sw2}-c"
    nb = ovn_stack.nb.nbctl
    nb("ls-add", sw1, "--", "ls-add", sw2, "--", "lr-add", lr)
    for sw, mac, net in ((sw1, "0a:00:00:00:01:01", "10.97.1.1/24"),
                         (sw2, "0a:00:00:00:02:01", "10.97.2.1/24")):  # fmt: skip
        nb("lrp-add", lr, f"{lr}-{sw}", mac, net)
        nb("lsp-add", sw, f"{sw}-{lr}", "--", "lsp-set-type", f"{sw}-{lr}", "router",
           "--", "lsp-set-addresses", f"{sw}-{lr}", "router",
           "--", "lsp-set-options", f"{sw}-{lr}", f"router-port={lr}-{sw}")  # fmt: skip
    hosts = []
    for sw, port, mac, ip, gw in (
        (sw1, a, "0a:00:00:00:01:0a", "10.97.1.10", "10.97.1.1"),
        (sw1, b, "0a:00:00:00:01:0b", "10.97.1.11", "10.97.1.1"),
        (sw2, c, "0a:00:00:00:02:0c", "10.97.2.12", "10.97.2.1"),
    ):
        nb("lsp-add", sw, port, "--", "lsp-set-addresses", port, f"{mac} {ip}")
        ns = namespaces.make()
        hosts.append((_wire(ovn_stack, ns, port, mac, f"{ip}/24", gw), ns))
    try:
        (_, ns_a), (_, ns_b), (_, ns_c) = hosts
        assert nstools.ping(ns_a, "10.97.1.11"), "no reply across the logical switch"
        assert nstools.ping(ns_b, "10.97.2.12"), "no reply across the logical router"
        assert nstools.ping(ns_c, "10.97.1.10"), "no reply back across the logical router"
    finally:
        for host, _ in hosts:
            _vsctl(ovn_stack, "--if-exists", "del-port", host)
            nstools.remove_link(host)
        nb("--if-exists", "lr-del", lr, "--", "--if-exists", "ls-del", sw1,
           "--", "--if-exists", "ls-del", sw2)  # fmt: skip
