"""NB drift noticed as it happens: row events on the rows ovnctl owns.

Where it sits: :class:`~ovnctl.ovn.client.OvnNorthbound` builds its IDL as an
:class:`EventIdl`, whose ovsdbapp row-event handler runs :class:`OwnedRowEvent`
for every update or deletion of a logical switch, switch port or router port
that carries ``external_ids:vendor=ovnctl`` (before or after the change).
Each event becomes a suspect name: the switch for switches, router ports and
router peer ports, the port for NIC ports. The client hands the suspects, as
a :class:`Drift`, to whoever called ``watch_drift`` (the controller, which
debounces them and calls ``repair`` for exactly those names: see
:mod:`ovnctl.reconcilers.drift`). Rows ovnctl does not own never match.

ovnctl's own writes raise the same events: the repair that follows finds
those rows already as desired and writes nothing, so there is no loop.
Events run on ovsdbapp's notify thread; the callback must be thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ovsdbapp.backend.ovs_idl import connection as ovs_connection
from ovsdbapp.backend.ovs_idl import event as ovs_event

from ovnctl.ovn.api import Drift
from ovnctl.ovn.commands import LRP, LS, LSP, is_owned
from ovnctl.ovn.specs import KEY_LOGICAL_SWITCH, KEY_VENDOR, VENDOR

__all__ = ["WATCHED_TABLES", "EventIdl", "OwnedRowEvent", "drift_events"]

WATCHED_TABLES = (LS, LSP, LRP)
"""The logical router itself is not watched: deleting it deletes its router ports."""


class EventIdl(ovs_connection.OvsdbIdl):  # type: ignore[misc]
    """The NB IDL handing every row change to ovsdbapp's row-event handler."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.notify_handler = ovs_event.RowEventHandler()

    def notify(self, event: str, row: Any, updates: Any = None) -> None:
        self.notify_handler.notify(event, row, updates)


def _owned(row: Any) -> bool:
    if row is None:
        return False
    try:
        return is_owned(row)
    except AttributeError:  # an update's old row carries only the changed columns
        return False


def _old_owned(old: Any) -> bool:
    try:
        return bool(getattr(old, "external_ids", {}).get(KEY_VENDOR) == VENDOR)
    except AttributeError:
        return False


class OwnedRowEvent(ovs_event.RowEvent):  # type: ignore[misc]
    """An update or deletion of an ovnctl row in ``table``: ``sink(Drift)`` names it."""

    def __init__(self, table: str, sink: Callable[[Drift], None]) -> None:
        super().__init__((self.ROW_UPDATE, self.ROW_DELETE), table, None)
        self._sink = sink

    def match_fn(self, event: str, row: Any, old: Any) -> bool:
        return _owned(row) or _old_owned(old)

    def run(self, event: str, row: Any, old: Any) -> None:
        drift = _suspect(self.table, row)
        if drift is not None:
            self._sink(drift)


def _suspect(table: str, row: Any) -> Drift | None:
    name = str(getattr(row, "name", ""))
    if not name:
        return None
    if table == LS:
        return Drift(switches=frozenset({name}))
    # ``row`` is ovsdbapp's frozen copy here: plain attributes, no IDL helpers.
    switch = str(dict(getattr(row, "external_ids", {})).get(KEY_LOGICAL_SWITCH, ""))
    if table == LRP or getattr(row, "type", "") == "router":
        # Router ports and their switch-side peers are part of their switch.
        return Drift(switches=frozenset({switch})) if switch else None
    return Drift(ports=frozenset({name}))


def drift_events(sink: Callable[[Drift], None]) -> list[OwnedRowEvent]:
    """One event per watched table, all reporting to ``sink``."""
    return [OwnedRowEvent(table, sink) for table in WATCHED_TABLES]
