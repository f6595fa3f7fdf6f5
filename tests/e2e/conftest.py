"""End-to-end fixtures: ``ovnctl run`` as a separate process against the API server in another.

This is how users run it: a kubeconfig pointing at a server, flags, signals,
HTTP probes. Nothing is shared in memory between the test and the controller.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ovnctl.k8s.api import KubeApi, Transient
from ovnctl.k8s.connection import connect
from ovnctl.sim import SimProcess
from tests.conftest import crd_manifests

REPO = Path(__file__).resolve().parents[2]
CRDS = crd_manifests()

# Short lease timings keep takeover tests quick; the relations are the production ones.
FAST_LEASE = ("--lease-duration", "3", "--renew-deadline", "2", "--retry-period", "0.5")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ControllerProcess:
    """One ``ovnctl run`` child process with its probe port and log file."""

    def __init__(
        self, *, kubeconfig: Path, identity: str, log_dir: Path, extra: tuple[str, ...] = ()
    ):
        self.identity = identity
        self.port = free_port()
        self.log_path = log_dir / f"{identity}.log"
        args = [
            sys.executable, "-m", "ovnctl", "run",
            "--kubeconfig", str(kubeconfig),
            "--identity", identity,
            "--lease-namespace", "default",
            *FAST_LEASE,
            "--probe-address", "127.0.0.1",
            "--health-port", str(self.port),
            "--metrics-port", str(self.port),
            "--log-format", "json",
            *extra,
        ]  # fmt: skip
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    @property
    def user_agent(self) -> str:
        from ovnctl import __version__

        return f"ovnctl/{__version__} ({self.identity})"

    @property
    def kopf_user_agent(self) -> str:
        """What the replica's Kopf (watching Subnets) sends as its User-Agent."""
        from ovnctl.k8s.kopf_subnets import kopf_user_agent

        return kopf_user_agent(self.identity)

    def probe(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=2) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError as exc:
            return 0, str(exc)

    async def wait_probe(self, path: str, *, text: str, within: float = 30.0) -> str:
        deadline = time.monotonic() + within
        while True:
            status, body = await asyncio.to_thread(self.probe, path)
            if status == 200 and text in body:
                return body
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.identity} exited {self.process.returncode}: {self.logs()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.identity} {path}: {status} {body!r}; {self.logs()}")
            await asyncio.sleep(0.1)

    def logs(self) -> str:
        return self.log_path.read_text()[-4000:]

    def stop(self, sig: int = signal.SIGTERM, *, within: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(within)
        finally:
            self._log.close()


@pytest.fixture
def sim_process() -> Iterator[SimProcess]:
    with SimProcess(manifests=CRDS) as sim:
        yield sim


@pytest.fixture
async def kube(sim_process: SimProcess) -> AsyncIterator[KubeApi]:
    api = connect(
        kubeconfig=str(sim_process.kubeconfig_path), max_concurrency=16, user_agent="e2e-test"
    )
    yield api
    api.close()


@pytest.fixture
def controllers(sim_process: SimProcess, tmp_path: Path) -> Iterator[Any]:
    started: list[ControllerProcess] = []

    def start(identity: str, *extra: str) -> ControllerProcess:
        proc = ControllerProcess(
            kubeconfig=sim_process.kubeconfig_path, identity=identity, log_dir=tmp_path, extra=extra
        )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.process.poll() is None:
            proc.stop(signal.SIGKILL)


async def retrying(call: Any, *, attempts: int = 20) -> Any:
    """Run an API call, retrying injected 5xx/429 faults (the test's own client sees them too)."""
    for attempt in range(attempts):
        try:
            return await call()
        except Transient:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.05)
    return None
