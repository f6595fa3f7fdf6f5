"""The work queue and worker pool every allocation and subnet change flows through.

Handlers add keys; the queue de-duplicates them, holds each by one worker at a
time, delays and rate-limits retries; the worker pool runs reconcilers and maps
their answers (:mod:`ovnctl.queue.results`) onto the queue. Modelled on
client-go's ``util/workqueue``, one layer per module:

``clock`` → ``metrics`` → ``fifo`` (dirty/processing/queue) → ``delaying``
(``add_after``) → ``ratelimit`` (policies) → ``ratelimiting``
(``add_rate_limited``, dead letters) → ``results`` → ``pool`` (workers).

Generic over hashable keys; imports nothing of Kubernetes or the controller.
See ``docs/queue.md``.
"""

from ovnctl.queue.clock import Clock, FakeClock, RealClock, Timer
from ovnctl.queue.delaying import DelayingQueue
from ovnctl.queue.fifo import QueueShutDown, WorkQueue
from ovnctl.queue.metrics import (
    METRIC_NAMES,
    MetricsSink,
    NoopMetricsSink,
    PrometheusMetricsSink,
    QueueMetrics,
)
from ovnctl.queue.pool import DeadLetterCallback, Reconciler, ShutdownReport, WorkerPool
from ovnctl.queue.ratelimit import (
    ExponentialBackoff,
    Jittered,
    MaxOf,
    RateLimiter,
    ResetAfterQuiet,
    TokenBucket,
    default_rate_limiter,
    watch_backoff,
)
from ovnctl.queue.ratelimiting import RateLimitingQueue
from ovnctl.queue.results import (
    Done,
    DoneType,
    PermanentError,
    ReconcileError,
    RequeueAfter,
    Result,
    RetryableError,
)

__all__ = [
    "METRIC_NAMES",
    "Clock",
    "DeadLetterCallback",
    "DelayingQueue",
    "Done",
    "DoneType",
    "ExponentialBackoff",
    "FakeClock",
    "Jittered",
    "MaxOf",
    "MetricsSink",
    "NoopMetricsSink",
    "PermanentError",
    "PrometheusMetricsSink",
    "QueueMetrics",
    "QueueShutDown",
    "RateLimiter",
    "RateLimitingQueue",
    "RealClock",
    "ReconcileError",
    "Reconciler",
    "RequeueAfter",
    "ResetAfterQuiet",
    "Result",
    "RetryableError",
    "ShutdownReport",
    "Timer",
    "TokenBucket",
    "WorkQueue",
    "WorkerPool",
    "default_rate_limiter",
    "watch_backoff",
]
