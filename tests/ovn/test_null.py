"""Pure-IPAM mode: without --ovn-nb nothing is written, readiness holds, and it says so."""

from __future__ import annotations

import logging

import pytest

from ovnctl.ovn import (
    Change,
    ConvergeReport,
    Northbound,
    NullNorthbound,
    OvnNorthbound,
    build_northbound,
)
from tests.ovn.conftest import port, switch


def test_build_without_remote_is_pure_ipam() -> None:
    """No --ovn-nb value gives the NullNorthbound; a value gives the OVN client."""
    assert isinstance(build_northbound(None), NullNorthbound)
    assert isinstance(build_northbound(""), NullNorthbound)
    assert isinstance(build_northbound("tcp:127.0.0.1:6641"), OvnNorthbound)


def test_both_satisfy_the_port() -> None:
    """Reconcilers can hold either behind the Northbound protocol."""
    assert isinstance(NullNorthbound(), Northbound)
    assert isinstance(OvnNorthbound(remote="tcp:127.0.0.1:6641"), Northbound)


async def test_null_does_nothing_and_is_ready(caplog: pytest.LogCaptureFixture) -> None:
    """Every verb is a no-op, it is always connected, and start logs pure-IPAM mode."""
    null = NullNorthbound()
    with caplog.at_level(logging.INFO, logger="ovnctl.ovn"):
        await null.start()
    assert "pure IPAM" in caplog.text
    assert not null.enabled
    assert null.connected
    assert await null.ping()
    assert await null.ensure_subnet(switch()) is Change.UNCHANGED
    assert await null.ensure_port(port("a", "10.16.0.5")) is Change.UNCHANGED
    assert await null.delete_port("a.default") is Change.UNCHANGED
    assert await null.delete_subnet("ovn-default") is Change.UNCHANGED
    assert await null.converge([switch()], [port("a", "10.16.0.5")]) == ConvergeReport()
    assert "pure IPAM" in null.describe()
    await null.close()
