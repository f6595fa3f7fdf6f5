"""Starting the simulated API server: in-process (async or threaded) or as a subprocess.

Three ways, one surface (``url``, ``kubeconfig_path``, request log, knobs):

* :class:`SimServer`: an async context manager on the caller's event loop;
  the cheapest, for async tests that also inspect :attr:`SimServer.store`.
* :class:`ThreadedSimServer`: the same server on its own loop in a thread,
  for synchronous tests (the official ``kubernetes`` client, kubectl).
* :class:`SimProcess`: ``ovnctl sim serve`` in a child process, steered over
  its ``/_sim/`` admin endpoints, for benchmarks (so the server's CPU is not
  counted as the controller's) and for end-to-end runs.

Each writes a kubeconfig that points at the server, so any client (kubectl,
Kopf, the Python client) reaches it exactly as it would a real cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self, TypeVar

import aiohttp.web
import yaml

from ovnctl.sim.errors import ApiError
from ovnctl.sim.faults import Faults
from ovnctl.sim.requestlog import RequestLog
from ovnctl.sim.server import SimEmulator
from ovnctl.sim.store import Store
from ovnctl.sim.webhook_client import ServiceEndpoints

__all__ = ["SimProcess", "SimServer", "ThreadedSimServer", "load_manifests", "write_kubeconfig"]

T = TypeVar("T")
P = ParamSpec("P")


def write_kubeconfig(*, path: Path, url: str, namespace: str = "default") -> Path:
    """Write a kubeconfig whose current context points at ``url`` (plain HTTP, a dummy token)."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "ovnctl-sim", "cluster": {"server": url}}],
        "users": [{"name": "ovnctl-sim", "user": {"token": "ovnctl-sim"}}],
        "contexts": [
            {
                "name": "ovnctl-sim",
                "context": {"cluster": "ovnctl-sim", "user": "ovnctl-sim", "namespace": namespace},
            }
        ],
        "current-context": "ovnctl-sim",
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def _kubeconfig_place(
    given: Path | str | None,
) -> tuple[Path, tempfile.TemporaryDirectory[str] | None]:
    """Where a server writes its kubeconfig: ``given``, else in a new temporary directory.

    The directory is returned too, for the caller to clean up when the server stops.
    """
    if given is not None:
        return Path(given), None
    tempdir = tempfile.TemporaryDirectory(prefix="ovnctl-sim-")
    return Path(tempdir.name) / "kubeconfig", tempdir


def _is_kustomize_config(doc: dict[str, Any]) -> bool:
    return str(doc.get("apiVersion", "")).startswith("kustomize.config.k8s.io/")


def _manifest_docs(paths: Iterable[Path]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in paths:
        files = sorted(path.rglob("*.y*ml")) if path.is_dir() else [path]
        for file in files:
            for doc in yaml.safe_load_all(file.read_text()):
                # A kustomization.yaml beside the manifests configures kustomize; it is
                # not an API object (``--load crds/`` must not trip over one).
                if isinstance(doc, dict) and not _is_kustomize_config(doc):
                    items = doc.get("items") if str(doc.get("kind", "")).endswith("List") else None
                    docs.extend(items if isinstance(items, list) else [doc])
    return docs


def load_manifests(store: Store, paths: Iterable[Path]) -> int:
    """Create every object in the YAML files (or directories) given; CRDs first.

    Returns the number of objects created. Raises ``ValueError`` for a kind
    the server does not serve.
    """
    docs = _manifest_docs(paths)
    docs.sort(
        key=lambda d: (d.get("kind") != "CustomResourceDefinition", d.get("kind") != "Namespace")
    )
    for doc in docs:
        info = next(
            (
                i
                for i in store.registry.all()
                if i.api_version == doc.get("apiVersion") and i.kind == doc.get("kind")
            ),
            None,
        )
        if info is None:
            raise ValueError(f"no served resource for {doc.get('apiVersion')} {doc.get('kind')}")
        namespace = (
            (doc.get("metadata") or {}).get("namespace") or "default" if info.namespaced else None
        )
        try:
            store.create(info, namespace, doc)
        except ApiError as exc:
            name = (doc.get("metadata") or {}).get("name")
            raise ValueError(f"cannot create {doc.get('kind')} {name}: {exc.message}") from None
    return len(docs)


class SimServer:
    """The simulated API server on the current event loop (``async with``).

    >>> async with SimServer() as sim:            # doctest: +SKIP
    ...     kubeconfig = sim.kubeconfig_path       # for kubectl, Kopf, the Python client
    ...     sim.request_log.count(verb="get", resource="pods")
    """

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        kubeconfig_path: Path | str | None = None,
        latency_ms: float = 0.0,
        error_rate: float = 0.0,
        error_code: int = 500,
        retry_after_s: int = 1,
        errors_include_watch: bool = False,
        seed: int | None = None,
        history_limit: int = 10_000,
        bookmark_interval: float = 1.0,
        manifests: Iterable[Path | str] = (),
        service_endpoints: ServiceEndpoints | None = None,
        schema_checks: bool = True,
    ) -> None:
        self._port = port
        self._host = host
        self._kubeconfig_given = Path(kubeconfig_path) if kubeconfig_path is not None else None
        self._kubeconfig: Path | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._manifests = [Path(p) for p in manifests]
        self.emulator = SimEmulator(
            store=Store(history_limit=history_limit, seed=seed, schema_checks=schema_checks),
            faults=Faults(
                latency_ms=latency_ms,
                error_rate=error_rate,
                error_code=error_code,
                retry_after_s=retry_after_s,
                errors_include_watch=errors_include_watch,
                seed=seed,
            ),
            bookmark_interval=bookmark_interval,
        )
        for (namespace, name), (host, svc_port) in (service_endpoints or {}).items():
            self.emulator.webhooks.client.set_service_endpoint(namespace, name, host, svc_port)
        self._runner: aiohttp.web.ServerRunner | None = None
        self._url: str | None = None

    async def __aenter__(self) -> Self:
        load_manifests(self.emulator.store, self._manifests)
        await self.emulator.__aenter__()
        server = aiohttp.web.Server(self.emulator, access_log=None)
        self._runner = aiohttp.web.ServerRunner(server, shutdown_timeout=1.0, handle_signals=False)
        await self._runner.setup()
        site = aiohttp.web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        address = self._runner.addresses[0]
        port = int(address[1])
        self._url = f"http://{self._host}:{port}"
        self.emulator.server_address = f"{self._host}:{port}"
        self._kubeconfig, self._tempdir = _kubeconfig_place(self._kubeconfig_given)
        write_kubeconfig(path=self._kubeconfig, url=self._url)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # End the watch streams first: the runner waits for open handlers on cleanup.
        self.emulator.store.cut_watches()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.emulator.webhooks.close()
        await self.emulator.__aexit__(exc_type, exc, tb)
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        if self._url is None:
            raise RuntimeError("the server is not running")
        return self._url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def kubeconfig_path(self) -> Path:
        if self._kubeconfig is None:
            raise RuntimeError("the server is not running")
        return self._kubeconfig

    @property
    def store(self) -> Store:
        return self.emulator.store

    @property
    def request_log(self) -> RequestLog:
        return self.emulator.request_log

    @property
    def faults(self) -> Faults:
        return self.emulator.faults

    def configure(self, /, **knobs: Any) -> None:
        """Change fault knobs now (names as in :class:`~ovnctl.sim.faults.Faults`)."""
        self.emulator.faults.update(**knobs)

    def cut_watches(self) -> int:
        """End every open watch stream now; clients see a clean end and re-watch."""
        return self.emulator.store.cut_watches()

    def fail_next_watches(self, count: int = 1) -> None:
        """Answer the next ``count`` watch requests with a 410 Gone ERROR event."""
        self.emulator.faults.update(fail_next_watches=count)

    def compact(self) -> None:
        """Drop watch history and list snapshots: older resourceVersions now get 410."""
        self.emulator.store.compact()

    def reset_request_log(self) -> None:
        self.emulator.request_log.reset()

    def set_service_endpoint(self, namespace: str, name: str, host: str, port: int) -> None:
        """Send calls to webhooks of the Service ``namespace/name`` to ``host:port``."""
        self.emulator.webhooks.client.set_service_endpoint(namespace, name, host, port)

    def stats(self) -> dict[str, Any]:
        return self.emulator.stats()


def _on_loop(
    method: Callable[Concatenate[SimServer, P], T],
) -> Callable[Concatenate[ThreadedSimServer, P], T]:
    """``method`` of :class:`SimServer`, as a :class:`ThreadedSimServer` method run on its loop."""

    def on_loop(self: ThreadedSimServer, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.call(lambda server: method(server, *args, **kwargs))

    on_loop.__name__ = method.__name__
    on_loop.__doc__ = method.__doc__
    return on_loop


class ThreadedSimServer:
    """:class:`SimServer` on its own event loop in a daemon thread (``with``), for sync code.

    Reads of :attr:`request_log` are safe from any thread; anything that
    changes the server goes through :meth:`call`, which runs on its loop.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._server: SimServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._run, name="ovnctl-sim", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                async with SimServer(**self._kwargs) as server:
                    self._server = server
                    self._ready.set()
                    await self._stop.wait()
            except BaseException as exc:
                self._error = exc
                self._ready.set()

        asyncio.run(main())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout=30)

    @property
    def server(self) -> SimServer:
        if self._server is None:
            raise RuntimeError("the server is not running")
        return self._server

    def call(self, fn: Callable[[SimServer], T]) -> T:
        """Run ``fn(server)`` on the server's loop and return its result."""
        assert self._loop is not None

        async def run() -> T:
            return fn(self.server)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=30)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def kubeconfig_path(self) -> Path:
        return self.server.kubeconfig_path

    @property
    def request_log(self) -> RequestLog:
        return self.server.request_log

    @property
    def store(self) -> Store:
        """The live store; read it through :meth:`call` while clients are writing."""
        return self.server.store

    # The knobs run on the server's loop, with SimServer's signatures and docs.
    configure = _on_loop(SimServer.configure)
    cut_watches = _on_loop(SimServer.cut_watches)
    fail_next_watches = _on_loop(SimServer.fail_next_watches)
    compact = _on_loop(SimServer.compact)
    reset_request_log = _on_loop(SimServer.reset_request_log)
    set_service_endpoint = _on_loop(SimServer.set_service_endpoint)
    stats = _on_loop(SimServer.stats)


_URL_RE = re.compile(r"serving (http://\S+)")


class SimProcess:
    """``ovnctl sim serve`` in a child process (``with``), steered over ``/_sim/``.

    The request log is fetched on demand (:meth:`request_log` returns a copy).
    """

    def __init__(
        self,
        *,
        port: int = 0,
        kubeconfig_path: Path | str | None = None,
        latency_ms: float = 0.0,
        error_rate: float = 0.0,
        error_code: int = 500,
        seed: int | None = None,
        history_limit: int = 10_000,
        manifests: Iterable[Path | str] = (),
        service_endpoints: ServiceEndpoints | None = None,
        schema_checks: bool = True,
        extra_args: Iterable[str] = (),
        python: str = sys.executable,
        startup_timeout: float = 30.0,
    ) -> None:
        self.kubeconfig_path, self._tempdir = _kubeconfig_place(kubeconfig_path)
        args = [
            python, "-m", "ovnctl", "sim", "serve",
            "--port", str(port),
            "--kubeconfig", str(self.kubeconfig_path),
            "--latency-ms", str(latency_ms),
            "--error-rate", str(error_rate),
            "--error-code", str(error_code),
            "--history-limit", str(history_limit),
        ]  # fmt: skip
        if seed is not None:
            args += ["--seed", str(seed)]
        for manifest in manifests:
            args += ["--load", str(manifest)]
        for (namespace, name), (host, svc_port) in (service_endpoints or {}).items():
            args += ["--webhook-service", f"{namespace}/{name}={host}:{svc_port}"]
        if not schema_checks:
            args.append("--no-schema-checks")
        self.args = [*args, *extra_args]
        self._startup_timeout = startup_timeout
        self.process: subprocess.Popen[str] | None = None
        self._url: str | None = None

    def __enter__(self) -> Self:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=None, text=True, env=env
        )
        assert self.process.stdout is not None
        # The server prints its URL once it listens; the line is the readiness signal.
        found: list[str] = []

        def read_url() -> None:
            assert self.process is not None
            assert self.process.stdout is not None
            for line in self.process.stdout:
                match = _URL_RE.search(line)
                if match:
                    found.append(match[1])
                    break

        reader = threading.Thread(target=read_url, daemon=True)
        reader.start()
        reader.join(self._startup_timeout)
        if not found:
            self._stop()
            raise RuntimeError(f"ovnctl sim serve did not start: {' '.join(self.args)}")
        self._url = found[0]
        # Keep draining stdout so the child never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        return self

    def _drain(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            for _ in self.process.stdout:
                pass

    def _stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the server is not running")
        return self._url

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def _admin(self, method: str, op: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body or {}).encode() if method == "POST" else None
        request = urllib.request.Request(
            f"{self.url}/_sim/{op}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with contextlib.closing(urllib.request.urlopen(request, timeout=30)) as response:
            return json.loads(response.read())

    def request_log(self) -> RequestLog:
        """A copy of the server's request log as it is now."""
        return RequestLog.from_json(self._admin("GET", "requests"))

    def reset_request_log(self) -> None:
        self._admin("POST", "requests/reset")

    def configure(self, **knobs: Any) -> None:
        self._admin("POST", "faults", knobs)

    def cut_watches(self) -> int:
        return int(self._admin("POST", "cut-watches")["cut"])

    def fail_next_watches(self, count: int = 1) -> None:
        self.configure(fail_next_watches=count)

    def compact(self) -> None:
        self._admin("POST", "compact")

    def set_service_endpoint(self, namespace: str, name: str, host: str, port: int) -> None:
        self._admin(
            "POST",
            "service-endpoints",
            {"namespace": namespace, "name": name, "host": host, "port": port},
        )

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self._admin("GET", "stats")
        return result
