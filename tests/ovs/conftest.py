"""Fixtures for the OVS datapath: the agent on a thread, wired to the module's OVN stack.

The agent (``datapath=ovs``) configures the stack's chassis itself and plugs
veths into the stack's integration bridge; the test writes the logical
switches and ports into the NB by hand (``tests/e2e`` lets ``ovnctl run`` do
that). Everything a test creates, OVS ports included, goes at teardown.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ovnctl.models import ip_object_name
from ovnctl.node.daemon import DaemonSettings, ThreadedNodeDaemon
from ovnctl.node.naming import host_veth_name
from ovnctl.node.wiring import OVS
from ovnctl.ovn.stack import OvnStack
from ovnctl.sim import ThreadedSimServer
from tests.node.conftest import NODE, Node, Subnet


def daemon_settings(stack: OvnStack, sim: ThreadedSimServer, root: Path, **extra: Any) -> Any:
    return DaemonSettings(
        node_name=NODE,
        socket_path=root / "daemon.sock",
        state_dir=root / "state",
        allocation_timeout=2.0,
        kubeconfig=str(sim.kubeconfig_path),
        min_watch_timeout_s=30,
        datapath=OVS,
        ovs_db=stack.ovs,
        bridge=stack.bridge,
        system_id=stack.chassis,
        ovn_remote=stack.sb,
        encap_ip="127.0.0.1",
        datapath_type="netdev",
        install_timeout=3.0,
        **extra,
    )


class OvsNode(Node):
    """:class:`Node` on the OVS datapath, with the stack and NB helpers."""

    def __init__(self, *, stack: OvnStack, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stack = stack
        self.switches: set[str] = set()

    def lsp(self, subnet: Subnet, pod: str, host: int, *, owner: str | None = None) -> str:
        """Write the switch (once) and the pod's port into the NB; the port's name."""
        nb = self.stack.nb.nbctl
        nb("--may-exist", "ls-add", subnet.name)
        name = ip_object_name(owner=owner or pod, namespace="default", provider="ovn")
        mac = f"00:00:00:fb:{host // 256:02x}:{host % 256:02x}"
        address = f"{mac} {subnet.ip(host)}"
        nb("--may-exist", "lsp-add", subnet.name, name, "--", "lsp-set-addresses", name, address,
           "--", "lsp-set-port-security", name, address)  # fmt: skip
        self.switches.add(subnet.name)
        return name

    def interface(self, container: str, ifname: str = "eth0") -> dict[str, Any] | None:
        """The OVS Interface row of a container's host end (external_ids decoded), or None."""
        name = host_veth_name(container_id=container, ifname=ifname)
        for row in self.stack.vsctl_json("Interface"):
            if row["name"] == name:
                ids = row["external_ids"]
                return {**row, "external_ids": dict(ids[1]) if isinstance(ids, list) else ids}
        return None

    def ovs_cleanup(self) -> None:
        for container, ifname in self.containers:
            port = host_veth_name(container_id=container, ifname=ifname)
            self.stack._run("ovs-vsctl", f"--db={self.stack.ovs}", "--if-exists", "del-port", port)
        for switch in self.switches:
            self.stack.nb.nbctl("--if-exists", "ls-del", switch)


@pytest.fixture
def ovs_node(ovn_stack: OvnStack) -> Iterator[OvsNode]:
    root = Path(tempfile.mkdtemp(prefix="ovt-"))
    try:
        with (
            ThreadedSimServer() as sim,
            ThreadedNodeDaemon(daemon_settings(ovn_stack, sim, root)) as daemon,
        ):
            node = OvsNode(stack=ovn_stack, sim=sim, daemon=daemon, root=root)
            try:
                yield node
            finally:
                node.ovs_cleanup()
                node.cleanup()
    finally:
        shutil.rmtree(root, ignore_errors=True)
