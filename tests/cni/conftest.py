"""Fixtures for the plugin: a fake node daemon on a unix socket, and the real node fixtures.

The fake daemon answers every request with a canned reply and records what
the plugin sent, so configuration and environment handling is tested without
root; tests that drive the real agent reuse ``tests.node``'s fixtures.
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ovnctl.cni.plugin import main as plugin_main
from tests.node.conftest import node, sim

__all__ = ["FakeDaemon", "node", "run_plugin", "sim"]

WIRING = {
    "host": {"name": "ov0123456789a", "mac": "aa:bb:cc:dd:ee:01"},
    "container": {"name": "eth0", "mac": "00:00:00:aa:bb:cc", "sandbox": "/var/run/netns/x"},
    "ips": [{"address": "10.16.0.5/16", "gateway": "10.16.0.1"}],
    "routes": [{"dst": "0.0.0.0/0", "gw": "10.16.0.1"}],
}


class FakeDaemon:
    """A unix socket server answering each request line with ``reply``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.requests: list[dict[str, Any]] = []
        self.reply: dict[str, Any] = {"ok": True, "wiring": WIRING}
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(8)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while not data.endswith(b"\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.requests.append(json.loads(data))
                conn.sendall(json.dumps(self.reply).encode() + b"\n")

    def close(self) -> None:
        self._server.close()


@pytest.fixture
def fake_daemon() -> Iterator[FakeDaemon]:
    root = Path(tempfile.mkdtemp(prefix="ovc-"))
    daemon = FakeDaemon(root / "d.sock")
    try:
        yield daemon
    finally:
        daemon.close()
        shutil.rmtree(root, ignore_errors=True)


def run_plugin(
    environ: dict[str, str], conf: dict[str, Any] | bytes | None
) -> tuple[int, dict[str, Any] | None, str]:
    """Run the plugin in-process: (exit status, parsed stdout or None, raw stdout)."""
    raw = conf if isinstance(conf, bytes) else json.dumps(conf).encode() if conf else b""
    stdout = io.StringIO()
    status = plugin_main(environ=environ, stdin=io.BytesIO(raw), stdout=stdout)
    text = stdout.getvalue()
    return status, (json.loads(text) if text.strip() else None), text
