"""Fixtures for the northbound tests: a private ovsdb-server per test and a client connected to it.

Each test gets a fresh NB database in its tmp dir, served on a free loopback
port by its own ``ovsdb-server`` (never the system service), killed at the
end. Without Debian's ``ovn-central`` installed the tests that need a server
are skipped with the reason; CI installs it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ovnctl.ovn import OvnNorthbound, OwnerKind, PortSpec, SwitchSpec
from ovnctl.ovn.sandbox import NbSandbox, missing_tools

SKIP_REASON = missing_tools()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A local NB answers in milliseconds and reconnects in about a second: a
    # test that hangs is a bug and should fail well before the global timeout.
    for item in items:
        if "tests/ovn/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.timeout(60))


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[NbSandbox]:
    if SKIP_REASON:
        pytest.skip(f"needs a local OVN NB ovsdb-server: {SKIP_REASON}")
    with NbSandbox(tmp_path) as server:
        yield server


@pytest.fixture
async def northbound(sandbox: NbSandbox) -> AsyncIterator[OvnNorthbound]:
    client = OvnNorthbound(remote=sandbox.tcp, timeout=5.0, max_backoff=1.0)
    await client.start()
    await client.wait_connected(10)
    yield client
    await client.close()


def switch(
    name: str = "ovn-default",
    cidr: str = "10.16.0.0/16",
    gateway: str = "10.16.0.1",
    exclude: tuple[str, ...] = (),
) -> SwitchSpec:
    return SwitchSpec(name=name, cidr_block=cidr, gateway=gateway, exclude_ips=exclude)


def port(
    owner: str,
    *ips: str,
    namespace: str = "default",
    switch: str = "ovn-default",
    kind: OwnerKind = OwnerKind.POD,
    mac: str | None = None,
    provider: str = "ovn",
) -> PortSpec:
    name = f"{owner}.{namespace}" if provider == "ovn" else f"{owner}.{namespace}.{provider}"
    index = sum(name.encode()) % 250
    return PortSpec(
        name=name,
        switch=switch,
        mac=mac or f"0e:00:00:00:{index // 16:02x}:{index:02x}",
        ips=ips or (f"10.16.0.{index + 2}",),
        owner_kind=kind,
        owner_namespace=namespace,
        owner_name=owner,
        provider=provider,
    )


def _decode(value: Any) -> Any:
    """OVSDB JSON (``["map", ...]``, ``["set", ...]``, ``["uuid", ...]``) → Python."""
    if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
        kind, body = value
        if kind == "map":
            return {_decode(k): _decode(v) for k, v in body}
        if kind == "set":
            return [_decode(v) for v in body]
        if kind in ("uuid", "named-uuid"):
            return body
    return value


def rows(sandbox: NbSandbox, table: str, *, where: str | None = None) -> list[dict[str, Any]]:
    """Every row of ``table`` as ovn-nbctl prints it (``find`` with a condition, else ``list``)."""
    args = ["--format=json", "find" if where else "list", table]
    if where:
        args.append(where)
    data = json.loads(sandbox.nbctl(*args))
    headings = data["headings"]
    decoded = []
    for row in data["data"]:
        item = {h: _decode(v) for h, v in zip(headings, row, strict=True)}
        # A one-element set prints as the bare value: normalise the columns we read.
        for column in ("addresses", "port_security", "networks", "ports"):
            if column in item and not isinstance(item[column], list):
                item[column] = [item[column]]
        decoded.append(item)
    return decoded


def row(sandbox: NbSandbox, table: str, name: str) -> dict[str, Any] | None:
    """The row named ``name`` in ``table``, or None; fails on duplicates."""
    found = rows(sandbox, table, where=f"name={json.dumps(name)}")
    assert len(found) <= 1, f"{len(found)} {table} rows named {name!r}"
    return found[0] if found else None


def switch_ports(sandbox: NbSandbox, name: str) -> set[str]:
    """Names of the ports attached to switch ``name`` (via ovn-nbctl lsp-list)."""
    lines = sandbox.nbctl("lsp-list", name).splitlines()
    return {line.split("(", 1)[1].rstrip(")") for line in lines if "(" in line}


async def eventually(check: Callable[[], bool | Awaitable[bool]], *, within: float = 10) -> None:
    """Poll ``check`` until true (the client sees others' writes a moment after they commit)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
