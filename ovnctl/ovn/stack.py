"""A whole private OVN node in a folder: OVS database and vswitchd, NB, SB, northd, ovn-controller.

Where it sits: beside :class:`~ovnctl.ovn.sandbox.NbSandbox` (which it reuses
for the NB), for tests, benchmarks and ``ovnctl demo``. ``ovnctl run`` writes
the NB, ``ovn-northd`` turns it into the SB, and ``ovn-controller`` binds the
ports that ``ovnctl daemon`` adds to the integration bridge, so packets really
cross OVN's logical switches and routers.

Never the system services: every database is created from the installed
schema in ``directory``, every server listens on a unix socket there (the NB
also on a free loopback port), pidfiles, control sockets and logs go there
too (``OVS_RUNDIR``/``OVN_RUNDIR`` and friends point at it), and
:meth:`OvnStack.stop` ends every process it started.

Machines without the Open vSwitch kernel module are served by the userspace
datapath: ``ovs-vswitchd --disable-system`` and bridges with
``datapath_type=netdev``. The netdev datapath creates tap devices in the host
namespace for its bridges (one named like each bridge, and ``ovs-netdev``);
the integration bridge therefore gets a unique name by default (ovn-controller
is told it with ``ovn-bridge``), so a stack never clashes with a real
``br-int`` or another stack, and :meth:`stop` removes the datapath
(``exit --cleanup``) and with it those taps. The ``ovs-netdev`` tap is one per
host, so only one stack runs on a machine at a time (tests share one per module).

Debian's ``openvswitch-switch``, ``ovn-central`` and ``ovn-host`` provide the
binaries; :func:`missing_stack` says what is absent.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from ovnctl.ovn.sandbox import NB_SCHEMA, NbSandbox

__all__ = ["OVS_SCHEMA", "SB_SCHEMA", "OvnStack", "missing_stack"]

OVS_SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")
SB_SCHEMA = Path("/usr/share/ovn/ovn-sb.ovsschema")

_PACKAGES = {
    "ovsdb-server": "openvswitch-switch",
    "ovsdb-tool": "openvswitch-common",
    "ovs-vswitchd": "openvswitch-switch",
    "ovs-appctl": "openvswitch-common",
    "ovn-northd": "ovn-central",
    "ovn-nbctl": "ovn-central",
    "ovn-sbctl": "ovn-common",
    "ovn-controller": "ovn-host",
}
_SCHEMAS = {
    OVS_SCHEMA: "openvswitch-common",
    NB_SCHEMA: "ovn-common",
    SB_SCHEMA: "ovn-common",
}


def _tool(name: str) -> str | None:
    # The daemons live in /usr/sbin, which a non-root PATH often lacks.
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def missing_stack() -> str | None:
    """Why a stack cannot run on this machine, or None when it can."""
    if os.geteuid() != 0:
        return "needs root: vswitchd creates tap devices and the tests create namespaces"
    absent = [f"{tool} ({pkg})" for tool, pkg in _PACKAGES.items() if _tool(tool) is None]
    absent += [f"{path} ({pkg})" for path, pkg in _SCHEMAS.items() if not path.exists()]
    if absent:
        packages = "openvswitch-switch ovn-central ovn-host"
        return f"missing: {', '.join(absent)}; apt-get install {packages}"
    if shutil.which("ip") is None:
        return "iproute2's `ip` command is missing"
    return None


class OvnStack:
    """Every OVN daemon of one node, serving from ``directory`` (use as ``with``).

    ``chassis`` is the ``system-id``. ``configure_chassis=False`` leaves the
    ``Open_vSwitch`` row's ``external_ids`` empty, so that ``ovnctl daemon``'s
    node set-up is what makes ovn-controller join; ovn-controller then idles
    until it is configured. ``bridge`` is the integration bridge's name.
    """

    def __init__(
        self,
        directory: Path,
        *,
        chassis: str = "node-a",
        bridge: str | None = None,
        configure_chassis: bool = True,
    ) -> None:
        self.directory = directory
        self.chassis = chassis
        # Tap devices are named after bridges: at most 15 characters, unique per stack.
        self.bridge = bridge or f"bi-{uuid.uuid4().hex[:8]}"
        self.configure_chassis = configure_chassis
        directory.mkdir(parents=True, exist_ok=True)
        self.ovs_socket = directory / "db.sock"
        self.sb_socket = directory / "sb.sock"
        self.nb = NbSandbox(directory / "nb")
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []
        self._had_netdev_tap = _link_exists("ovs-netdev")

    # -- addresses ---------------------------------------------------------

    @property
    def ovs(self) -> str:
        """The Open_vSwitch database's remote (what ``ovnctl daemon --ovs-db`` takes)."""
        return f"unix:{self.ovs_socket}"

    @property
    def sb(self) -> str:
        """The southbound remote (``ovn-remote``)."""
        return f"unix:{self.sb_socket}"

    @property
    def chassis_external_ids(self) -> dict[str, str]:
        """What ``Open_vSwitch`` ``external_ids`` carry for ovn-controller (docs/node.md)."""
        return {
            "system-id": self.chassis,
            "ovn-remote": self.sb,
            "ovn-encap-type": "geneve",
            "ovn-encap-ip": "127.0.0.1",
            "ovn-bridge": self.bridge,
            "ovn-bridge-datapath-type": "netdev",
        }

    @property
    def env(self) -> dict[str, str]:
        """The environment that points OVS and OVN tools at this stack's folder."""
        d = str(self.directory)
        env = dict(os.environ)
        for project in ("OVS", "OVN"):
            for what in ("RUNDIR", "LOGDIR", "DBDIR", "SYSCONFDIR"):
                env[f"{project}_{what}"] = d
        return env

    # -- life cycle --------------------------------------------------------

    def start(self, *, timeout: float = 20.0) -> None:
        """Create the databases and start every daemon; return once the chassis is in the SB."""
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> None:
        d = self.directory
        conf_db, sb_db = d / "conf.db", d / "sb.db"
        for db, schema in ((conf_db, OVS_SCHEMA), (sb_db, SB_SCHEMA)):
            db.unlink(missing_ok=True)
            self._run("ovsdb-tool", "create", str(db), str(schema))
        # The root row that `ovs-vsctl init` would write, with the chassis settings in it.
        external_ids = self.chassis_external_ids if self.configure_chassis else {}
        row = {"external_ids": ["map", sorted(external_ids.items())]}
        op = [{"op": "insert", "table": "Open_vSwitch", "row": row}]
        self._run("ovsdb-tool", "transact", str(conf_db), json.dumps(["Open_vSwitch", *op]))

        self._daemon("ovsdb", "ovsdb-server", str(conf_db), f"--remote=punix:{self.ovs_socket}")
        self._daemon("sbdb", "ovsdb-server", str(sb_db), f"--remote=punix:{self.sb_socket}")
        self.nb.start(timeout=timeout)
        deadline = time.monotonic() + timeout
        for name, path in (("ovsdb", self.ovs_socket), ("sbdb", self.sb_socket)):
            self._wait(name, path.exists, deadline)
        # --disable-system: no kernel datapath here (and none wanted): only netdev bridges.
        self._daemon("vswitchd", "ovs-vswitchd", self.ovs, "--disable-system")
        self._daemon(
            "northd",
            "ovn-northd",
            f"--ovnnb-db={self.nb.unix}",
            f"--ovnsb-db={self.sb}",
        )
        self._daemon("controller", "ovn-controller", self.ovs, unixctl=False)
        self._wait("vswitchd", (d / "vswitchd.ctl").exists, deadline)
        if self.configure_chassis:
            self.wait_chassis(deadline - time.monotonic())

    def wait_chassis(self, timeout: float = 20.0) -> None:
        """Wait until the chassis is in the SB and vswitchd has made the integration bridge."""
        deadline = time.monotonic() + timeout
        self._wait(
            "controller",
            lambda: self.chassis in self.sbctl("--bare", "--columns=name", "list", "Chassis"),
            deadline,
        )
        self._wait("vswitchd", lambda: _link_exists(self.bridge), deadline)

    def stop(self) -> None:
        """End every daemon (controller first), remove the datapath's taps; idempotent."""
        vswitchd = self._processes.get("vswitchd")
        if vswitchd is not None and vswitchd.poll() is None:
            # Deletes the netdev datapath and with it the tap devices of its bridges.
            with contextlib.suppress(subprocess.SubprocessError, OSError):
                control = str(self.directory / "vswitchd.ctl")
                subprocess.run(
                    [_tool("ovs-appctl") or "ovs-appctl", "-t", control, "exit", "--cleanup"],
                    capture_output=True,
                    timeout=10,
                    env=self.env,
                )  # fmt: skip
        for name in ("controller", "northd", "vswitchd", "sbdb", "ovsdb"):
            process = self._processes.pop(name, None)
            if process is not None:
                _end(process)
        self.nb.stop()
        for log in self._logs:
            log.close()
        self._logs.clear()
        # A vswitchd that died before its clean exit leaves its taps behind.
        leftovers = [self.bridge] if self._had_netdev_tap else [self.bridge, "ovs-netdev"]
        for tap in leftovers:
            if _link_exists(tap):
                subprocess.run(["ip", "link", "del", "dev", tap], capture_output=True, check=False)

    def __enter__(self) -> OvnStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- tools -------------------------------------------------------------

    def sbctl(self, *args: str) -> str:
        """``ovn-sbctl --db=<this SB> ARGS``: stdout."""
        return self._run("ovn-sbctl", f"--db={self.sb}", "--timeout=10", *args)

    def vsctl_json(self, table: str) -> list[dict[str, Any]]:
        """Every row of an Open_vSwitch table, read with ``ovsdb-client dump`` (tests' eyes)."""
        out = self._run("ovsdb-client", "--format=json", "dump", self.ovs, "Open_vSwitch", table)
        data = json.loads(out)
        headings = data["headings"] if isinstance(data, dict) else data[0]["headings"]
        rows = data["data"] if isinstance(data, dict) else data[0]["data"]
        return [dict(zip(headings, row, strict=True)) for row in rows]

    def logs(self, name: str, *, tail: int = 3000) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""

    # -- helpers -----------------------------------------------------------

    def _run(self, tool: str, *args: str) -> str:
        done = subprocess.run(
            [_tool(tool) or tool, *args], capture_output=True, text=True, env=self.env, timeout=30
        )
        if done.returncode:
            raise RuntimeError(f"{tool} {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def _daemon(self, name: str, tool: str, *args: str, unixctl: bool = True) -> None:
        d = self.directory
        # ovn-controller 23.03 has no --unixctl: it names its own socket in OVN_RUNDIR.
        control = [f"--unixctl={d / f'{name}.ctl'}"] if unixctl else []
        out = (d / f"{name}.out").open("wb")
        self._logs.append(out)
        self._processes[name] = subprocess.Popen(
            [
                _tool(tool) or tool,
                *args,
                *control,
                f"--pidfile={d / f'{name}.pid'}",
                f"--log-file={d / f'{name}.log'}",
                "-vconsole:off",
            ],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,  # a Ctrl-C in the test's terminal is the test's, not theirs
        )

    def _wait(self, name: str, ready: Callable[[], bool], deadline: float) -> None:
        while True:
            process = self._processes.get(name)
            if process is not None and process.poll() is not None:
                output = (self.directory / f"{name}.out").read_text(errors="replace")
                raise RuntimeError(
                    f"{name} exited with {process.returncode}: {self.logs(name)}{output[-2000:]}"
                )
            with contextlib.suppress(RuntimeError):
                if ready():
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready in time; log: {self.logs(name)}")
            time.sleep(0.05)


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _link_exists(name: str) -> bool:
    return Path("/sys/class/net", name).exists()
