"""Desired state → NB rows, decided inside the transaction on ovsdbapp's connection thread.

Where it sits: :class:`~ovnctl.ovn.client.OvnNorthbound` wraps each public call
in one ovsdbapp transaction holding one :class:`NbCommand`; the command's
``run_idl`` compares the IDL's replica of the NB with a spec and writes only
the differences. Deciding *inside* the transaction (not from a read made
earlier on another thread) is what makes every call idempotent and safe to
retry: ovsdbapp re-runs ``run_idl`` on a fresh replica when the server answers
"try again", and a retry after a lost reply finds what the first attempt
committed. ovnctl reads and writes only its own rows (``external_ids:vendor``)
and only the columns and keys it manages, so other writers' data survives.

Everything here runs with the connection's lock held, on its thread: no
asyncio, no blocking, no I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ovnctl.ovn.api import Change
from ovnctl.ovn.errors import ForeignObjectError, MissingSwitchError
from ovnctl.ovn.specs import (
    CLUSTER_ROUTER,
    KEY_LOGICAL_SWITCH,
    KEY_VENDOR,
    VENDOR,
    PortSpec,
    SwitchSpec,
    router_port_name,
)

__all__ = [
    "LR",
    "LRP",
    "LS",
    "LSP",
    "ConvergePlan",
    "ConvergeTally",
    "NbCommand",
    "Skip",
    "Writer",
    "count_managed",
    "is_owned",
    "managed_ports",
    "read",
]

LS = "Logical_Switch"
LSP = "Logical_Switch_Port"
LR = "Logical_Router"
LRP = "Logical_Router_Port"

_OWNED = {KEY_VENDOR: VENDOR}

# IDL rows (ovs.db.idl.Row) are untyped; the alias documents what is passed.
Row = Any
T = TypeVar("T")


class Skip(enum.Enum):
    """Why a lenient (converge) step wrote nothing."""

    FOREIGN = "foreign"
    ORPHAN = "orphan"  # the port's switch neither exists nor was created in this pass


def read(row: Row, column: str) -> Any:
    """A column's value, fast when this transaction has not touched it.

    python-ovs rebuilds and re-validates a whole set or map column on every
    attribute read made inside a transaction (a 1,000-port switch's ``ports``
    costs milliseconds, each time). For a column the transaction has not
    changed, the committed datum is the value: convert it once, directly.

    python-ovs offers no public accessor for that datum, so this reads its
    private ``Row._data``, ``_changes``, ``_mutations`` and ``_uuid_to_row``;
    ``pyproject.toml`` bounds ``ovs`` below its next major release for it.
    """
    data = row._data
    untouched = data is not None and column not in row._changes
    if untouched and not any(column in pending for pending in row._mutations.values()):
        datum = data.get(column)
        if datum is not None:
            return datum.to_python(row._uuid_to_row)
    return getattr(row, column)


def is_owned(row: Row) -> bool:
    """True for rows ovnctl created (``external_ids:vendor=ovnctl``)."""
    return bool(read(row, "external_ids").get(KEY_VENDOR) == VENDOR)


def _is_router_peer(row: Row) -> bool:
    return bool(read(row, "type") == "router")


class NbCommand(Generic[T]):
    """An ovsdbapp command (duck-typed: ``run_idl``, ``post_commit``, ``result``).

    Not a subclass of ovsdbapp's ``BaseCommand``: ovsdbapp is untyped, and the
    transaction only ever calls these three members.
    """

    def __init__(self, api: Any, label: str, body: Callable[[Writer], T]) -> None:
        self.api = api
        self.label = label
        self._body = body
        self.result: T | None = None

    def run_idl(self, txn: Any) -> None:
        # A fresh Writer per attempt: on TRY_AGAIN ovsdbapp re-runs this with a
        # new idl.Transaction, and rows inserted by the abandoned one are gone.
        self.result = self._body(Writer(self.api, txn))

    def post_commit(self, txn: Any) -> None:
        pass

    def __str__(self) -> str:
        return f"NbCommand({self.label})"


class Writer:
    """One transaction's view: lookups that see rows inserted earlier in it, and the verbs."""

    def __init__(self, api: Any, txn: Any) -> None:
        self.api = api
        self.txn = txn
        # The IDL's name indexes do not see rows inserted in this transaction,
        # so rows this transaction created are remembered here.
        self._created: dict[tuple[str, str], Row] = {}
        self._loaded: dict[str, dict[str, Row]] = {}
        self._router: Row | None = None

    # -- lookups ----------------------------------------------------------

    def find(self, table: str, name: str) -> Row | None:
        """The row named ``name``: created in this transaction, else from the replica."""
        row = self._created.get((table, name))
        if row is not None:
            return row
        loaded = self._loaded.get(table)
        if loaded is not None:
            return loaded.get(name)
        return self.api.lookup(table, name, default=None)

    def preload(self, *tables: str) -> None:
        """Index ``tables`` by name once, for a step that finds many rows (converge).

        One pass over a table beats an index lookup per name by a wide margin
        in python-ovs. Only for steps that look up but do not delete rows.
        """
        for table in tables:
            rows = self.api.tables[table].rows.values()
            self._loaded[table] = {read(row, "name"): row for row in rows}

    def _insert(self, table: str, name: str, **columns: Any) -> Row:
        row = self.txn.insert(self.api.tables[table])
        row.name = name
        for column, value in columns.items():
            setattr(row, column, value)
        self._created[(table, name)] = row
        return row

    def router(self) -> Row:
        """The cluster router, created (and owned) if missing; adopted as-is if foreign."""
        if self._router is None:
            row = self.find(LR, CLUSTER_ROUTER)
            if row is None:
                row = self._insert(LR, CLUSTER_ROUTER, external_ids=dict(_OWNED))
            self._router = row
        return self._router

    # -- switches ---------------------------------------------------------

    def ensure_switch(self, spec: SwitchSpec, *, lenient: bool = False) -> Change | Skip:
        """Switch + router port + peer switch port, exactly as ``spec`` says."""
        ls = self.find(LS, spec.name)
        lrp = self.find(LRP, spec.router_port)
        peer = self.find(LSP, spec.switch_port)
        parts = ((LS, spec.name, ls), (LRP, spec.router_port, lrp), (LSP, spec.switch_port, peer))
        for table, name, row in parts:
            if row is not None and not is_owned(row):
                if lenient:
                    return Skip.FOREIGN
                raise ForeignObjectError(table=table, name=name)

        created = ls is None
        changed = False
        if ls is None:
            ls = self._insert(
                LS, spec.name, other_config=dict(spec.other_config), external_ids=dict(_OWNED)
            )
        else:
            changed |= _merge_keys(ls, "other_config", spec.other_config, drop=("exclude_ips",))

        networks = list(spec.router_networks)
        if lrp is None:
            lrp = self._insert(
                LRP,
                spec.router_port,
                mac=spec.router_mac,
                networks=networks,
                external_ids={**_OWNED, KEY_LOGICAL_SWITCH: spec.name},
            )
            self.router().addvalue("ports", lrp)
            changed = True
        else:
            if read(lrp, "mac") != spec.router_mac:
                lrp.mac = spec.router_mac
                changed = True
            if sorted(read(lrp, "networks")) != sorted(networks):
                lrp.networks = networks
                changed = True

        options = {"router-port": spec.router_port}
        if peer is None:
            peer = self._insert(
                LSP,
                spec.switch_port,
                type="router",
                addresses=["router"],
                options=options,
                external_ids={**_OWNED, KEY_LOGICAL_SWITCH: spec.name},
            )
            ls.addvalue("ports", peer)
            changed = True
        else:
            if read(peer, "type") != "router" or read(peer, "addresses") != ["router"]:
                peer.type = "router"
                peer.addresses = ["router"]
                changed = True
            changed |= _merge_keys(peer, "options", options)

        if created:
            return Change.CREATED
        return Change.UPDATED if changed else Change.UNCHANGED

    def delete_switch(self, name: str, *, lenient: bool = False) -> Change | Skip:
        """Remove ovnctl's switch ``name``, its ports and its router port."""
        ls = self.find(LS, name)
        if ls is not None and not is_owned(ls):
            if lenient:
                return Skip.FOREIGN
            raise ForeignObjectError(table=LS, name=name)
        change = Change.UNCHANGED
        lrp = self.find(LRP, router_port_name(name))
        if lrp is not None and is_owned(lrp):
            router = self.find(LR, CLUSTER_ROUTER)
            if router is not None:
                router.delvalue("ports", lrp)
            lrp.delete()
            change = Change.DELETED
        if ls is not None:
            # Switch ports are not root rows: the NB drops them with the switch.
            ls.delete()
            change = Change.DELETED
        return change

    # -- ports ------------------------------------------------------------

    def ensure_port(
        self, spec: PortSpec, *, lenient: bool = False, parent: Row | None = None
    ) -> Change | Skip:
        """The logical switch port ``spec.name`` on ``spec.switch``, exactly as ``spec`` says.

        ``parent`` is the port's current switch when the caller already knows
        it (converge); else the port's ``external_ids:ls`` is trusted, since
        ovnctl writes it in the same transaction that attaches the port.
        """
        ls = self.find(LS, spec.switch)
        if ls is None or not is_owned(ls):
            if lenient:
                return Skip.ORPHAN if ls is None else Skip.FOREIGN
            if ls is None:
                raise MissingSwitchError(f"logical switch {spec.switch!r} does not exist")
            raise ForeignObjectError(table=LS, name=spec.switch)
        lsp = self.find(LSP, spec.name)
        addresses = [spec.addresses]
        if lsp is None:
            lsp = self._insert(
                LSP,
                spec.name,
                addresses=addresses,
                port_security=addresses,
                external_ids=dict(spec.external_ids),
            )
            ls.addvalue("ports", lsp)
            return Change.CREATED
        if not is_owned(lsp):
            if lenient:
                return Skip.FOREIGN
            raise ForeignObjectError(table=LSP, name=spec.name)

        changed = False
        if parent is None:
            parent = self.find(LS, read(lsp, "external_ids").get(KEY_LOGICAL_SWITCH, ""))
        if parent is None or parent.uuid != ls.uuid:
            # The subnet of the NIC changed: move the row, keeping its uuid.
            if parent is not None:
                parent.delvalue("ports", lsp)
            ls.addvalue("ports", lsp)
            changed = True
        if read(lsp, "addresses") != addresses:
            lsp.addresses = addresses
            changed = True
        if read(lsp, "port_security") != addresses:
            lsp.port_security = addresses
            changed = True
        if read(lsp, "type") != "":
            lsp.type = ""
            changed = True
        changed |= _merge_keys(lsp, "external_ids", spec.external_ids)
        return Change.UPDATED if changed else Change.UNCHANGED

    def delete_port(self, name: str, *, parent: Row | None = None) -> Change:
        """Remove ovnctl's logical switch port ``name`` (foreign: ForeignObjectError)."""
        lsp = self.find(LSP, name)
        if lsp is None:
            return Change.UNCHANGED
        if not is_owned(lsp):
            raise ForeignObjectError(table=LSP, name=name)
        if parent is None:
            parent = self._parent_of(lsp)
        if parent is not None:
            parent.delvalue("ports", lsp)
        lsp.delete()
        return Change.DELETED

    def _parent_of(self, lsp: Row) -> Row | None:
        hinted = self.find(LS, read(lsp, "external_ids").get(KEY_LOGICAL_SWITCH, ""))
        if hinted is not None and any(p.uuid == lsp.uuid for p in read(hinted, "ports")):
            return hinted
        # Moved by hand or an older row: search every switch (rare path).
        for ls in self.api.tables[LS].rows.values():
            if any(p.uuid == lsp.uuid for p in read(ls, "ports")):
                return ls
        return None


def _merge_keys(
    row: Row, column: str, desired: Mapping[str, str], *, drop: Iterable[str] = ()
) -> bool:
    """Set ovnctl's keys of a map column, leave everyone else's; True if anything changed."""
    current = read(row, column)
    changed = False
    for key, value in desired.items():
        if current.get(key) != value:
            row.setkey(column, key, value)
            changed = True
    for key in drop:
        if key not in desired and key in current:
            row.delkey(column, key)
            changed = True
    return changed


# -- convergence ------------------------------------------------------------


@dataclass(slots=True)
class ConvergeTally:
    """Names by outcome, filled by the converge steps (mutable: built on the connection thread)."""

    switches: dict[Change, list[str]] = field(default_factory=dict)
    ports: dict[Change, list[str]] = field(default_factory=dict)
    foreign: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def switch(self, name: str, outcome: Change | Skip) -> None:
        self._record(self.switches, name, outcome)

    def port(self, name: str, outcome: Change | Skip) -> None:
        self._record(self.ports, name, outcome)

    def _record(self, into: dict[Change, list[str]], name: str, outcome: Change | Skip) -> None:
        if outcome is Skip.FOREIGN:
            self.foreign.append(name)
        elif outcome is Skip.ORPHAN:
            self.orphans.append(name)
        elif outcome is not Change.UNCHANGED:
            into.setdefault(outcome, []).append(name)


@dataclass(frozen=True, slots=True)
class ConvergePlan:
    """The desired state of one convergence pass, by name."""

    switches: Mapping[str, SwitchSpec]
    ports: Mapping[str, PortSpec]

    def ensure_switches(self, writer: Writer, tally: ConvergeTally) -> None:
        """Phase 1: every desired switch (and the router) exists as desired."""
        for name, spec in self.switches.items():
            tally.switch(name, writer.ensure_switch(spec, lenient=True))

    def ensure_ports(self, writer: Writer, tally: ConvergeTally, names: Iterable[str]) -> None:
        """Phase 2 (batched by the caller): the desired ports ``names`` exist as desired."""
        parents = _port_parents(writer.api)
        writer.preload(LS, LSP)
        for name in names:
            spec = self.ports[name]
            lsp = writer.find(LSP, name)
            parent = parents.get(lsp.uuid) if lsp is not None else None
            tally.port(name, writer.ensure_port(spec, lenient=True, parent=parent))

    def remove_stale(self, writer: Writer, tally: ConvergeTally) -> None:
        """Phase 3: ovnctl's ports, switches and router ports that nothing wants go."""
        api = writer.api
        parents = _port_parents(api)
        kept: set[str] = set()
        for ls in list(api.tables[LS].rows.values()):
            if not is_owned(ls) or ls.name in self.switches:
                continue
            foreign = [p for p in read(ls, "ports") if not is_owned(p)]
            if foreign:
                kept.add(ls.name)
                tally.kept.append(ls.name)
        for lsp in list(api.tables[LSP].rows.values()):
            # Router peer ports are part of their switch: they stay with a
            # desired or kept switch and go with a deleted one.
            if not is_owned(lsp) or lsp.name in self.ports or _is_router_peer(lsp):
                continue
            tally.port(lsp.name, writer.delete_port(lsp.name, parent=parents.get(lsp.uuid)))
        for ls in list(api.tables[LS].rows.values()):
            if is_owned(ls) and ls.name not in self.switches and ls.name not in kept:
                tally.switch(ls.name, writer.delete_switch(ls.name))
        router = writer.find(LR, CLUSTER_ROUTER)
        for lrp in list(api.tables[LRP].rows.values()):
            switch = read(lrp, "external_ids").get(KEY_LOGICAL_SWITCH, "")
            if is_owned(lrp) and switch not in self.switches and switch not in kept:
                if router is not None:
                    router.delvalue("ports", lrp)
                lrp.delete()


def _port_parents(api: Any) -> dict[Any, Row]:
    """Port uuid → its switch, from one pass over the switches."""
    return {port.uuid: ls for ls in api.tables[LS].rows.values() for port in read(ls, "ports")}


def count_managed(api: Any) -> tuple[int, int]:
    """(switches, NIC ports) ovnctl owns in the replica; router peer ports are not NICs."""
    switches = sum(1 for ls in api.tables[LS].rows.values() if is_owned(ls))
    ports = sum(
        1 for lsp in api.tables[LSP].rows.values() if is_owned(lsp) and not _is_router_peer(lsp)
    )
    return switches, ports


def managed_ports(api: Any) -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, switch, addresses) of every NIC port ovnctl owns, for audits (read-only)."""
    parents = _port_parents(api)
    found: list[tuple[str, str, tuple[str, ...]]] = []
    for lsp in api.tables[LSP].rows.values():
        if not is_owned(lsp) or _is_router_peer(lsp):
            continue
        parent = parents.get(lsp.uuid)
        switch = str(read(parent, "name")) if parent is not None else ""
        found.append((str(read(lsp, "name")), switch, tuple(read(lsp, "addresses"))))
    return sorted(found)
