"""Prometheus metrics: transactions, latency, failures, objects managed, connection state."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from ovnctl.ovn import (
    METRIC_NAMES,
    ForeignObjectError,
    NorthboundUnavailable,
    OvnNorthbound,
    PrometheusNorthboundMetrics,
)
from ovnctl.ovn.sandbox import NbSandbox
from tests.ovn.conftest import eventually, port, switch


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def measured(sandbox: NbSandbox, registry: CollectorRegistry) -> AsyncIterator[OvnNorthbound]:
    metrics = PrometheusNorthboundMetrics(registry=registry)
    client = OvnNorthbound(remote=sandbox.tcp, timeout=5, max_backoff=1, metrics=metrics)
    await client.start()
    await client.wait_connected(10)
    yield client
    await client.close()


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    sample = registry.get_sample_value(name, labels)
    return 0.0 if sample is None else sample


async def test_transactions_and_latency_are_counted(
    measured: OvnNorthbound, registry: CollectorRegistry
) -> None:
    """Each call is one transaction per verb, with its latency observed."""
    await measured.ensure_subnet(switch())
    await measured.ensure_port(port("a", "10.16.0.5"))
    await measured.ensure_port(port("b", "10.16.0.6"))
    assert value(registry, "ovnctl_ovn_nb_transactions_total", op="ensure_subnet") == 1
    assert value(registry, "ovnctl_ovn_nb_transactions_total", op="ensure_port") == 2
    count = "ovnctl_ovn_nb_transaction_duration_seconds_count"
    assert value(registry, count, op="ensure_port") == 2


async def test_managed_objects_and_connection_gauges(
    measured: OvnNorthbound, registry: CollectorRegistry, sandbox: NbSandbox
) -> None:
    """Switches and NIC ports owned by ovnctl are gauged; foreign ones and router peers are not."""
    await measured.ensure_subnet(switch())
    await measured.ensure_port(port("a", "10.16.0.5"))
    sandbox.nbctl("lsp-add", "ovn-default", "theirs")
    sandbox.nbctl("ls-add", "their-switch")
    await measured.ping()  # the NB sends its updates before this answer: the IDL has them
    assert value(registry, "ovnctl_ovn_nb_logical_switches") == 1
    assert value(registry, "ovnctl_ovn_nb_logical_switch_ports") == 1
    assert value(registry, "ovnctl_ovn_nb_connected") == 1
    sandbox.kill()
    await eventually(lambda: value(registry, "ovnctl_ovn_nb_connected") == 0)


async def test_a_scrape_never_waits_for_a_commit_in_flight(
    measured: OvnNorthbound, registry: CollectorRegistry
) -> None:
    """While a commit holds the connection lock, gauges answer at once with the last count."""
    await measured.ensure_subnet(switch())
    assert value(registry, "ovnctl_ovn_nb_logical_switches") == 1
    held, release = threading.Event(), threading.Event()

    def commit_in_flight() -> None:
        with measured._api.ovsdb_connection.lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=commit_in_flight)
    holder.start()
    try:
        assert held.wait(5)
        started = time.monotonic()
        assert value(registry, "ovnctl_ovn_nb_logical_switches") == 1
        assert time.monotonic() - started < 1.0
    finally:
        release.set()
        holder.join()
    await measured.ensure_subnet(switch("second", "10.17.0.0/16", "10.17.0.1"))
    assert value(registry, "ovnctl_ovn_nb_logical_switches") == 2


async def test_failures_are_counted_by_kind(
    measured: OvnNorthbound, registry: CollectorRegistry, sandbox: NbSandbox
) -> None:
    """A foreign name and an unreachable NB count as failures of their kind."""
    sandbox.nbctl("ls-add", "ovn-default")
    await measured.ping()
    with pytest.raises(ForeignObjectError):
        await measured.ensure_subnet(switch())
    sandbox.kill()
    await eventually(lambda: not measured.connected)
    with pytest.raises(NorthboundUnavailable):
        await measured.ensure_port(port("a", "10.16.0.5"))
    failures = "ovnctl_ovn_nb_transaction_failures_total"
    assert value(registry, failures, op="ensure_subnet", error="foreign") == 1
    assert value(registry, failures, op="ensure_port", error="unavailable") == 1


def test_metric_names_are_exported(registry: CollectorRegistry) -> None:
    """Every documented metric name is registered."""
    PrometheusNorthboundMetrics(registry=registry)
    names = {m.name for m in registry.collect()}
    exported = {n.removesuffix("_total") for n in METRIC_NAMES}
    assert exported <= names


def test_metrics_bind_to_one_client(registry: CollectorRegistry) -> None:
    """One metrics object cannot report two clients (their gauges would clash)."""
    metrics = PrometheusNorthboundMetrics(registry=registry)
    OvnNorthbound(remote="tcp:127.0.0.1:1", metrics=metrics)
    with pytest.raises(ValueError, match="already"):
        OvnNorthbound(remote="tcp:127.0.0.1:2", metrics=metrics)
