"""Fixtures for the node agent: the embedded API server, a running agent, namespaces, pods.

A test gets a :class:`Node`: the agent running on a thread against a
``ThreadedSimServer`` (core pods only), plus helpers that create pods with the
allocation annotations already written (as the controller would), make
network namespaces, and drive the plugin in-process. Everything it creates
is removed at teardown, even when the test fails.
"""

from __future__ import annotations

import io
import itertools
import json
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ovnctl.cni.plugin import main as plugin_main
from ovnctl.models import allocation_annotations
from ovnctl.node.daemon import DaemonSettings, ThreadedNodeDaemon
from ovnctl.node.naming import bridge_name, host_veth_name
from ovnctl.node.wiring import LINUX_BRIDGE
from ovnctl.sim import ThreadedSimServer
from tests.node import netns as nstools

NODE = "node-a"
_octets = itertools.count(1)


class Subnet:
    """A test subnet: a unique name and a /24 of 10.251.0.0/16 (gateway .1)."""

    def __init__(self) -> None:
        third = next(_octets) % 250
        self.name = nstools.unique("sn-")
        self.cidr = f"10.251.{third}.0/24"
        self.gateway = f"10.251.{third}.1"
        self.prefix = f"10.251.{third}."

    def ip(self, host: int) -> str:
        return f"{self.prefix}{host}"

    @property
    def bridge(self) -> str:
        return bridge_name(self.name)


class Node:
    """The agent under test and everything a test needs around it."""

    def __init__(self, *, sim: ThreadedSimServer, daemon: ThreadedNodeDaemon, root: Path) -> None:
        self.sim = sim
        self.daemon = daemon
        self.root = root
        self.socket = str(daemon.daemon.settings.socket_path)
        self.state_dir = daemon.daemon.settings.state_dir
        self.namespaces: list[str] = []
        self.bridges: set[str] = set()
        self.containers: list[tuple[str, str]] = []

    # -- API objects ---------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.sim.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/merge-patch+json"}
            if method == "PATCH"
            else {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def create_pod(
        self,
        name: str,
        *,
        annotations: dict[str, str] | None = None,
        node: str = NODE,
        namespace: str = "default",
        labels: dict[str, str] | None = None,
        owner: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        metadata: dict[str, Any] = {"name": name, "annotations": annotations or {}}
        if labels:
            metadata["labels"] = labels
        if owner:
            metadata["ownerReferences"] = [owner]
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": metadata,
            "spec": {"nodeName": node, "containers": [{"name": "c", "image": "pause"}]},
        }
        return self.api("POST", f"/api/v1/namespaces/{namespace}/pods", body)  # type: ignore[no-any-return]

    def annotate(self, name: str, annotations: dict[str, Any], namespace: str = "default") -> None:
        self.api(
            "PATCH",
            f"/api/v1/namespaces/{namespace}/pods/{name}",
            {"metadata": {"annotations": annotations}},
        )

    def delete_pod(self, name: str, namespace: str = "default") -> None:
        self.api("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}")

    def allocated_pod(
        self,
        name: str,
        subnet: Subnet,
        host: int,
        *,
        provider: str = "ovn",
        mac: str | None = None,
        vm_name: str | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """A pod with provider's allocation written, as the controller does."""
        annotations = allocation_annotations(
            provider=provider,
            subnet=subnet.name,
            cidr_block=subnet.cidr,
            gateway=subnet.gateway,
            ips=[subnet.ip(host)],
            mac=mac or f"00:00:00:fb:{host // 256:02x}:{host % 256:02x}",
            vm_name=vm_name,
        )
        self.bridges.add(subnet.bridge)
        return self.create_pod(name, annotations=annotations, **kwargs)

    # -- namespaces and the plugin ------------------------------------------

    def netns(self) -> str:
        name = nstools.unique("ovt-")
        nstools.ip("netns", "add", name)
        self.namespaces.append(name)
        return name

    def conf(self, **extra: Any) -> dict[str, Any]:
        return {
            "cniVersion": "1.0.0",
            "name": "ovnctl",
            "type": "kube-ovn",
            "server_socket": self.socket,
            **extra,
        }

    def cni(
        self,
        command: str,
        *,
        netns: str | None,
        pod: str = "",
        container: str = "",
        ifname: str = "eth0",
        namespace: str = "default",
        conf: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        """Run the plugin in-process as a runtime would; (exit status, parsed stdout or None)."""
        container = container or f"c-{pod}-{ifname}"
        self.containers.append((container, ifname))
        environ = {
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": container,
            "CNI_IFNAME": ifname,
            "CNI_NETNS": f"/var/run/netns/{netns}" if netns else "",
            "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE={namespace};K8S_POD_NAME={pod}",
            "CNI_PATH": "/opt/cni/bin",
        }
        stdout = io.StringIO()
        stdin = io.BytesIO(json.dumps(conf or self.conf()).encode())
        status = plugin_main(environ=environ, stdin=stdin, stdout=stdout)
        text = stdout.getvalue()
        return status, (json.loads(text) if text.strip() else None)

    def add(self, pod: str, netns: str, **kwargs: Any) -> dict[str, Any]:
        status, out = self.cni("ADD", netns=netns, pod=pod, **kwargs)
        assert status == 0, out
        return out  # type: ignore[no-any-return]

    def state_files(self) -> list[Path]:
        return sorted(self.state_dir.glob("*.json")) if self.state_dir.is_dir() else []

    def cleanup(self) -> None:
        for container, ifname in self.containers:
            nstools.remove_link(host_veth_name(container_id=container, ifname=ifname))
        for bridge in self.bridges:
            nstools.remove_link(bridge)
        for name in self.namespaces:
            nstools.ip("netns", "del", name, check=False)


@pytest.fixture
def sim() -> Iterator[ThreadedSimServer]:
    with ThreadedSimServer() as server:
        yield server


def start_daemon(
    sim: ThreadedSimServer, root: Path, *, allocation_timeout: float = 1.0
) -> ThreadedNodeDaemon:
    settings = DaemonSettings(
        node_name=NODE,
        socket_path=root / "daemon.sock",
        state_dir=root / "state",
        allocation_timeout=allocation_timeout,
        kubeconfig=str(sim.kubeconfig_path),
        min_watch_timeout_s=30,
        datapath=LINUX_BRIDGE,  # these tests are about the fallback; tests/ovs cover OVS
    )
    return ThreadedNodeDaemon(settings)


@pytest.fixture
def node(sim: ThreadedSimServer) -> Iterator[Node]:
    nstools.require_netns()
    # Short: unix socket paths are limited to 107 bytes, pytest's tmp_path can be longer.
    root = Path(tempfile.mkdtemp(prefix="ovt-"))
    try:
        with start_daemon(sim, root) as daemon:
            node = Node(sim=sim, daemon=daemon, root=root)
            try:
                yield node
            finally:
                node.cleanup()
    finally:
        shutil.rmtree(root, ignore_errors=True)
