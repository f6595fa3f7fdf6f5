"""Drift: row events on ovnctl's NB rows name the suspects; repair puts back exactly those."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import pytest

from ovnctl.ovn import Drift, OvnNorthbound
from ovnctl.ovn.sandbox import NbSandbox
from tests.ovn.conftest import eventually, port, row, switch, switch_ports


class Seen:
    """Drift reported on the notify thread, merged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.switches: set[str] = set()
        self.ports: set[str] = set()

    def __call__(self, drift: Drift) -> None:
        with self.lock:
            self.switches |= drift.switches
            self.ports |= drift.ports

    def clear(self) -> None:
        with self.lock:
            self.switches.clear()
            self.ports.clear()


@pytest.fixture
async def watched(sandbox: NbSandbox) -> AsyncIterator[tuple[OvnNorthbound, Seen]]:
    seen = Seen()
    client = OvnNorthbound(remote=sandbox.tcp, timeout=5.0, max_backoff=1.0)
    client.watch_drift(seen)
    await client.start()
    await client.wait_connected(10)
    yield client, seen
    await client.close()


async def test_deleted_or_changed_owned_port_is_reported(watched, sandbox: NbSandbox) -> None:
    """Deleting or editing ovnctl's port with ovn-nbctl names it as drifted."""
    client, seen = watched
    await client.ensure_subnet(switch())
    await client.ensure_port(port("p1", "10.16.0.11"))
    await client.ensure_port(port("p2", "10.16.0.12"))
    sandbox.nbctl("lsp-del", "p1.default")
    await eventually(lambda: "p1.default" in seen.ports)
    sandbox.nbctl("lsp-set-addresses", "p2.default", "0e:00:00:00:00:99 10.16.0.99")
    await eventually(lambda: "p2.default" in seen.ports)


async def test_deleted_router_port_names_its_switch(watched, sandbox: NbSandbox) -> None:
    """A router port removed by hand reports the switch it belongs to."""
    client, seen = watched
    await client.ensure_subnet(switch())
    sandbox.nbctl("lrp-del", "ovn-cluster-ovn-default")
    await eventually(lambda: "ovn-default" in seen.switches)


async def test_foreign_rows_are_not_reported(watched, sandbox: NbSandbox) -> None:
    """Rows without vendor=ovnctl never show up as drift."""
    client, seen = watched
    await client.ensure_subnet(switch())
    sandbox.nbctl("lsp-add", "ovn-default", "theirs")
    sandbox.nbctl("lsp-set-addresses", "theirs", "0e:00:00:00:00:42 10.16.0.42")
    sandbox.nbctl("lsp-del", "theirs")
    # A round trip of ours, after theirs: every event before it has been processed.
    await client.ensure_port(port("marker", "10.16.0.50"))
    sandbox.nbctl("lsp-del", "marker.default")
    await eventually(lambda: "marker.default" in seen.ports)
    assert "theirs" not in seen.ports
    assert seen.switches <= {"ovn-default"}


async def test_repair_restores_exactly_the_named_rows(watched, sandbox: NbSandbox) -> None:
    """repair() recreates a deleted port and a reverted field, leaves others' rows alone."""
    client, seen = watched
    specs = [port("p1", "10.16.0.11"), port("p2", "10.16.0.12")]
    await client.ensure_subnet(switch())
    for spec in specs:
        await client.ensure_port(spec)
    sandbox.nbctl("lsp-add", "ovn-default", "theirs")
    sandbox.nbctl("lsp-del", "p1.default")
    sandbox.nbctl("lsp-set-addresses", "p2.default", "0e:00:00:00:00:99 10.16.0.99")
    # The events come from the client's replica: once both are seen, it holds the drift.
    await eventually(lambda: {"p1.default", "p2.default"} <= seen.ports)
    report = await client.repair([switch()], specs)
    assert report.ports_created == ("p1.default",)
    assert report.ports_updated == ("p2.default",)
    assert "theirs" in switch_ports(sandbox, "ovn-default")
    p2 = row(sandbox, "Logical_Switch_Port", "p2.default")
    assert p2 is not None
    assert p2["addresses"] == [specs[1].addresses]
    again = await client.repair([switch()], specs)
    assert not again.changed
