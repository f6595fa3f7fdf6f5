"""The agent's unix socket: one CNI request in, one reply out, per connection.

Where it sits: between the plugin (:mod:`ovnctl.cni.protocol` on the other
end) and the agent's parts. ADD waits for the pod's allocation in
:class:`~ovnctl.node.allocations.PodAllocations` on the event loop (many ADDs
may wait at once without holding a thread), plans the interface
(:func:`~ovnctl.node.wiring.plan_wiring`) and hands it to the
:class:`~ovnctl.node.datapath.Datapath` on the single datapath thread. DEL and
CHECK go straight to the datapath: they need nothing from the API server.
Every failure leaves as a :class:`~ovnctl.cni.errors.CniError` reply.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, TypeVar

from ovnctl.cni.errors import CONTAINER_UNKNOWN, DATAPATH_FAILURE, CniError
from ovnctl.cni.protocol import Request, decode_request, encode_error, encode_ok
from ovnctl.node.allocations import PodAllocations
from ovnctl.node.datapath import Datapath, netns_path
from ovnctl.node.state import validate_container_id
from ovnctl.node.wiring import DEFAULT_MTU, LINUX_BRIDGE, plan_wiring

__all__ = ["NodeServer"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_MAX_REQUEST = 1 << 20


class NodeServer:
    """Serves plugin requests against the pod allocations and the datapath."""

    def __init__(
        self,
        *,
        allocations: PodAllocations,
        datapath: Datapath,
        executor: Executor,
        allocation_timeout: float = 30.0,
        default_mtu: int = DEFAULT_MTU,
        datapath_kind: str = LINUX_BRIDGE,
        integration_bridge: str = "br-int",
    ) -> None:
        self.datapath_kind = datapath_kind
        self.integration_bridge = integration_bridge
        self.allocations = allocations
        self.datapath = datapath
        self.executor = executor
        self.allocation_timeout = allocation_timeout
        self.default_mtu = default_mtu

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """One connection: read a request line, answer it, close."""
        try:
            line = await reader.readuntil(b"\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        started = time.monotonic()
        request: Request | None = None
        try:
            request = decode_request(line[:_MAX_REQUEST])
            wiring = await self.dispatch(request)
            reply = encode_ok(wiring)
            log.info("%r: ok in %.0f ms", request, (time.monotonic() - started) * 1000)
        except CniError as exc:
            reply = encode_error(exc)
            log.warning("%r: error %d: %s", request, exc.code, exc.msg)
        except Exception as exc:  # never leave the plugin without an answer
            log.exception("%r: internal error", request)
            reply = encode_error(CniError(DATAPATH_FAILURE, f"internal error: {exc}"))
        try:
            writer.write(reply)
            await writer.drain()
        except ConnectionError:
            pass  # the plugin gave up (its timeout); the work is done or rolled back
        finally:
            writer.close()

    async def dispatch(self, request: Request) -> dict[str, Any] | None:
        """Serve one request; the wiring for ADD, None for DEL and CHECK."""
        validate_container_id(request.container_id)
        if request.command == "DEL":
            await self._run(
                self.datapath.delete, container_id=request.container_id, ifname=request.ifname
            )
            return None
        if request.command == "CHECK":
            await self._run(
                self.datapath.check, container_id=request.container_id, ifname=request.ifname
            )
            return None
        path = netns_path(request.netns)
        if not os.path.exists(path):  # noqa: ASYNC240 (a stat on procfs/nsfs: instant)
            # Fail before waiting: a sandbox without a namespace will not get one.
            raise CniError(CONTAINER_UNKNOWN, f"network namespace {path} does not exist")
        allocation = await self.allocations.wait_allocation(
            namespace=request.pod_namespace,
            name=request.pod_name,
            provider=request.provider,
            timeout=self.allocation_timeout,
        )
        wiring = plan_wiring(
            request=request,
            allocation=allocation,
            default_mtu=self.default_mtu,
            datapath=self.datapath_kind,
            integration_bridge=self.integration_bridge,
        )
        return await self._run(self.datapath.add, wiring)

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: fn(*args, **kwargs))
