"""Northbound metrics, injected: transactions, their latency and failures, objects managed.

Same shape as :mod:`ovnctl.queue.metrics`: the client reports events to a
:class:`NorthboundMetrics`; the default :class:`NoopNorthboundMetrics` costs an
empty call and never imports Prometheus; the composition root passes a
:class:`PrometheusNorthboundMetrics` built on its ``CollectorRegistry`` and
tests pass a fresh registry each. The "managed" gauges and the connection
gauge are computed when Prometheus collects, from the client's replica of the
NB, so no loop has to keep them fresh and they are right after a reconnect.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Protocol, final

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = [
    "METRIC_NAMES",
    "NoopNorthboundMetrics",
    "NorthboundMetrics",
    "PrometheusNorthboundMetrics",
]


class NorthboundMetrics(Protocol):
    """What the northbound client reports."""

    def transaction(self, *, op: str, seconds: float, error: str | None) -> None:
        """One NB transaction (``op`` is the API verb) ended; ``error`` names the failure kind."""

    def bind(
        self,
        *,
        managed: Callable[[], tuple[int, int]],
        connected: Callable[[], bool],
    ) -> None:
        """Sources for the collect-time gauges: (switches, ports) owned, and connection state."""


@final
class NoopNorthboundMetrics:
    """The default: nothing is recorded."""

    __slots__ = ()

    def transaction(self, *, op: str, seconds: float, error: str | None) -> None:
        pass

    def bind(
        self,
        *,
        managed: Callable[[], tuple[int, int]],
        connected: Callable[[], bool],
    ) -> None:
        pass


# Names as exported with the default namespace and subsystem (documented in docs/ovn.md).
METRIC_NAMES = (
    "ovnctl_ovn_nb_transactions_total",
    "ovnctl_ovn_nb_transaction_failures_total",
    "ovnctl_ovn_nb_transaction_duration_seconds",
    "ovnctl_ovn_nb_connected",
    "ovnctl_ovn_nb_logical_switches",
    "ovnctl_ovn_nb_logical_switch_ports",
)

# A local NB commits in about a millisecond; a loaded Raft cluster in tens or
# hundreds; a call that hit the timeout shows up in the top buckets.
_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@final
class PrometheusNorthboundMetrics:
    """Exports the client's metrics into ``registry``; one client per instance."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry,
        namespace: str = "ovnctl",
        subsystem: str = "ovn_nb",
    ) -> None:
        # Imported here so that a process using the no-op metrics never needs it.
        from prometheus_client import Counter, Gauge, Histogram

        # Every metric shares the namespace, subsystem and registry: bind them once.
        ns, sub, reg = namespace, subsystem, registry
        counter = partial(Counter, namespace=ns, subsystem=sub, registry=reg)
        gauge = partial(Gauge, namespace=ns, subsystem=sub, registry=reg)
        self.transactions = counter(
            "transactions", "NB transactions attempted, by API verb.", ["op"]
        )
        self.failures = counter(
            "transaction_failures",
            "NB transactions that failed, by API verb and kind "
            "(unavailable, timeout, refused, foreign, missing_switch).",
            ["op", "error"],
        )
        self.duration = Histogram(
            "transaction_duration_seconds",
            "Seconds from a call to the NB's answer, by API verb.",
            ["op"],
            buckets=_BUCKETS,
            namespace=ns,
            subsystem=sub,
            registry=reg,
        )
        self.connected = gauge(
            "connected", "1 when connected to an NB member and its contents are replicated, else 0."
        )
        self.switches = gauge(
            "logical_switches", "Logical switches owned by ovnctl (external_ids:vendor=ovnctl)."
        )
        self.ports = gauge(
            "logical_switch_ports",
            "Logical switch ports of NICs owned by ovnctl (router peer ports excluded).",
        )
        self._bound = False

    def transaction(self, *, op: str, seconds: float, error: str | None) -> None:
        self.transactions.labels(op=op).inc()
        self.duration.labels(op=op).observe(seconds)
        if error is not None:
            self.failures.labels(op=op, error=error).inc()

    def bind(
        self,
        *,
        managed: Callable[[], tuple[int, int]],
        connected: Callable[[], bool],
    ) -> None:
        if self._bound:
            # Two clients behind one set of gauges would report one of them at random.
            raise ValueError("these metrics already report another northbound client")
        self._bound = True
        self.switches.set_function(lambda: float(managed()[0]))
        self.ports.set_function(lambda: float(managed()[1]))
        self.connected.set_function(lambda: 1.0 if connected() else 0.0)
