"""NB down, restarted, stalled or not up yet: retryable errors, readiness, no loss or duplicates."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from ovnctl.ovn import Change, NorthboundUnavailable, OvnNorthbound
from ovnctl.ovn.sandbox import NbSandbox
from ovnctl.queue import ExponentialBackoff, RateLimitingQueue, RetryableError, WorkerPool
from tests.ovn.conftest import eventually, port, row, rows, switch, switch_ports


async def test_calls_fail_retryably_while_nb_is_down(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """With the NB killed, calls raise a RetryableError at once and readiness says not connected."""
    await northbound.ensure_subnet(switch())
    assert northbound.connected
    assert await northbound.ping()
    sandbox.kill()
    await eventually(lambda: not northbound.connected)
    assert not await northbound.ping()
    with pytest.raises(NorthboundUnavailable) as caught:
        await northbound.ensure_port(port("a", "10.16.0.5"))
    assert isinstance(caught.value, RetryableError)


async def test_reconnects_after_restart_with_state_intact(
    northbound: OvnNorthbound, sandbox: NbSandbox
) -> None:
    """After an NB restart the client reconnects by itself and finds what it wrote before."""
    await northbound.ensure_subnet(switch())
    await northbound.ensure_port(port("a", "10.16.0.5"))
    sandbox.kill()
    await eventually(lambda: not northbound.connected)
    sandbox.start()
    await northbound.wait_connected(15)
    assert await northbound.ping()
    assert await northbound.ensure_subnet(switch()) is Change.UNCHANGED
    assert await northbound.ensure_port(port("a", "10.16.0.5")) is Change.UNCHANGED
    assert await northbound.ensure_port(port("b", "10.16.0.6")) is Change.CREATED


async def test_start_before_nb_is_up(tmp_path: Path) -> None:
    """A client started while the NB is down keeps trying and connects once it comes up."""
    from tests.ovn.conftest import SKIP_REASON

    if SKIP_REASON:
        pytest.skip(f"needs a local OVN NB ovsdb-server: {SKIP_REASON}")
    sandbox = NbSandbox(tmp_path)
    client = OvnNorthbound(remote=sandbox.tcp, timeout=5, max_backoff=1)
    try:
        await client.start()
        await asyncio.sleep(0.3)
        assert not client.connected
        with pytest.raises(NorthboundUnavailable):
            await client.ensure_subnet(switch())
        sandbox.start()
        await client.wait_connected(15)
        assert await client.ensure_subnet(switch()) is Change.CREATED
    finally:
        await client.close()
        sandbox.kill()


async def test_stalled_nb_times_out_then_recovers(sandbox: NbSandbox) -> None:
    """A frozen NB (SIGSTOP) makes a call time out retryably; once thawed, calls succeed."""
    client = OvnNorthbound(remote=sandbox.tcp, timeout=1, max_backoff=1)
    await client.start()
    await client.wait_connected(10)
    try:
        await client.ensure_subnet(switch())
        pid = int((sandbox.directory / "nb.pid").read_text())
        os.kill(pid, signal.SIGSTOP)
        try:
            with pytest.raises(NorthboundUnavailable):
                await client.ensure_port(port("a", "10.16.0.5"))
        finally:
            os.kill(pid, signal.SIGCONT)

        async def lands() -> bool:
            try:
                await client.ensure_port(port("a", "10.16.0.5"))
            except NorthboundUnavailable:
                return False
            return True

        await eventually(lands, within=20)
        assert row(sandbox, "Logical_Switch_Port", "a.default") is not None
    finally:
        await client.close()


async def test_burst_of_200_across_an_nb_restart(sandbox: NbSandbox) -> None:
    """NB killed and restarted mid-burst: queue retries end with one correct port per NIC."""
    client = OvnNorthbound(remote=sandbox.tcp, timeout=3, max_backoff=1)
    await client.start()
    await client.wait_connected(10)
    await client.ensure_subnet(switch(cidr="10.16.0.0/16"))
    specs = {
        spec.name: spec
        for spec in (
            port(
                f"pod{i}",
                f"10.16.{i // 200}.{i % 200 + 2}",
                mac=f"0e:00:00:00:{i // 256:02x}:{i % 256:02x}",
            )
            for i in range(200)
        )
    }
    done: set[str] = set()
    failures = 0
    restarts: list[asyncio.Task[None]] = []

    async def restart_later() -> None:
        await asyncio.sleep(0.3)
        await asyncio.to_thread(sandbox.start)

    async def reconcile(key: str) -> None:
        nonlocal failures
        try:
            await client.ensure_port(specs[key])
        except RetryableError:
            failures += 1
            raise
        done.add(key)
        if len(done) == 50 and not restarts:
            sandbox.kill()  # in the middle of the burst, with transactions in flight
            restarts.append(asyncio.create_task(restart_later()))

    queue: RateLimitingQueue[str] = RateLimitingQueue(
        name="ovn-burst", rate_limiter=ExponentialBackoff(base=0.05, cap=0.5)
    )
    pool = WorkerPool(queue=queue, reconcile=reconcile, workers=16, max_retries=None)
    for key in specs:
        queue.add(key)
    pool.start()
    try:
        await eventually(lambda: len(done) == len(specs), within=45)
    finally:
        await pool.stop(grace=5)
        await client.close()

    assert restarts, "the NB was never killed"
    assert failures > 0, "no call saw the NB down"
    nics = [r for r in rows(sandbox, "Logical_Switch_Port") if r["type"] == ""]
    assert sorted(r["name"] for r in nics) == sorted(specs)  # exactly one port per NIC
    for r in nics:
        want = specs[r["name"]].addresses
        assert r["addresses"] == [want]
        assert r["port_security"] == [want]
    assert switch_ports(sandbox, "ovn-default") == set(specs) | {"ovn-default-ovn-cluster"}


async def test_unix_socket_remote(sandbox: NbSandbox) -> None:
    """--ovn-nb unix:/path reaches the NB through its unix socket."""
    client = OvnNorthbound(remote=sandbox.unix, timeout=5)
    await client.start()
    try:
        await client.wait_connected(10)
        assert await client.ensure_subnet(switch()) is Change.CREATED
    finally:
        await client.close()
    assert row(sandbox, "Logical_Switch", "ovn-default") is not None


async def test_member_list_skips_a_dead_member(sandbox: NbSandbox) -> None:
    """A comma list of members connects through whichever one answers."""
    dead = NbSandbox(sandbox.directory / "dead")
    client = OvnNorthbound(remote=f"{dead.tcp},{sandbox.tcp}", timeout=5, max_backoff=1)
    await client.start()
    try:
        await client.wait_connected(15)
        assert await client.ensure_subnet(switch()) is Change.CREATED
    finally:
        await client.close()
    assert row(sandbox, "Logical_Switch", "ovn-default") is not None
