"""The node's Open_vSwitch database: chassis set-up, pod ports on br-int, ovn-installed.

Where it sits: :class:`~ovnctl.node.hostside.OvsHostSide` (the OVS
datapath's host side) calls it on the datapath thread; the daemon calls
:meth:`OpenVSwitch.configure_node` once at start. It talks to ``ovsdb-server``
through ovsdbapp's ``Open_vSwitch`` API (``ovsdbapp.schema.open_vswitch``),
never by running ``ovs-vsctl``: one long-lived connection with an in-memory
replica of four tables, transactions that wait until ``ovs-vswitchd`` applied
them (``next_cfg``/``cur_cfg``, as ``ovs-vsctl`` does), and row events to wait
for ``ovn-installed`` without polling.

What it writes, as Kube-OVN does (docs/node.md):

* ``Open_vSwitch`` ``external_ids``: ``system-id``, ``ovn-remote``,
  ``ovn-encap-type``, ``ovn-encap-ip``, ``ovn-bridge``,
  ``ovn-bridge-datapath-type`` (only the ones it is given);
* the integration bridge, created when missing, ``fail_mode=secure`` and the
  datapath type;
* one Port/Interface per pod NIC, named like the host end of its veth, with
  ``external_ids`` ``iface-id`` (the logical switch port), ``pod_name``,
  ``pod_namespace``, ``ip`` and ``vendor=ovnctl``.

All calls are blocking and are made from the daemon's single datapath thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ovsdbapp.backend.ovs_idl import connection as ovs_connection
from ovsdbapp.backend.ovs_idl import event as ovs_event
from ovsdbapp.backend.ovs_idl import idlutils
from ovsdbapp.schema.open_vswitch import impl_idl

__all__ = ["OVN_INSTALLED", "VENDOR", "ChassisSettings", "OpenVSwitch", "OvsDbError"]

log = logging.getLogger(__name__)

SCHEMA = "Open_vSwitch"
TABLES = ("Open_vSwitch", "Bridge", "Port", "Interface")
VENDOR = "ovnctl"
OVN_INSTALLED = "ovn-installed"


class OvsDbError(Exception):
    """The Open_vSwitch database is unreachable or refused a transaction."""


@dataclass(frozen=True, slots=True)
class ChassisSettings:
    """What ``ovnctl daemon`` writes for ovn-controller (None: leave as it is)."""

    system_id: str
    bridge: str = "br-int"
    ovn_remote: str | None = None
    encap_type: str | None = "geneve"
    encap_ip: str | None = None
    datapath_type: str | None = None
    """``system`` (kernel module) or ``netdev`` (userspace); None: OVS's default."""

    def external_ids(self) -> dict[str, str]:
        ids = {"system-id": self.system_id, "ovn-bridge": self.bridge}
        optional = {
            "ovn-remote": self.ovn_remote,
            "ovn-encap-type": self.encap_type,
            "ovn-encap-ip": self.encap_ip,
            "ovn-bridge-datapath-type": self.datapath_type,
        }
        ids.update({key: value for key, value in optional.items() if value})
        return ids


class _Idl(ovs_connection.OvsdbIdl):  # type: ignore[misc]
    """The OVS IDL handing every row change to ovsdbapp's event handler (for ovn-installed)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notify_handler = ovs_event.RowEventHandler()

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        self.notify_handler.notify(event, row, updates)


class _Installed(ovs_event.WaitEvent):  # type: ignore[misc]
    """Fires once the Interface ``name`` carries ``ovn-installed="true"``."""

    def __init__(self, name: str, timeout: float) -> None:
        super().__init__(
            (self.ROW_CREATE, self.ROW_UPDATE), "Interface", (("name", "=", name),), timeout=timeout
        )

    def match_fn(self, event: str, row: Any, old: Any) -> bool:
        return bool(row.external_ids.get(OVN_INSTALLED) == "true")


class OpenVSwitch:
    """One connection to the node's ``ovsdb-server`` (``unix:/run/openvswitch/db.sock``)."""

    def __init__(self, remote: str, *, timeout: float = 10.0) -> None:
        self.remote = remote
        self.timeout = timeout
        try:
            helper = idlutils.get_schema_helper(remote, SCHEMA)
        except Exception as exc:  # refused, missing socket, wrong schema
            raise OvsDbError(f"cannot reach the Open_vSwitch database at {remote}: {exc}") from exc
        for table in TABLES:
            helper.register_table(table)
        self._idl = _Idl(remote, helper)
        self._connection = ovs_connection.Connection(self._idl, timeout=int(timeout))
        # ovsdbapp keeps the connection on the API *class*: a class per client lets
        # several clients (a restarted agent, tests, benchmarks) live in one process.
        api_class = type("OvnctlOvsApi", (impl_idl.OvsdbIdl,), {"_ovsdb_connection": None})
        self.api: Any = api_class(self._connection, start=False)
        try:
            self.api.start_connection(self._connection)
        except Exception as exc:
            raise OvsDbError(f"cannot reach the Open_vSwitch database at {remote}: {exc}") from exc
        self._lock = threading.Lock()

    def close(self) -> None:
        self._connection.stop(self.timeout)
        self._idl.notify_handler.shutdown()

    # -- node set-up -------------------------------------------------------

    def configure_node(self, chassis: ChassisSettings) -> None:
        """Write the chassis' external_ids and make the integration bridge (idempotent)."""
        bridge = chassis.bridge
        with self._transaction(f"configure chassis {chassis.system_id}") as txn:
            txn.add(self.api.db_set("Open_vSwitch", ".", ("external_ids", chassis.external_ids())))
            txn.add(self.api.add_br(bridge, may_exist=True, datapath_type=chassis.datapath_type))
            txn.add(self.api.set_fail_mode(bridge, "secure"))

    def bridge_datapath_type(self, bridge: str) -> str:
        """The bridge's ``datapath_type`` (``""`` is OVS's default, the kernel's ``system``)."""
        return str(self._run(self.api.db_get("Bridge", bridge, "datapath_type")))

    def external_ids(self) -> dict[str, str]:
        """The ``Open_vSwitch`` row's external_ids (for CHECK and tests)."""
        return dict(self._run(self.api.db_get("Open_vSwitch", ".", "external_ids")))

    # -- pod ports ---------------------------------------------------------

    def add_port(self, *, bridge: str, name: str, external_ids: Mapping[str, str]) -> None:
        """Port and Interface ``name`` on ``bridge`` with ``external_ids``; replaces a stale one."""
        with self._transaction(f"add port {name} to {bridge}") as txn:
            # A port of that name on another bridge (a crashed ADD, a changed --bridge) goes.
            txn.add(self.api.del_port(name, if_exists=True))
            txn.add(self.api.add_port(bridge, name, may_exist=False))
            txn.add(self.api.db_set("Interface", name, ("external_ids", dict(external_ids))))

    def delete_port(self, name: str) -> None:
        """Remove the Port ``name`` wherever it is; a missing port is fine."""
        with self._transaction(f"delete port {name}") as txn:
            txn.add(self.api.del_port(name, if_exists=True))

    def port(self, name: str) -> tuple[str | None, dict[str, str]] | None:
        """``(bridge, Interface external_ids)`` of port ``name``, or None when absent."""
        rows = self._run(
            self.api.db_list("Interface", [name], columns=["external_ids"], if_exists=True)
        )
        if not rows:
            return None
        try:
            bridge: str | None = str(self._run(self.api.port_to_br(name)))
        except OvsDbError:  # an Interface without a Port on a bridge
            bridge = None
        return bridge, dict(rows[0]["external_ids"])

    def wait_installed(self, name: str, timeout: float) -> bool:
        """True once ovn-controller marks Interface ``name`` ``ovn-installed``, False on timeout."""
        waiter = _Installed(name, timeout)
        self._idl.notify_handler.watch_event(waiter)
        try:
            found = self.port(name)
            if found is not None and found[1].get(OVN_INSTALLED) == "true":
                return True
            return bool(waiter.wait())
        finally:
            self._idl.notify_handler.unwatch_event(waiter)

    # -- helpers -----------------------------------------------------------

    def _transaction(self, what: str) -> Any:
        return _Txn(self, what)

    def _run(self, command: Any) -> Any:
        try:
            return command.execute(check_error=True, log_errors=False)
        except Exception as exc:
            raise OvsDbError(f"Open_vSwitch database at {self.remote}: {exc}") from exc


class _Txn:
    """``with``: an ovsdbapp transaction whose failures become :class:`OvsDbError`."""

    def __init__(self, ovs: OpenVSwitch, what: str) -> None:
        self._ovs = ovs
        self._what = what
        self._txn: Any = None

    def __enter__(self) -> Any:
        self._txn = self._ovs.api.create_transaction(check_error=True, log_errors=False)
        return self._txn

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            return
        try:
            self._txn.commit()
        except Exception as error:
            raise OvsDbError(f"{self._what} in {self._ovs.remote}: {error}") from error
