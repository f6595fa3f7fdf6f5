"""A one-node cluster with real OVN: API server, ``ovnctl run``, ``ovnctl daemon``, exec'd CNI.

Each piece is a separate process, as in production: the embedded API server
(:class:`~ovnctl.sim.SimProcess`), ``ovnctl run --ovn-nb`` pointed at the
stack's NB, ``ovnctl daemon --datapath ovs`` pointed at the stack's OVS
database (it configures the chassis itself), and the CNI plugin exec'd per
call with a clean environment and the config on stdin, exactly as a
container runtime runs it. The stack (:class:`~ovnctl.ovn.stack.OvnStack`)
supplies OVS, NB, SB, northd and ovn-controller. Used by the end-to-end tests
and the OVS benchmarks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ovnctl.node.naming import host_veth_name
from ovnctl.ovn.stack import OvnStack
from ovnctl.sim import SimProcess
from tests.conftest import REPO, crd_manifests
from tests.e2e.conftest import ControllerProcess
from tests.node import netns as nstools

NODE = "node-a"


class OvnCluster:
    """Start with ``with``; everything it started or made is gone after the block."""

    def __init__(self, stack: OvnStack, *, install_timeout: float = 10.0) -> None:
        self.stack = stack
        self.install_timeout = install_timeout
        self.root = Path(tempfile.mkdtemp(prefix="ove-"))
        self.socket = self.root / "daemon.sock"
        self.sim: SimProcess | None = None
        self.controller: ControllerProcess | None = None
        self.daemon: subprocess.Popen[bytes] | None = None
        self.namespaces: list[str] = []
        self.sandboxes: list[tuple[str, str]] = []

    # -- life cycle --------------------------------------------------------

    def __enter__(self) -> OvnCluster:
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        self.sim = SimProcess(manifests=crd_manifests())
        self.sim.__enter__()
        kubeconfig = self.sim.kubeconfig_path
        self.controller = ControllerProcess(
            kubeconfig=kubeconfig,
            identity="e2e-ovn",
            log_dir=self.root,
            extra=("--ovn-nb", self.stack.nb.tcp),
        )
        daemon_log = (self.root / "daemon.log").open("wb")
        self.daemon = subprocess.Popen(
            [sys.executable, "-m", "ovnctl", "daemon",
             "--node-name", NODE, "--kubeconfig", str(kubeconfig),
             "--socket", str(self.socket), "--state-dir", str(self.root / "state"),
             "--datapath", "ovs", "--ovs-db", self.stack.ovs, "--bridge", self.stack.bridge,
             "--system-id", self.stack.chassis, "--ovn-remote", self.stack.sb,
             "--encap-ip", "127.0.0.1", "--datapath-type", "netdev",
             "--install-timeout", str(self.install_timeout)],
            stdout=daemon_log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        daemon_log.close()
        self.wait(lambda: self.socket.exists(), what="ovnctl daemon's socket", within=30)
        # Ready (200) does not wait for the NB; the body says whether it is connected.
        self.wait(
            lambda: (
                self.controller is not None
                and self.controller.probe("/readyz") == (200, "leading; OVN NB connected\n")
            ),
            what="ovnctl run ready and connected to the NB",
            within=30,
        )

    def __exit__(self, *exc: object) -> None:
        for container, ifname in self.sandboxes:
            port = host_veth_name(container_id=container, ifname=ifname)
            self.stack._run("ovs-vsctl", f"--db={self.stack.ovs}", "--if-exists", "del-port", port)
            nstools.remove_link(port)
        for name in self.namespaces:
            nstools.ip("netns", "del", name, check=False)
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.terminate()
            try:
                self.daemon.wait(10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait(5)
        if self.controller is not None:
            self.controller.stop()
        if self.sim is not None:
            self.sim.__exit__(None, None, None)
        shutil.rmtree(self.root, ignore_errors=True)

    def logs(self) -> str:
        daemon = (self.root / "daemon.log").read_text(errors="replace")[-3000:]
        controller = self.controller.logs() if self.controller else ""
        return f"--- daemon\n{daemon}\n--- controller\n{controller[-3000:]}"

    def wait(self, check: Callable[[], bool], *, what: str, within: float = 10.0) -> None:
        """Poll ``check`` until true, at most ``within`` seconds (a bound, not a sleep)."""
        deadline = time.monotonic() + within
        while not check():
            if self.daemon is not None and self.daemon.poll() is not None:
                raise AssertionError(f"ovnctl daemon exited: {self.logs()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{what}: not within {within} s\n{self.logs()}")
            time.sleep(0.05)

    # -- the API -----------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None) -> Any:
        assert self.sim is not None
        request = urllib.request.Request(
            self.sim.url + path,
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def create(self, obj: dict[str, Any]) -> None:
        group_version = obj["apiVersion"]
        plural = {
            "Subnet": "subnets",
            "Pod": "pods",
            "VirtualMachine": "virtualmachines",
            "VirtualMachineInstance": "virtualmachineinstances",
        }[obj["kind"]]
        namespace = obj["metadata"].get("namespace")
        base = f"/api/{group_version}" if "/" not in group_version else f"/apis/{group_version}"
        where = f"/namespaces/{namespace}" if namespace else ""
        self.api("POST", f"{base}{where}/{plural}", obj)

    def delete_pod(self, name: str, namespace: str = "default") -> None:
        self.api("DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}")

    def pod(self, name: str, namespace: str = "default") -> dict[str, Any] | None:
        try:
            return self.api("GET", f"/api/v1/namespaces/{namespace}/pods/{name}")  # type: ignore[no-any-return]
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise

    # -- the runtime's side ------------------------------------------------

    def netns(self) -> str:
        name = nstools.unique("ove-")
        nstools.ip("netns", "add", name)
        self.namespaces.append(name)
        return name

    def remove_netns(self, name: str) -> None:
        nstools.ip("netns", "del", name, check=False)
        self.namespaces.remove(name)

    def cni(
        self, command: str, *, pod: str, netns: str, container: str | None = None
    ) -> tuple[int, Any]:
        """Exec the plugin as a runtime does; (exit status, parsed stdout or None)."""
        container = container or f"c-{pod}"
        if (container, "eth0") not in self.sandboxes:
            self.sandboxes.append((container, "eth0"))
        conf = {
            "cniVersion": "1.0.0",
            "name": "ovnctl",
            "type": "kube-ovn",
            "server_socket": str(self.socket),
        }
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(REPO),
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": container,
            "CNI_NETNS": f"/var/run/netns/{netns}" if netns else "",
            "CNI_IFNAME": "eth0",
            "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME={pod}",
            "CNI_PATH": "/opt/cni/bin",
        }
        done = subprocess.run(
            [sys.executable, "-m", "ovnctl.cni"],
            input=json.dumps(conf).encode(),
            env=env,
            capture_output=True,
            timeout=90,
            cwd="/",
        )
        out = done.stdout.decode()
        return done.returncode, (json.loads(out) if out.strip() else None)

    def add(self, pod: str, netns: str, **kwargs: Any) -> dict[str, Any]:
        status, out = self.cni("ADD", pod=pod, netns=netns, **kwargs)
        assert status == 0, f"ADD {pod}: {out}\n{self.logs()}"
        return out  # type: ignore[no-any-return]

    def start_pod(self, obj: dict[str, Any]) -> tuple[str, str]:
        """Create ``obj`` and run its sandbox's ADD; (netns, its IPv4 address)."""
        self.create(obj)
        return self.start_pod_sandbox(obj["metadata"]["name"])

    def start_pod_sandbox(self, name: str) -> tuple[str, str]:
        """A namespace and the ADD for the existing pod ``name``; (netns, its IPv4 address)."""
        ns = self.netns()
        result = self.add(name, ns)
        return ns, str(result["ips"][0]["address"].split("/")[0])

    def pings(self, netns: str, address: str, *, tries: int = 1) -> bool:
        """``tries`` echo requests one after the other (a second each); True at the first reply."""
        return any(nstools.ping(netns, address) for _ in range(tries))

    def talks_tcp(self, netns: str, address: str, *, port: int = 8080, within: float = 10) -> bool:
        """TCP through OVN: a listener in the namespace holding ``address`` sends a greeting;
        a client in ``netns`` connects (retried until it listens, at most ``within`` s).

        Plain sockets, not http.server: that one resolves its host name at start, which
        in a namespace without DNS waits for the resolver's timeout.
        """
        owner = next(ns for ns in self.namespaces if address in _addresses(ns))
        listen = (
            "import socket; s = socket.socket(); "
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
            f"s.bind(({address!r}, {port})); s.listen(); c, _ = s.accept(); c.sendall(b'hello')"
        )
        connect = (
            f"import socket; c = socket.create_connection(({address!r}, {port}), timeout=2); "
            "assert c.recv(5) == b'hello'"
        )
        server = subprocess.Popen(
            ["ip", "netns", "exec", owner, sys.executable, "-c", listen],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + within
            while time.monotonic() < deadline:
                done = subprocess.run(
                    ["ip", "netns", "exec", netns, sys.executable, "-c", connect],
                    capture_output=True,
                    timeout=30,
                )
                if done.returncode == 0:
                    return True
                time.sleep(0.1)
            return False
        finally:
            server.kill()
            server.wait(5)

    def ovnctl_ports(self) -> list[str]:
        """Names of the OVS interfaces ovnctl's agent made (external_ids:vendor=ovnctl)."""
        found = []
        for row in self.stack.vsctl_json("Interface"):
            ids = row["external_ids"]
            if dict(ids[1] if isinstance(ids, list) else ids).get("vendor") == "ovnctl":
                found.append(str(row["name"]))
        return found


def _addresses(netns: str) -> set[str]:
    return {a.split("/")[0] for a in nstools.addresses(netns, "eth0")}
