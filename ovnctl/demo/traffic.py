"""The demo's last step: real packets through OVN between the scenario's pods.

Where it sits: ``ovnctl demo`` (:mod:`ovnctl.demo.command`) calls
:func:`traffic_skip_reason` to decide whether to start a whole private OVN
stack (:class:`~ovnctl.ovn.stack.OvnStack`) instead of a bare NB, and after
the scenario calls :func:`show_traffic`. That runs the node agent for the
scenario's node on the OVS datapath (it configures the stack's chassis
itself), gives a few pods a network namespace and an ADD from the CNI plugin
(in-process, as a runtime would exec it), and pings between them: on one
switch, and across the ``ovn-cluster`` router. Everything it made is removed
before it returns.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ovnctl.ovn.stack import OvnStack, missing_stack

__all__ = ["ping", "show_traffic", "traffic_skip_reason"]

NODES = ("node-1", "node-2")
"""The scenario's nodes; vm1 live-migrated to node-2. Their agents share this machine's
one chassis (the first configures it): a single-machine stand-in for two nodes."""

# A stdlib ICMP echo (IPv4 or IPv6) for machines without iputils' ping (a raw socket:
# root, as ping).
_PY_PING = r"""
import os, socket, struct, sys, time
dst = sys.argv[1]
v6 = ":" in dst
if v6:
    family, proto, kind = socket.AF_INET6, socket.IPPROTO_ICMPV6, 128
else:
    family, proto, kind = socket.AF_INET, socket.IPPROTO_ICMP, 8
s = socket.socket(family, socket.SOCK_RAW, proto)
s.settimeout(1.0)
ident = os.getpid() & 0xFFFF
def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF
payload = b"ovnctl-ping"
header = struct.pack("!BBHHH", kind, 0, 0, ident, 1)
csum = 0 if v6 else checksum(header + payload)
s.sendto(struct.pack("!BBHHH", kind, 0, csum, ident, 1) + payload, (dst, 0))
deadline = time.monotonic() + 1.0
while time.monotonic() < deadline:
    try:
        data, addr = s.recvfrom(2048)
    except socket.timeout:
        break
    icmp = data if v6 else data[(data[0] & 0x0F) * 4:]
    if icmp[0] == (129 if v6 else 0) and struct.unpack("!H", icmp[4:6])[0] == ident:
        sys.exit(0)
sys.exit(1)
"""


def traffic_skip_reason() -> str | None:
    """Why this machine cannot show real traffic (None: it can)."""
    return missing_stack()


def ping(netns: str, address: str) -> bool:
    """One echo request from network namespace ``netns`` to ``address`` within a second.

    Also the tests' ping (``tests/node/netns.py``), so the demo and the tests agree on it.
    """
    if shutil.which("ping"):
        argv = ["ping", "-c1", "-W1", address]
    else:
        argv = [sys.executable, "-c", _PY_PING, address]
    done = subprocess.run(["ip", "netns", "exec", netns, *argv], capture_output=True, timeout=10)
    return done.returncode == 0


class _Sandboxes:
    """Network namespaces and CNI ADDs made for the demo; all undone by :meth:`close`."""

    def __init__(self, sockets: dict[str, Path], namespace: str) -> None:
        self.sockets = sockets
        self.namespace = namespace
        self.made: list[tuple[str, str, str, dict[str, Any]]] = []
        self.netns: dict[str, str] = {}

    def add(self, pod: str, node: str, ifname: str = "eth0", **conf: Any) -> str:
        """ADD ``ifname`` of ``pod`` on ``node`` (namespace made on first use); its IPv4."""
        from ovnctl.cni.plugin import main as plugin_main

        ns = self.netns.get(pod)
        if ns is None:
            ns = self.netns[pod] = f"ovd-{uuid.uuid4().hex[:6]}"
            subprocess.run(["ip", "netns", "add", ns], check=True)
        config = {
            "cniVersion": "1.0.0",
            "name": "ovnctl",
            "type": "kube-ovn",
            "server_socket": str(self.sockets[node]),
            **conf,
        }
        environ = self._environ("ADD", pod, ns, ifname)
        out = io.StringIO()
        status = plugin_main(
            environ=environ, stdin=io.BytesIO(json.dumps(config).encode()), stdout=out
        )
        result = json.loads(out.getvalue() or "{}")
        if status != 0:
            raise click.ClickException(f"CNI ADD {pod} {ifname}: {result.get('msg')}")
        self.made.append((pod, ns, ifname, config))
        return next(
            str(ip["address"]).split("/")[0] for ip in result["ips"] if "." in ip["address"]
        )

    def _environ(self, command: str, pod: str, ns: str, ifname: str) -> dict[str, str]:
        return {
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": f"demo-{pod}",
            "CNI_IFNAME": ifname,
            "CNI_NETNS": f"/var/run/netns/{ns}",
            "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE={self.namespace};K8S_POD_NAME={pod}",
            "CNI_PATH": "/opt/cni/bin",
        }

    def close(self) -> None:
        from ovnctl.cni.plugin import main as plugin_main

        for pod, ns, ifname, config in reversed(self.made):
            plugin_main(
                environ=self._environ("DEL", pod, ns, ifname),
                stdin=io.BytesIO(json.dumps(config).encode()),
                stdout=io.StringIO(),
            )
        for ns in self.netns.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)


@contextmanager
def _agents(stack: OvnStack, kubeconfig: Path, root: Path) -> Iterator[dict[str, Path]]:
    from ovnctl.node.daemon import DaemonSettings, ThreadedNodeDaemon

    with contextlib.ExitStack() as running:
        sockets: dict[str, Path] = {}
        for index, node in enumerate(NODES):
            settings = DaemonSettings(
                node_name=node,
                socket_path=root / f"{node}.sock",
                state_dir=root / f"state-{node}",
                allocation_timeout=10.0,
                kubeconfig=str(kubeconfig),
                datapath="ovs",
                ovs_db=stack.ovs,
                bridge=stack.bridge,
                configure_node=index == 0,
                system_id=stack.chassis,
                ovn_remote=stack.sb,
                encap_ip="127.0.0.1",
                datapath_type="netdev",
            )
            running.enter_context(ThreadedNodeDaemon(settings))
            sockets[node] = settings.socket_path
        yield sockets


def show_traffic(stack: OvnStack, *, kubeconfig: Path, namespace: str) -> None:
    """Wire web-0, vm1's (migrated) pod and web-1's attachment, ping through OVN, print."""
    root = Path(tempfile.mkdtemp(prefix="ovd-"))
    try:
        with _agents(stack, kubeconfig, root) as sockets:
            sandboxes = _Sandboxes(sockets, namespace)
            try:
                web0 = sandboxes.add("web-0", "node-1")
                vm1 = sandboxes.add("virt-launcher-vm1-m3z8r", "node-2")
                # web-1 only on its attachment, with a route back to the primary subnet
                # through its own gateway: the way there and back crosses the router.
                attach = sandboxes.add(
                    "web-1",
                    "node-1",
                    "net1",
                    name="attachnet",
                    provider=f"attachnet.{namespace}.ovn",
                    routes=[{"dst": "10.16.0.0/16"}],
                )
                web0_ns = sandboxes.netns["web-0"]
                for target, address, how in (
                    ("vm1", vm1, "through OVN"),
                    ("web-1 net1", attach, "across the ovn-cluster router"),
                ):
                    replies = sum(ping(web0_ns, address) for _ in range(3))
                    click.echo(f"    web-0 {web0} -> {target} {address} {how}: {replies}/3 replies")
            finally:
                sandboxes.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
