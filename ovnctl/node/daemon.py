"""Composition of the node agent: settings, the pod watch thread, the socket server.

Where it sits: ``ovnctl daemon`` (:mod:`ovnctl.node.command`) builds a
:class:`NodeDaemon` from flags and runs it until SIGTERM; tests and the
benchmark run the same thing on a thread with :class:`ThreadedNodeDaemon`.
Three execution contexts, on purpose: the pod watch blocks on HTTP in its own
thread, requests wait for allocations on the event loop, and netlink work runs
on one datapath thread so that operations on shared bridges never interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from ovnctl.cni.protocol import DEFAULT_SOCKET
from ovnctl.k8s.connection import load_configuration
from ovnctl.k8s.nodepods import NodePod, NodePodWatcher
from ovnctl.node.allocations import PodAllocations, keep_annotation
from ovnctl.node.datapath import Datapath
from ovnctl.node.hostside import OvsHostSide
from ovnctl.node.ovsdb import ChassisSettings, OpenVSwitch, OvsDbError
from ovnctl.node.server import NodeServer
from ovnctl.node.state import DEFAULT_STATE_DIR, StateStore
from ovnctl.node.wiring import DEFAULT_MTU, LINUX_BRIDGE, OVS

__all__ = [
    "DEFAULT_OVS_DB",
    "DaemonSettings",
    "NodeDaemon",
    "NodeSetupError",
    "ThreadedNodeDaemon",
]

DEFAULT_OVS_DB = "unix:/run/openvswitch/db.sock"
AUTO = "auto"

log = logging.getLogger(__name__)


class NodeSetupError(Exception):
    """The agent cannot start on this node (the Open_vSwitch database, the chassis)."""


@dataclass(frozen=True, slots=True)
class DaemonSettings:
    """Everything ``ovnctl daemon`` is told on its command line."""

    node_name: str
    socket_path: Path = Path(DEFAULT_SOCKET)
    state_dir: Path = DEFAULT_STATE_DIR
    allocation_timeout: float = 30.0
    """Seconds an ADD waits for ``P.kubernetes.io/allocated: "true"``."""
    default_mtu: int = DEFAULT_MTU
    kubeconfig: str | None = None
    min_watch_timeout_s: float = 300.0
    """Each pod WATCH asks for a timeout drawn in [this, twice this) (client-go's jitter)."""
    datapath: str = AUTO
    """``ovs``, ``linux-bridge``, or ``auto``: OVS when its database socket exists."""
    ovs_db: str = DEFAULT_OVS_DB
    bridge: str = "br-int"
    configure_node: bool = True
    """Write the chassis settings and create the bridge at start (OVS only)."""
    system_id: str | None = None
    """The chassis name; None: the node name."""
    ovn_remote: str | None = None
    encap_type: str | None = "geneve"
    encap_ip: str | None = None
    datapath_type: str | None = None
    install_timeout: float = 10.0
    """Seconds an ADD waits for ovn-controller's ``ovn-installed`` on the interface."""

    def resolved_datapath(self) -> str:
        """The datapath ``auto`` stands for on this node."""
        if self.datapath != AUTO:
            return self.datapath
        method, _, path = self.ovs_db.partition(":")
        if method != "unix" or os.path.exists(path):
            return OVS
        return LINUX_BRIDGE

    def chassis(self) -> ChassisSettings:
        return ChassisSettings(
            system_id=self.system_id or self.node_name,
            bridge=self.bridge,
            ovn_remote=self.ovn_remote,
            encap_type=self.encap_type,
            encap_ip=self.encap_ip,
            datapath_type=self.datapath_type,
        )


class NodeDaemon:
    """The agent on the current event loop: :meth:`run` until ``stop`` is set."""

    def __init__(self, settings: DaemonSettings) -> None:
        self.settings = settings
        self.allocations: PodAllocations | None = None
        self.datapath = Datapath(state=StateStore(directory=settings.state_dir))
        self.datapath_kind = settings.resolved_datapath()
        self.ovs: OpenVSwitch | None = None
        self.watcher: NodePodWatcher | None = None
        self.ready = threading.Event()
        """Set once the socket listens and the first LIST of pods is in."""

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        allocations = self.allocations = PodAllocations()

        def on_snapshot(pods: list[NodePod]) -> None:
            snapshot = [(p.namespace, p.name, p.annotations) for p in pods]
            loop.call_soon_threadsafe(allocations.replace_all, snapshot)

        def on_event(kind: str, pod: NodePod) -> None:
            if kind == "DELETED":
                loop.call_soon_threadsafe(
                    lambda: allocations.remove(namespace=pod.namespace, name=pod.name)
                )
            else:
                loop.call_soon_threadsafe(
                    lambda: allocations.upsert(
                        namespace=pod.namespace, name=pod.name, annotations=pod.annotations
                    )
                )

        watcher = self.watcher = NodePodWatcher(
            configuration=load_configuration(kubeconfig=self.settings.kubeconfig),
            node_name=self.settings.node_name,
            on_snapshot=on_snapshot,
            on_event=on_event,
            keep_annotation=keep_annotation,
            min_watch_timeout_s=self.settings.min_watch_timeout_s,
        )
        watch_thread = threading.Thread(target=watcher.run, name="ovnctl-podwatch", daemon=True)
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ovnctl-datapath")
        if self.datapath_kind == OVS:
            try:
                await loop.run_in_executor(executor, self._setup_ovs)
            except BaseException:
                executor.shutdown(wait=False)
                raise
        server = NodeServer(
            allocations=allocations,
            datapath=self.datapath,
            executor=executor,
            allocation_timeout=self.settings.allocation_timeout,
            default_mtu=self.settings.default_mtu,
            datapath_kind=self.datapath_kind,
            integration_bridge=self.settings.bridge,
        )
        path = self.settings.socket_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)  # a previous agent's socket: nobody listens there now
        unix_server = await asyncio.start_unix_server(server.handle, path=str(path))
        os.chmod(path, 0o600)  # only root (the runtime's plugin) may ask for interfaces
        watch_thread.start()
        log.info(
            "ovnctl daemon for node %s listening on %s (datapath %s)",
            self.settings.node_name,
            path,
            self.datapath_kind,
        )
        try:
            synced = asyncio.ensure_future(allocations.synced.wait())
            await asyncio.wait(
                [synced, asyncio.ensure_future(stop.wait())],
                return_when=asyncio.FIRST_COMPLETED,
            )
            if synced.done():
                self.ready.set()
            await stop.wait()
        finally:
            unix_server.close()
            await unix_server.wait_closed()
            watcher.stop()
            await asyncio.to_thread(watch_thread.join, 5)
            executor.shutdown(wait=True)
            path.unlink(missing_ok=True)
            if self.ovs is not None:
                await asyncio.to_thread(self.ovs.close)

    def _setup_ovs(self) -> None:
        """Connect to the Open_vSwitch DB, configure the chassis, plug the OVS host side."""
        settings = self.settings
        try:
            ovs = OpenVSwitch(settings.ovs_db)
        except OvsDbError as exc:
            raise NodeSetupError(
                f"--datapath ovs: {exc} (is ovsdb-server running? --ovs-db names its socket; "
                "nodes without Open vSwitch use --datapath linux-bridge)"
            ) from None
        self.ovs = ovs
        if settings.configure_node:
            chassis = settings.chassis()
            try:
                ovs.configure_node(chassis)
            except OvsDbError as exc:
                raise NodeSetupError(f"configuring chassis {chassis.system_id}: {exc}") from None
            log.info("chassis %s configured: %s", chassis.system_id, chassis.external_ids())
        try:
            kind = ovs.bridge_datapath_type(settings.bridge)
        except OvsDbError as exc:
            raise NodeSetupError(
                f"bridge {settings.bridge}: {exc} (create it, or let the agent: --configure-node)"
            ) from None
        self.datapath.host_side = OvsHostSide(
            ovs, install_timeout=settings.install_timeout, userspace=kind == "netdev"
        )
        log.info("bridge %s, datapath type %s", settings.bridge, kind or "system")


class ThreadedNodeDaemon:
    """:class:`NodeDaemon` on its own event loop in a thread (``with``): tests, benchmarks."""

    def __init__(self, settings: DaemonSettings, *, start_timeout: float = 10.0) -> None:
        self.daemon = NodeDaemon(settings)
        self._start_timeout = start_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> Self:
        started = threading.Event()

        def main() -> None:
            async def body() -> None:
                self._loop = asyncio.get_running_loop()
                self._stop = asyncio.Event()
                started.set()
                await self.daemon.run(self._stop)

            try:
                asyncio.run(body())
            except BaseException as exc:
                self._error = exc
                started.set()
                self.daemon.ready.set()

        self._thread = threading.Thread(target=main, name="ovnctl-daemon", daemon=True)
        self._thread.start()
        started.wait(self._start_timeout)
        if not self.daemon.ready.wait(self._start_timeout) or self._error is not None:
            self.__exit__(None, None, None)
            raise RuntimeError(f"ovnctl daemon did not start: {self._error!r}")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            stop = self._stop
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    @property
    def allocations(self) -> PodAllocations:
        if self.daemon.allocations is None:
            raise RuntimeError("the daemon is not running")
        return self.daemon.allocations
