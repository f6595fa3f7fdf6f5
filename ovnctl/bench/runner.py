"""The benchmark harness: three processes, as in a cluster, and what is measured of each.

* the API server: ``ovnctl sim serve`` in its own process
  (:class:`ovnctl.sim.SimProcess`), with ``latency_ms`` added to every request;
* the controller: ``ovnctl run --no-leader-elect`` in its own process
  (:class:`ControllerProcess`), observed only from outside: its ``/readyz``,
  its ``/metrics`` (queue depth, counters) and ``/proc/<pid>`` (CPU, RSS);
* the driver: this process, an aiohttp client (:class:`Driver`) with its own
  User-Agent, so its requests can be told apart from the controller's in the
  server's request log.

Server and controller CPU are therefore counted separately, and the driver's
own work (creating objects, watching) is charged to neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from pathlib import Path
from typing import Any, TextIO, TypeVar

import aiohttp
import click

from ovnctl.sim import SimProcess
from ovnctl.sim.requestlog import RequestLog

__all__ = [
    "DRIVER_AGENT",
    "PROFILE_DIR_ENV",
    "ControllerProcess",
    "DepthSampler",
    "Driver",
    "Progress",
    "controller_requests",
    "cpu_seconds",
    "crd_paths",
    "object_path",
    "percentile",
    "profiled",
    "rss_kib",
    "sim_process",
]

T = TypeVar("T")

DRIVER_AGENT = "bench-driver/1"
"""The driver's User-Agent; every other request in the log is the controller's."""

NAMESPACE = "default"
CREATE_CONCURRENCY = 32


def crd_paths() -> list[Path]:
    """kubeovn.io CRDs and the test CRDs (NADs, KubeVirt) of a source checkout."""
    root = Path(__file__).resolve().parents[2]
    found = sorted((root / "crds").glob("*.yaml")) + sorted((root / "crds" / "test").glob("*.yaml"))
    # kustomization.yaml lists the CRDs for kubectl -k; it is not an object to create.
    paths = [p for p in found if p.name != "kustomization.yaml"]
    if not paths:
        raise click.ClickException(f"no CRDs under {root / 'crds'}: run from a source checkout")
    return paths


@contextlib.contextmanager
def sim_process(*, latency_ms: float) -> Iterator[SimProcess]:
    """The API server in its own process, CRDs applied, ``latency_ms`` on every request."""
    with SimProcess(manifests=crd_paths(), latency_ms=latency_ms) as sim:
        yield sim


# -- numbers ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(q * len(ordered))))
    return float(ordered[rank - 1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (``/proc/<pid>/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_kib(pid: int) -> int:
    """Resident set size in KiB (``VmRSS`` of ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def controller_requests(log: RequestLog) -> dict[str, int]:
    """The controller's requests by verb (the driver's, by User-Agent, left out)."""
    if log.total > len(log.entries):
        raise RuntimeError(
            f"request log truncated ({len(log.entries)} of {log.total} kept): shrink the run"
        )
    counts: dict[str, int] = {}
    for entry in log.entries:
        if entry.user_agent == DRIVER_AGENT or not entry.resource:
            continue
        counts[entry.verb] = counts.get(entry.verb, 0) + 1
    return dict(sorted(counts.items()))


def controller_count(log: RequestLog, *, verb: str, resource: str) -> int:
    return sum(
        1
        for e in log.entries
        if e.user_agent != DRIVER_AGENT and e.verb == verb and e.resource == resource
    )


# -- progress -----------------------------------------------------------------------------------


class Progress:
    """One line per step on stderr, with the seconds since the run began."""

    def __init__(self, *, stream: TextIO | None = None, quiet: bool = False) -> None:
        self._t0 = time.monotonic()
        self._stream = stream
        self._quiet = quiet
        self.scenario = ""

    def __call__(self, message: str) -> None:
        if self._quiet:
            return
        elapsed = time.monotonic() - self._t0
        prefix = f"[{elapsed:7.1f}s] {self.scenario}: " if self.scenario else f"[{elapsed:7.1f}s] "
        click.echo(prefix + message, err=True, file=self._stream)


# -- the controller process ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ControllerProcess:
    """``ovnctl run --no-leader-elect`` as a child process, observed from outside.

    With ``leader_election`` the replica campaigns for the Lease instead (``extra``
    then names its ``--identity`` and timings): the chaos scenario runs two.

    ``nad_mode`` (one of :data:`ovnctl.bench.launch.MODES`) starts the same command
    through :mod:`ovnctl.bench.launch`, which changes how NADs are read and nothing else.
    """

    def __init__(
        self,
        *,
        kubeconfig: Path,
        log_dir: Path,
        name: str = "controller",
        extra: Iterable[str] = (),
        nad_mode: str | None = None,
        leader_election: bool = False,
    ) -> None:
        self.port = _free_port()
        self.log_path = log_dir / f"{name}.log"
        run_args = [
            "--kubeconfig", str(kubeconfig),
            *(() if leader_election else ("--no-leader-elect",)),
            "--probe-address", "127.0.0.1",
            "--health-port", str(self.port),
            "--metrics-port", str(self.port),
            "--log-format", "json",
            "--log-level", "warning",
            *extra,
        ]  # fmt: skip
        if nad_mode is None:
            self.args = [sys.executable, "-m", "ovnctl", "run", *run_args]
        else:
            self.args = [sys.executable, "-m", "ovnctl.bench.launch", nad_mode, *run_args]
        self._log = self.log_path.open("a")  # a restarted replica appends to its log
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            self.args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def _get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError as exc:
            return 0, str(exc)

    async def wait_ready(self, *, within: float = 300.0, interval: float = 0.02) -> float:
        """Poll ``/readyz`` until it says ``leading``; seconds since the process started."""
        deadline = time.monotonic() + within
        while True:
            status, body = await asyncio.to_thread(self._get, "/readyz")
            if status == 200 and "leading" in body:
                return time.perf_counter() - self.started
            if self.process.poll() is not None:
                raise RuntimeError(f"controller exited {self.process.returncode}: {self.logs()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"controller not ready after {within} s: {status} {body!r}")
            await asyncio.sleep(interval)

    async def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """The ``/metrics`` samples: ``(name, sorted labels) -> value``."""
        from prometheus_client.parser import text_string_to_metric_families

        status, text = await asyncio.to_thread(self._get, "/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}: {text[:200]}")
        samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples

    async def wait_settled(self, queues: Iterable[str], *, within: float = 300.0) -> float:
        """Wait until the queues are empty and nothing is held; seconds since start."""
        names = list(queues)
        deadline = time.monotonic() + within
        quiet = 0
        while True:
            samples = await self.metrics()
            busy = sum(
                samples.get((metric, (("name", q),)), 0.0)
                for q in names
                for metric in ("ovnctl_workqueue_depth", "ovnctl_workqueue_unfinished_work_seconds")
            )
            quiet = quiet + 1 if busy == 0 else 0
            if quiet >= 3:
                return time.perf_counter() - self.started
            if time.monotonic() > deadline:
                raise RuntimeError(f"queues {names} not settled after {within} s")
            await asyncio.sleep(0.05)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def rss_kib(self) -> int:
        return rss_kib(self.pid)

    def logs(self) -> str:
        return self.log_path.read_text()[-4000:]

    def stop(self, *, within: float = 30.0) -> int:
        try:
            if self.process.poll() is None:
                self.process.terminate()
            try:
                return self.process.wait(within)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait()
        finally:
            self._log.close()

    def __enter__(self) -> ControllerProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class DepthSampler:
    """Scrapes queue depths from ``/metrics`` every ``interval`` seconds, in a task."""

    def __init__(
        self, controller: ControllerProcess, *, queues: Sequence[str], interval: float = 0.1
    ) -> None:
        self._controller = controller
        self._queues = list(queues)
        self._interval = interval
        self.t0 = time.perf_counter()
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(RuntimeError, ValueError):
                metrics = await self._controller.metrics()
                depths = {
                    q: metrics.get(("ovnctl_workqueue_depth", (("name", q),)), 0.0)
                    for q in self._queues
                }
                self.samples.append((round(time.perf_counter() - self.t0, 3), depths))
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        self.t0 = time.perf_counter()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def series(self, queue: str) -> list[tuple[float, float]]:
        return [(t, d[queue]) for t, d in self.samples]

    def peak(self, queue: str) -> float:
        return max((d[queue] for _, d in self.samples), default=0.0)


# -- optional profile ---------------------------------------------------------------------------

PROFILE_DIR_ENV = "OVNCTL_BENCH_PROFILE_DIR"
"""When set, :func:`profiled` samples the controller with py-spy into this directory."""


@contextlib.contextmanager
def profiled(pid: int, name: str) -> Iterator[Path | None]:
    """A py-spy profile of process ``pid`` while the block runs, when asked for.

    Only with ``OVNCTL_BENCH_PROFILE_DIR`` set (a debugging aid, never on by default:
    the sampler takes CPU the measurement would count): ``py-spy record --gil --rate
    1000 --format raw`` (collapsed stacks, one line per stack, counting the thread
    that holds the GIL) written to ``<dir>/<name>.txt``, which is yielded.
    """
    directory = os.environ.get(PROFILE_DIR_ENV)
    if not directory:
        yield None
        return
    out = Path(directory) / f"{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    command = [str(spy) if spy.exists() else "py-spy", "record", "--gil", "--rate", "1000"]
    sampler = subprocess.Popen(
        [*command, "--format", "raw", "--pid", str(pid), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # py-spy attaches before the measured work starts
    try:
        yield out
    finally:
        sampler.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        try:
            sampler.wait(30)
        except subprocess.TimeoutExpired:
            sampler.kill()
            sampler.wait()


# -- the driver's client ----------------------------------------------------------------------


_PLURALS = {
    ("v1", "Pod"): ("/api/v1", "pods", True),
    ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition"): (
        "/apis/k8s.cni.cncf.io/v1",
        "network-attachment-definitions",
        True,
    ),
    ("kubeovn.io/v1", "Subnet"): ("/apis/kubeovn.io/v1", "subnets", False),
    ("kubeovn.io/v1", "IP"): ("/apis/kubeovn.io/v1", "ips", False),
    ("kubevirt.io/v1", "VirtualMachine"): ("/apis/kubevirt.io/v1", "virtualmachines", True),
    ("apps/v1", "StatefulSet"): ("/apis/apps/v1", "statefulsets", True),
}


def object_path(obj: Mapping[str, Any], *, named: bool = False) -> str:
    """The collection URL path of an object (or its own with ``named``)."""
    prefix, plural, namespaced = _PLURALS[(obj["apiVersion"], obj["kind"])]
    meta = obj["metadata"]
    path = (
        f"{prefix}/namespaces/{meta.get('namespace', NAMESPACE)}/{plural}"
        if namespaced
        else (f"{prefix}/{plural}")
    )
    return f"{path}/{meta['name']}" if named else path


class Driver:
    """The benchmark's own API client (aiohttp), with :data:`DRIVER_AGENT` as User-Agent."""

    def __init__(self, url: str, *, concurrency: int = CREATE_CONCURRENCY) -> None:
        self.url = url
        self.concurrency = concurrency
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Driver:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self.concurrency + 8),
            headers={"User-Agent": DRIVER_AGENT},
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use `async with Driver(...)`"
        return self._session

    async def request(
        self, method: str, path: str, *, body: Any = None, content_type: str | None = None
    ) -> Any:
        headers = {"Content-Type": content_type} if content_type else None
        data = json.dumps(body) if body is not None else None
        for attempt in range(5):
            async with self.session.request(
                method, self.url + path, data=data, headers=headers
            ) as response:
                if response.status in (429, 500, 503) and attempt < 4:
                    await asyncio.sleep(0.05 * (attempt + 1))
                    continue
                if response.status >= 300:
                    text = await response.text()
                    raise RuntimeError(f"{method} {path}: {response.status} {text[:300]}")
                return await response.json()
        raise AssertionError("unreachable")

    async def create(self, obj: Mapping[str, Any]) -> None:
        await self.request("POST", object_path(obj), body=obj, content_type="application/json")

    async def merge_patch(self, obj: Mapping[str, Any], body: Mapping[str, Any]) -> None:
        await self.request(
            "PATCH",
            object_path(obj, named=True),
            body=body,
            content_type="application/merge-patch+json",
        )

    async def delete(self, obj: Mapping[str, Any]) -> None:
        await self.request("DELETE", object_path(obj, named=True))

    async def list(self, path: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", path)
        return result

    async def each(
        self,
        items: Iterable[T],
        action: Callable[[T], Awaitable[None]],
        *,
        on_sent: Callable[[T], None] | None = None,
    ) -> None:
        """Run ``await action(item)`` over the items, ``concurrency`` at a time.

        ``on_sent(item)`` is called just before each action starts.
        """
        pending = iter(list(items))

        async def worker() -> None:
            for item in pending:
                if on_sent is not None:
                    on_sent(item)
                await action(item)

        await asyncio.gather(*(worker() for _ in range(self.concurrency)))

    async def create_all(
        self, objects: Iterable[Mapping[str, Any]], *, progress: Progress | None = None
    ) -> dict[str, float]:
        """Create the objects; the time each create was sent, by name."""
        sent: dict[str, float] = {}
        objects = list(objects)
        step = max(1, len(objects) // 5)

        def mark(obj: Mapping[str, Any]) -> None:
            sent[obj["metadata"]["name"]] = time.perf_counter()
            if progress is not None and len(sent) % step == 0:
                progress(f"  created {len(sent)}/{len(objects)} {obj['kind']}s")

        await self.each(objects, self.create, on_sent=mark)
        return sent

    async def resource_version(self, path: str) -> str:
        listed = await self.list(path + "?limit=1")
        return str(listed["metadata"]["resourceVersion"])

    async def watch(self, path: str, *, resource_version: str) -> AsyncIterator[dict[str, Any]]:
        """Watch events of a collection from a resourceVersion (until cancelled)."""
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        params = {"watch": "true", "resourceVersion": resource_version}
        async with self.session.get(self.url + path, params=params, timeout=timeout) as response:
            if response.status != 200:
                raise RuntimeError(f"watch {path}: {response.status}")
            async for line in response.content:
                if line.strip():
                    yield json.loads(line)
