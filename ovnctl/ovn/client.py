"""The OVN Northbound client: ovsdbapp's blocking IDL behind an asyncio API.

Where it sits: built by the composition root from ``--ovn-nb`` and handed to
reconcilers as a :class:`~ovnctl.ovn.api.Northbound`. It owns three things:

* the ovsdbapp ``Connection`` (one thread, ovsdbapp's) that keeps an in-memory
  replica of the four NB tables ovnctl uses and runs transactions in order; the
  OVS IDL beneath it reconnects by itself (with backoff, following the Raft
  leader when given cluster members) and re-syncs the replica after a restart;
* a small thread pool in which callers wait for their transaction, so the
  event loop never blocks on the NB: a call costs the loop one future;
* the mapping of every ovsdbapp failure onto :mod:`ovnctl.ovn.errors`, so the
  work queue backs off on a down NB and a retried call finds whatever the
  interrupted one committed (every call is idempotent, decided inside its
  transaction by :mod:`ovnctl.ovn.commands`).

Calls fail fast with :class:`NorthboundUnavailable` while disconnected rather
than queueing behind a dead connection: the work queue is the place to wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ovsdbapp import exceptions as ovsdbapp_exceptions
from ovsdbapp.backend.ovs_idl import connection as ovs_connection
from ovsdbapp.backend.ovs_idl import idlutils
from ovsdbapp.schema.ovn_northbound import impl_idl

from ovnctl.ovn.api import Change, ConvergeReport, Drift
from ovnctl.ovn.commands import (
    LR,
    LRP,
    LS,
    LSP,
    ConvergePlan,
    ConvergeTally,
    NbCommand,
    Skip,
    Writer,
    count_managed,
    managed_ports,
)
from ovnctl.ovn.drift import EventIdl, drift_events
from ovnctl.ovn.errors import (
    ForeignObjectError,
    MissingSwitchError,
    NorthboundError,
    NorthboundTransactionError,
    NorthboundUnavailable,
)
from ovnctl.ovn.metrics import NoopNorthboundMetrics, NorthboundMetrics
from ovnctl.ovn.remote import parse_remotes
from ovnctl.ovn.specs import PortSpec, SwitchSpec
from ovnctl.ovn.tls import NbTls, check_remotes_and_tls

__all__ = ["OvnNorthbound"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

SCHEMA = "OVN_Northbound"
TABLES = (LS, LSP, LR, LRP)
"""The only tables replicated: ACLs, load balancers and the rest are not ovnctl's business."""


class OvnNorthbound:
    """A connection to one NB (or the members of a clustered NB) and the desired-state verbs.

    ``remote`` is the ``--ovn-nb`` value (validated here, :func:`parse_remotes`);
    ``tls`` the files its ``ssl:`` members need (checked and installed here).
    ``timeout`` bounds each transaction, from queueing to the server's answer;
    ``connect_timeout`` bounds one connection attempt (schema fetch and initial
    sync). ``max_backoff`` caps the IDL's reconnect backoff. ``batch_size`` is
    how many ports one converge transaction ensures. ``workers`` threads wait
    for transactions (the NB applies them one at a time anyway; a few let the
    next one queue while one commits).
    """

    def __init__(
        self,
        *,
        remote: str,
        tls: NbTls | None = None,
        timeout: float = 10.0,
        connect_timeout: float = 10.0,
        max_backoff: float = 8.0,
        probe_interval: float | None = None,
        batch_size: int = 500,
        workers: int = 4,
        metrics: NorthboundMetrics | None = None,
    ) -> None:
        if timeout <= 0 or connect_timeout <= 0 or max_backoff < 1 or batch_size < 1:
            raise ValueError("timeouts must be positive, max_backoff >= 1 s, batch_size >= 1")
        self.remotes = parse_remotes(remote)
        self.remote = ",".join(self.remotes)
        check_remotes_and_tls(self.remotes, tls)
        if tls is not None:
            tls.install()
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.max_backoff = max_backoff
        self.probe_interval = probe_interval
        self.batch_size = batch_size
        self._metrics = metrics if metrics is not None else NoopNorthboundMetrics()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ovn-nb")
        self._api: Any = None
        self._connector: asyncio.Task[None] | None = None
        self._closed = False
        self._last_managed: tuple[int, int] = (0, 0)
        self._drift_sink: Callable[[Drift], None] | None = None
        self._metrics.bind(managed=self._managed, connected=lambda: self.connected)

    # -- lifecycle ----------------------------------------------------------

    @property
    def enabled(self) -> bool:
        return True

    def describe(self) -> str:
        return f"OVN northbound at {self.remote}"

    @property
    def connected(self) -> bool:
        """Connected to an NB member and its contents replicated (readiness)."""
        api = self._api
        if api is None:
            return False
        idl = api.idl
        # The IDL keeps no public "connected" flag; its session and state are the truth
        # (a private field: pyproject.toml bounds ovs below its next major for it).
        return bool(idl._session.is_connected() and idl.state == idl.IDL_S_MONITORING)

    async def start(self) -> None:
        """Start connecting in the background; calls fail with NorthboundUnavailable until then."""
        if self._closed:
            raise RuntimeError("the northbound client was closed")
        if self._connector is None:
            self._connector = asyncio.create_task(self._connect_loop(), name="ovn-nb-connect")

    async def wait_connected(self, within: float) -> None:
        """Wait until :attr:`connected`; NorthboundUnavailable after ``within`` seconds."""
        deadline = time.monotonic() + within
        while not self.connected:
            if time.monotonic() >= deadline:
                raise NorthboundUnavailable(f"not connected to {self.remote} after {within} s")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        """Stop the connection thread and the waiting threads; idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._connector is not None:
            self._connector.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connector
        api, self._api = self._api, None
        if api is not None:
            loop = asyncio.get_running_loop()
            stopping = loop.run_in_executor(self._executor, api.ovsdb_connection.stop, self.timeout)
            # A connection thread stuck on a frozen NB must not hold shutdown
            # hostage: it is a daemon thread and dies with the process.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping, timeout=self.timeout + 1)
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _connect_loop(self) -> None:
        loop = asyncio.get_running_loop()
        delay = 0.25
        while self._api is None:
            try:
                api = await loop.run_in_executor(self._executor, self._connect_blocking)
            except Exception as exc:  # any failure: NB down, refused, wrong schema
                logger.warning(
                    "OVN NB %s: not connected (%s); retrying in %.1f s", self.remote, exc, delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
                continue
            if self._closed:
                await loop.run_in_executor(self._executor, api.ovsdb_connection.stop, 1.0)
                return
            self._api = api
            logger.info("OVN NB %s: connected", self.remote)

    def _connect_blocking(self) -> Any:
        # Fetching the schema from the server (rather than shipping a copy)
        # keeps ovnctl working across OVN upgrades that add columns.
        helper = idlutils.get_schema_helper(self.remote, SCHEMA)
        for table in TABLES:
            helper.register_table(table)
        idl = EventIdl(
            self.remote,
            helper,
            probe_interval=None if self.probe_interval is None else int(self.probe_interval * 1000),
        )
        with contextlib.suppress(AttributeError):  # private in python-ovs; tuning only
            idl._session.reconnect.set_backoff(250, int(self.max_backoff * 1000))
        if self._drift_sink is not None:
            idl.notify_handler.watch_events(drift_events(self._drift_sink))
        connection = ovs_connection.Connection(idl, timeout=self.connect_timeout)
        # ovsdbapp keeps the connection on the API *class*: a class per client
        # lets several clients (tests, benchmarks, two NBs) live in one process.
        api_class = type("OvnctlNbApi", (impl_idl.OvnNbApiIdlImpl,), {"_ovsdb_connection": None})
        try:
            api = api_class(connection, start=True)
        except Exception:
            idl.close()
            raise
        connection.timeout = self.timeout
        return api

    # -- the desired-state API ----------------------------------------------

    async def ensure_subnet(self, switch: SwitchSpec) -> Change:
        """Switch ``switch.name`` with ovnctl's ``other_config`` keys, linked to ``ovn-cluster``."""
        result = await self._transact("ensure_subnet", lambda w: w.ensure_switch(switch))
        return self._change(result)

    async def delete_subnet(self, name: str) -> Change:
        """Switch ``name`` (with its ports) and its router port, if ovnctl owns them."""
        return self._change(await self._transact("delete_subnet", lambda w: w.delete_switch(name)))

    async def ensure_port(self, port: PortSpec) -> Change:
        """Port ``port.name`` on ``port.switch``, addresses and port security; moved if needed."""
        return self._change(await self._transact("ensure_port", lambda w: w.ensure_port(port)))

    async def delete_port(self, name: str) -> Change:
        """Port ``name``, if ovnctl owns it; absent already is UNCHANGED."""
        return await self._transact("delete_port", lambda w: w.delete_port(name))

    async def converge(
        self, switches: Iterable[SwitchSpec], ports: Iterable[PortSpec]
    ) -> ConvergeReport:
        """Create, update and remove ovnctl's switches and ports until the NB matches.

        Transactions: a read-only round trip, one for the switches, one per
        ``batch_size`` ports, one for removals. Each is idempotent, so an
        interrupted pass is finished by the next one. Rows without
        ``external_ids:vendor=ovnctl`` are never changed.
        """
        plan = ConvergePlan(switches=_by_name(switches), ports=_by_name(ports))
        tallies: list[ConvergeTally] = []

        Step = Callable[[Writer, ConvergeTally], None]

        def phase(step: Step) -> Callable[[Writer], ConvergeTally]:
            def body(writer: Writer) -> ConvergeTally:
                tally = ConvergeTally()  # fresh per attempt: a re-run must not count twice
                step(writer, tally)
                return tally

            return body

        # A round trip first: the NB answers it only after sending this client
        # every update committed before it (by ovn-nbctl, another controller),
        # so the comparison below starts from a replica at least that fresh.
        await self._transact("converge", _ping)
        tallies.append(await self._transact("converge", phase(plan.ensure_switches)))
        for chunk in _chunks(sorted(plan.ports), self.batch_size):
            ensure_chunk = functools.partial(plan.ensure_ports, names=chunk)
            tallies.append(await self._transact("converge", phase(ensure_chunk)))
        tallies.append(await self._transact("converge", phase(plan.remove_stale)))
        return _report(tallies)

    def watch_drift(self, sink: Callable[[Drift], None]) -> None:
        """Report changes and deletions of ovnctl's rows to ``sink`` (call before :meth:`start`).

        ``sink`` runs on ovsdbapp's notify thread, once per changed row
        (see :mod:`ovnctl.ovn.drift`).
        """
        if self._api is not None:
            raise RuntimeError("watch_drift must be called before the client connects")
        self._drift_sink = sink

    async def repair(
        self, switches: Iterable[SwitchSpec], ports: Iterable[PortSpec]
    ) -> ConvergeReport:
        """Put back exactly these switches and ports as desired, in one transaction.

        The targeted half of :meth:`converge`: nothing is removed (stale rows
        are the interval pass's business), rows ovnctl does not own are left
        alone, and rows already as desired cost no write.
        """
        plan = ConvergePlan(switches=_by_name(switches), ports=_by_name(ports))
        if not plan.switches and not plan.ports:
            return ConvergeReport()

        def body(writer: Writer) -> ConvergeTally:
            tally = ConvergeTally()
            plan.ensure_switches(writer, tally)
            plan.ensure_ports(writer, tally, names=sorted(plan.ports))
            return tally

        return _report([await self._transact("repair", body)])

    async def ping(self) -> bool:
        """Health: one round trip through the connection thread to the NB; False on any failure."""
        if not self.connected:
            return False
        try:
            await self._transact("ping", _ping)
        except NorthboundError:
            return False
        return True

    # -- plumbing -------------------------------------------------------------

    @staticmethod
    def _change(result: Change | Skip) -> Change:
        # Strict (non-lenient) steps raise instead of skipping.
        assert isinstance(result, Change), result
        return result

    async def _transact(self, op: str, body: Callable[[Writer], T]) -> T:
        started = time.perf_counter()
        error: str | None = None
        try:
            api = self._api
            if api is None or not self.connected:
                raise NorthboundUnavailable(f"not connected to the OVN NB at {self.remote}")
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self._executor, self._commit, api, op, body)
            try:
                # ovsdbapp bounds queueing and commit by `timeout` each; this
                # backstop only guards against a wedged connection thread.
                return await asyncio.wait_for(future, timeout=self.timeout * 2 + 1)
            except TimeoutError:
                raise NorthboundUnavailable(
                    f"OVN NB {self.remote}: {op} got no answer in {self.timeout * 2 + 1:.0f} s"
                ) from None
        except ForeignObjectError:
            error = "foreign"
            raise
        except MissingSwitchError:
            error = "missing_switch"
            raise
        except NorthboundUnavailable:
            error = "unavailable"
            raise
        except NorthboundTransactionError:
            error = "refused"
            raise
        finally:
            self._metrics.transaction(op=op, seconds=time.perf_counter() - started, error=error)

    def _commit(self, api: Any, op: str, body: Callable[[Writer], T]) -> T:
        """On a waiting thread: queue one transaction and block until the NB answers."""
        command: NbCommand[T] = NbCommand(api, op, body)
        txn = api.create_transaction(check_error=True, log_errors=False)
        txn.add(command)
        try:
            txn.commit()
        except (ForeignObjectError, MissingSwitchError):
            raise
        except ovsdbapp_exceptions.TimeoutException as exc:
            raise NorthboundUnavailable(f"OVN NB {self.remote}: {op} timed out: {exc}") from exc
        except RuntimeError as exc:
            # ovsdbapp's two RuntimeErrors: its retry loop timed out (the NB
            # went away mid-transaction), or the NB answered with an error.
            if "timed out" in str(exc):
                raise NorthboundUnavailable(f"OVN NB {self.remote}: {op}: {exc}") from exc
            raise NorthboundTransactionError(f"OVN NB {self.remote}: {op}: {exc}") from exc
        except Exception as exc:
            logger.exception("OVN NB %s: %s failed unexpectedly", self.remote, op)
            raise NorthboundTransactionError(f"OVN NB {self.remote}: {op}: {exc!r}") from exc
        # The result is set by run_idl; ovsdbapp skips it only for an empty transaction.
        return command.result  # type: ignore[return-value]

    async def managed_ports(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """(name, switch, addresses) of the NIC ports ovnctl owns, read from the replica.

        For ``ovnctl ipam check --ovn-nb``: a read of the IDL's copy under its lock,
        no transaction. Raises NorthboundUnavailable when not connected.
        """
        api = self._api
        if api is None or not self.connected:
            raise NorthboundUnavailable(f"not connected to the OVN NB at {self.remote}")

        def read_locked() -> list[tuple[str, str, tuple[str, ...]]]:
            with api.ovsdb_connection.lock:
                return managed_ports(api)

        return await asyncio.get_running_loop().run_in_executor(self._executor, read_locked)

    def _managed(self) -> tuple[int, int]:
        # Called by a /metrics scrape on the event loop. ovsdbapp holds this lock while
        # it applies updates (briefly) and for a whole commit, server round trip
        # included: wait a moment at most (a stalled NB must not freeze every reconcile
        # and the Lease renewal), then report the last count.
        api = self._api
        if api is None:
            return (0, 0)
        lock = api.ovsdb_connection.lock
        if not lock.acquire(timeout=_SCRAPE_LOCK_WAIT):
            return self._last_managed
        try:
            self._last_managed = count_managed(api)
        finally:
            lock.release()
        return self._last_managed


_SCRAPE_LOCK_WAIT = 0.1
"""Seconds a /metrics scrape may wait for the NB connection lock before reporting the last count."""


def _ping(writer: Writer) -> None:
    # A read-only "select" makes the IDL send a real transaction (an empty one
    # never leaves the process), so the answer proves the NB is serving.
    writer.txn.add_op({"op": "select", "table": LR, "where": [], "columns": ["_uuid"]})


def _by_name(specs: Iterable[Any]) -> dict[str, Any]:
    by_name: dict[str, Any] = {}
    for spec in specs:
        other = by_name.setdefault(spec.name, spec)
        if other != spec:
            raise ValueError(f"two different desired specs named {spec.name!r}")
    return by_name


def _chunks(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _report(tallies: Iterable[ConvergeTally]) -> ConvergeReport:
    switches: dict[Change, list[str]] = {}
    ports: dict[Change, list[str]] = {}
    foreign: list[str] = []
    orphans: list[str] = []
    kept: list[str] = []
    count = 0
    for tally in tallies:
        count += 1
        for into, source in ((switches, tally.switches), (ports, tally.ports)):
            for change, names in source.items():
                into.setdefault(change, []).extend(names)
        foreign += tally.foreign
        orphans += tally.orphans
        kept += tally.kept

    def sorted_names(source: dict[Change, list[str]], change: Change) -> tuple[str, ...]:
        return tuple(sorted(source.get(change, ())))

    return ConvergeReport(
        switches_created=sorted_names(switches, Change.CREATED),
        switches_updated=sorted_names(switches, Change.UPDATED),
        switches_deleted=sorted_names(switches, Change.DELETED),
        ports_created=sorted_names(ports, Change.CREATED),
        ports_updated=sorted_names(ports, Change.UPDATED),
        ports_deleted=sorted_names(ports, Change.DELETED),
        foreign=tuple(sorted(set(foreign))),
        orphans=tuple(sorted(orphans)),
        kept=tuple(sorted(kept)),
        transactions=count,
    )
