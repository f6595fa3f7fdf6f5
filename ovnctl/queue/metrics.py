"""Queue metrics, injected: what an operator sees of the work queue.

The queue core reports four events per key (added, handed to a worker, done,
retried) and dead-lettering; a :class:`MetricsSink` turns them into numbers.
The default is :class:`NoopMetricsSink`, so the core never pays for metrics it
does not export and never imports Prometheus on its own. The composition root
passes a :class:`PrometheusMetricsSink` built on its ``CollectorRegistry``;
tests pass a fresh registry each.

This mirrors client-go's ``workqueue`` metrics: the sink, not the queue, keeps
the per-key timestamps, and the two "how stuck are we" gauges (longest running
processor, unfinished work) are computed when Prometheus collects, from the
keys currently held by workers, rather than by a periodic loop.
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import partial
from typing import TYPE_CHECKING, Protocol, final

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

    from ovnctl.queue.clock import Clock

__all__ = [
    "METRIC_NAMES",
    "MetricsSink",
    "NoopMetricsSink",
    "PrometheusMetricsSink",
    "QueueMetrics",
]


class QueueMetrics(Protocol):
    """Metrics of one named queue; called by the queue on every transition."""

    def add(self, key: Hashable) -> None:
        """A key became wanted (entered *dirty*): depth +1, adds +1, start its wait."""

    def get(self, key: Hashable) -> None:
        """A worker took the key: depth -1, observe time in queue, start its work."""

    def done(self, key: Hashable) -> None:
        """A worker finished the key: observe work duration."""

    def retry(self) -> None:
        """A key was re-added with rate limiting after a failure."""

    def dead_lettered(self, *, current: int) -> None:
        """A key was given up on; ``current`` is the dead-letter set's new size."""

    def dead_letters(self, *, current: int) -> None:
        """The dead-letter set changed size without a new dead-lettering."""


class MetricsSink(Protocol):
    """Creates the metrics for each named queue."""

    def for_queue(self, *, name: str, clock: Clock) -> QueueMetrics: ...


@final
class _NoopQueueMetrics:
    __slots__ = ()

    def add(self, key: Hashable) -> None:
        pass

    def get(self, key: Hashable) -> None:
        pass

    def done(self, key: Hashable) -> None:
        pass

    def retry(self) -> None:
        pass

    def dead_lettered(self, *, current: int) -> None:
        pass

    def dead_letters(self, *, current: int) -> None:
        pass


_NOOP = _NoopQueueMetrics()


@final
class NoopMetricsSink:
    """The default: metrics cost one empty method call per transition."""

    def for_queue(self, *, name: str, clock: Clock) -> QueueMetrics:
        return _NOOP


# Names as exported with the default namespace and subsystem (documented in docs/queue.md).
METRIC_NAMES = (
    "ovnctl_workqueue_depth",
    "ovnctl_workqueue_adds_total",
    "ovnctl_workqueue_retries_total",
    "ovnctl_workqueue_dead_lettered_total",
    "ovnctl_workqueue_dead_letters",
    "ovnctl_workqueue_queue_duration_seconds",
    "ovnctl_workqueue_work_duration_seconds",
    "ovnctl_workqueue_longest_running_processor_seconds",
    "ovnctl_workqueue_unfinished_work_seconds",
)

# Decades from 1 µs to 1000 s: a key may wait microseconds in a hot queue or
# minutes behind a capped backoff, and both ends matter.
_BUCKETS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1000.0)


@final
class PrometheusMetricsSink:
    """Exports every queue's metrics into one registry, labelled ``name``."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry,
        namespace: str = "ovnctl",
        subsystem: str = "workqueue",
    ) -> None:
        # Imported here so that a process using the no-op sink never needs it.
        from prometheus_client import Counter, Gauge, Histogram

        # Every metric shares the namespace, subsystem, registry and the queue's
        # ``name`` label (and the histograms their buckets): bind them once.
        ns, sub, reg, by_name = namespace, subsystem, registry, ["name"]
        counter = partial(Counter, labelnames=by_name, namespace=ns, subsystem=sub, registry=reg)
        gauge = partial(Gauge, labelnames=by_name, namespace=ns, subsystem=sub, registry=reg)
        histogram = partial(
            Histogram,
            labelnames=by_name,
            buckets=_BUCKETS,
            namespace=ns,
            subsystem=sub,
            registry=reg,
        )
        self._names: set[str] = set()
        self.depth = gauge("depth", "Keys wanted and not yet taken by a worker.")
        self.adds = counter("adds", "Keys added (after de-duplication).")
        self.retries = counter("retries", "Rate-limited re-adds after a failure.")
        self.dead_lettered_total = counter(
            "dead_lettered", "Keys given up on after too many failures."
        )
        self.dead_letters = gauge("dead_letters", "Keys currently in the dead-letter set.")
        self.queue_duration = histogram(
            "queue_duration_seconds",
            "Seconds a key waited in the queue before a worker took it.",
        )
        self.work_duration = histogram("work_duration_seconds", "Seconds a worker held a key.")
        self.longest_running = gauge(
            "longest_running_processor_seconds",
            "Seconds the longest-held key has been held by a worker.",
        )
        self.unfinished = gauge(
            "unfinished_work_seconds",
            "Sum of seconds every held key has been held: grows when workers are stuck.",
        )

    def for_queue(self, *, name: str, clock: Clock) -> QueueMetrics:
        if name in self._names:
            # Two queues under one label would corrupt each other's timestamps.
            raise ValueError(f"a queue named {name!r} already reports to this sink")
        self._names.add(name)
        return _PrometheusQueueMetrics(sink=self, name=name, clock=clock)


@final
class _PrometheusQueueMetrics:
    def __init__(self, *, sink: PrometheusMetricsSink, name: str, clock: Clock) -> None:
        self._clock = clock
        self._add_times: dict[Hashable, float] = {}
        self._start_times: dict[Hashable, float] = {}
        self._depth = sink.depth.labels(name=name)
        self._adds = sink.adds.labels(name=name)
        self._retries = sink.retries.labels(name=name)
        self._dead_lettered = sink.dead_lettered_total.labels(name=name)
        self._dead_letters = sink.dead_letters.labels(name=name)
        self._queue_duration = sink.queue_duration.labels(name=name)
        self._work_duration = sink.work_duration.labels(name=name)
        # Computed at collection time from the held keys: no update loop to run or stop.
        sink.longest_running.labels(name=name).set_function(self._longest_running)
        sink.unfinished.labels(name=name).set_function(self._unfinished)

    def add(self, key: Hashable) -> None:
        self._adds.inc()
        self._depth.inc()
        # setdefault: the wait starts at the first add, not at re-adds.
        self._add_times.setdefault(key, self._clock.now())

    def get(self, key: Hashable) -> None:
        now = self._clock.now()
        self._depth.dec()
        added = self._add_times.pop(key, None)
        if added is not None:
            self._queue_duration.observe(now - added)
        self._start_times[key] = now

    def done(self, key: Hashable) -> None:
        started = self._start_times.pop(key, None)
        if started is not None:
            self._work_duration.observe(self._clock.now() - started)

    def retry(self) -> None:
        self._retries.inc()

    def dead_lettered(self, *, current: int) -> None:
        self._dead_lettered.inc()
        self._dead_letters.set(current)

    def dead_letters(self, *, current: int) -> None:
        self._dead_letters.set(current)

    def _longest_running(self) -> float:
        if not self._start_times:
            return 0.0
        return self._clock.now() - min(self._start_times.values())

    def _unfinished(self) -> float:
        now = self._clock.now()
        return sum(now - started for started in self._start_times.values())
