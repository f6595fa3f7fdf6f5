"""A private OVN Northbound ovsdb-server in a folder: for tests, benchmarks and demos.

Never the system service: the database is created from the installed schema
(``ovsdb-tool create``) in a directory the caller owns, the server listens on
a free loopback port (and a unix socket, and with ``tls`` an ``ssl:`` port)
with its pidfile, control socket and log beside the database, and
:meth:`NbSandbox.stop` kills it. :meth:`kill` and :meth:`start` again on the
same port and database simulate an NB crash and restart. :class:`NbCluster`
runs a Raft-clustered NB of three members the same way. Debian's
``ovn-central`` package provides the binaries.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from ovnctl.ovn.tls import NbTls

__all__ = ["NB_SCHEMA", "NbCluster", "NbSandbox", "missing_tools"]

NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")
_TOOLS = ("ovsdb-server", "ovsdb-tool", "ovn-nbctl", "ovs-appctl")


def _tool(name: str) -> str | None:
    # ovsdb-server lives in /usr/sbin, which a non-root PATH often lacks.
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


def _run_tool(name: str) -> str:
    return _tool(name) or name


def missing_tools() -> str | None:
    """Why a sandbox cannot run here, or None when it can."""
    absent = [tool for tool in _TOOLS if _tool(tool) is None]
    if absent:
        return f"{', '.join(absent)} not installed (apt-get install ovn-central)"
    if not NB_SCHEMA.exists():
        return f"{NB_SCHEMA} missing (apt-get install ovn-central)"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn_server(
    db: Path, *, port: int, files: Path, extra: tuple[str, ...] = ()
) -> subprocess.Popen[bytes]:
    """ovsdb-server for ``db`` on loopback ``port``, with ``extra`` options (remotes, TLS).

    Its control socket, pidfile and log are ``files`` with ``.ctl``, ``.pid``, ``.log``.
    """
    return subprocess.Popen(
        [
            _run_tool("ovsdb-server"),
            str(db),
            f"--remote=ptcp:{port}:127.0.0.1",
            *extra,
            f"--unixctl={files}.ctl",
            f"--pidfile={files}.pid",
            f"--log-file={files}.log",
            "-vconsole:off",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill(process: subprocess.Popen[bytes] | None) -> None:
    """Crash ``process`` (SIGKILL) if it still runs, as when a node dies."""
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


def _nbctl(db: str, args: tuple[str, ...], *, timeout: int) -> str:
    """``ovn-nbctl --db=DB ARGS``'s stdout; a failure raises with its stderr."""
    result = subprocess.run(
        [_run_tool("ovn-nbctl"), f"--db={db}", f"--timeout={timeout}", *args],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"ovn-nbctl {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


class NbSandbox:
    """One ovsdb-server serving a fresh NB database from ``directory``."""

    def __init__(
        self, directory: Path, *, port: int | None = None, tls: NbTls | None = None
    ) -> None:
        """``tls``: the *server's* key and certificate, and the CA its clients must be signed by."""
        self.directory = directory
        self.db = directory / "nb.db"
        self.port = port if port is not None else _free_port()
        self.tls = tls
        self.ssl_port = _free_port() if tls is not None else None
        self.socket = directory / "nb.sock"
        self._process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [_run_tool("ovsdb-tool"), "create", str(self.db), str(NB_SCHEMA)],
            check=True,
            capture_output=True,
        )

    @property
    def tcp(self) -> str:
        """The ``--ovn-nb`` value of the TCP remote."""
        return f"tcp:127.0.0.1:{self.port}"

    @property
    def ssl(self) -> str:
        """The ``--ovn-nb`` value of the ``ssl:`` remote (only with ``tls``)."""
        if self.ssl_port is None:
            raise RuntimeError("this sandbox was started without tls")
        return f"ssl:127.0.0.1:{self.ssl_port}"

    @property
    def unix(self) -> str:
        """The ``--ovn-nb`` value of the unix-socket remote."""
        return f"unix:{self.socket}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, *, timeout: float = 10.0) -> None:
        """Start serving (again) on the same port and database; wait until it accepts."""
        if self.running:
            return
        d = self.directory
        secure: tuple[str, ...] = ()
        if self.tls is not None:
            secure = (
                f"--remote=pssl:{self.ssl_port}:127.0.0.1",
                f"--private-key={self.tls.private_key}",
                f"--certificate={self.tls.certificate}",
                f"--ca-cert={self.tls.ca_cert}",
            )
        self._process = _spawn_server(
            self.db,
            port=self.port,
            files=d / "nb",
            extra=(f"--remote=punix:{self.socket}", *secure),
        )
        deadline = time.monotonic() + timeout
        for port in (self.port, self.ssl_port):
            while port is not None:
                if self._process.poll() is not None:
                    raise RuntimeError(f"ovsdb-server exited at start; see {d / 'nb.log'}")
                with (
                    contextlib.suppress(OSError),
                    socket.create_connection(("127.0.0.1", port), timeout=0.2),
                ):
                    break
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"ovsdb-server did not listen on {port} in {timeout} s")
                time.sleep(0.02)

    def kill(self) -> None:
        """Crash the server (SIGKILL): no clean shutdown, as when a node dies."""
        process, self._process = self._process, None
        _kill(process)

    stop = kill

    def nbctl(self, *args: str) -> str:
        """Run ``ovn-nbctl --db=tcp:127.0.0.1:PORT ARGS`` and return its stdout."""
        return _nbctl(self.tcp, args, timeout=10)

    def __enter__(self) -> NbSandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


class NbCluster:
    """A 3-member (by default) Raft cluster of NB ovsdb-servers in ``directory``.

    Member 1 creates the cluster (``ovsdb-tool create-cluster``), the others
    join it (``join-cluster``); each serves clients on its own free loopback
    port and talks Raft on another. :attr:`remote` is the comma-separated
    ``--ovn-nb`` value naming every member. :meth:`leader` asks each running
    member's ``cluster/status``; :meth:`kill` crashes one (SIGKILL).
    """

    def __init__(self, directory: Path, *, members: int = 3) -> None:
        if members < 1:
            raise ValueError("a cluster needs at least one member")
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.client_ports = [_free_port() for _ in range(members)]
        self.raft_ports = [_free_port() for _ in range(members)]
        self._processes: dict[int, subprocess.Popen[bytes]] = {}
        first = self._raft(0)
        for index in range(members):
            db = self._db(index)
            if index == 0:
                args = ["create-cluster", str(db), str(NB_SCHEMA), first]
            else:
                args = ["join-cluster", str(db), "OVN_Northbound", self._raft(index), first]
            subprocess.run([_run_tool("ovsdb-tool"), *args], check=True, capture_output=True)

    def _db(self, index: int) -> Path:
        return self.directory / f"nb{index + 1}.db"

    def _raft(self, index: int) -> str:
        return f"tcp:127.0.0.1:{self.raft_ports[index]}"

    def _ctl(self, index: int) -> Path:
        # The control socket _spawn_server gives member ``index``.
        return self.directory / f"nb{index + 1}.ctl"

    @property
    def members(self) -> list[str]:
        """Each member's client remote, in order."""
        return [f"tcp:127.0.0.1:{port}" for port in self.client_ports]

    @property
    def remote(self) -> str:
        """The ``--ovn-nb`` value: every member."""
        return ",".join(self.members)

    def start(self, index: int | None = None, *, timeout: float = 20.0) -> None:
        """Start one member (or all), and wait until the cluster has a leader."""
        indexes = range(len(self.client_ports)) if index is None else [index]
        d = self.directory
        for i in indexes:
            if i in self._processes and self._processes[i].poll() is None:
                continue
            self._processes[i] = _spawn_server(
                self._db(i), port=self.client_ports[i], files=d / f"nb{i + 1}"
            )
        deadline = time.monotonic() + timeout
        while self.leader() is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the NB cluster elected no leader in {timeout} s; see {d}")
            time.sleep(0.1)

    def leader(self) -> int | None:
        """The index of the member that says it is the leader, or None."""
        for index, process in self._processes.items():
            if process.poll() is not None:
                continue
            status = subprocess.run(
                [_run_tool("ovs-appctl"), "-t", str(self._ctl(index)), "cluster/status",
                 "OVN_Northbound"],
                capture_output=True,
                text=True,
                timeout=10,
            )  # fmt: skip
            if "Role: leader" in status.stdout:
                return index
        return None

    def kill(self, index: int) -> None:
        """Crash member ``index`` (SIGKILL)."""
        _kill(self._processes.pop(index, None))

    def stop(self) -> None:
        for index in list(self._processes):
            self.kill(index)

    def nbctl(self, *args: str) -> str:
        """``ovn-nbctl --db=<the running members> ARGS`` (it finds the leader): stdout."""
        # ovn-nbctl gives up on a refused first member instead of trying the next.
        running = ",".join(
            self.members[i] for i, p in sorted(self._processes.items()) if p.poll() is None
        )
        return _nbctl(running, args, timeout=20)

    def __enter__(self) -> NbCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
