"""Queue metrics: no-op by default, Prometheus through an injected registry."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import CollectorRegistry

from ovnctl.queue import (
    METRIC_NAMES,
    Done,
    FakeClock,
    NoopMetricsSink,
    PrometheusMetricsSink,
    RateLimitingQueue,
    Result,
    RetryableError,
    WorkerPool,
)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def mqueue(clock: FakeClock, registry: CollectorRegistry) -> RateLimitingQueue[str]:
    sink = PrometheusMetricsSink(registry=registry)
    return RateLimitingQueue(name="pods", clock=clock, metrics=sink)


def value(registry: CollectorRegistry, metric: str, name: str = "pods") -> float:
    sample = registry.get_sample_value(metric, {"name": name})
    assert sample is not None, metric
    return sample


async def test_every_documented_metric_is_exported(
    mqueue: RateLimitingQueue[str], registry: CollectorRegistry
) -> None:
    """Each name in METRIC_NAMES appears in the registry, labelled by queue name."""
    exported = {m.name for m in registry.collect()}
    for name in METRIC_NAMES:
        base = name.removesuffix("_total")
        assert base in exported, name


async def test_depth_and_adds_count_deduplicated_keys(
    mqueue: RateLimitingQueue[str], registry: CollectorRegistry
) -> None:
    """Depth and adds count keys once however often they are re-added."""
    for _ in range(10):
        mqueue.add("a")
    mqueue.add("b")
    assert value(registry, "ovnctl_workqueue_adds_total") == 2
    assert value(registry, "ovnctl_workqueue_depth") == 2
    await mqueue.get()
    assert value(registry, "ovnctl_workqueue_depth") == 1


async def test_time_in_queue_and_work_duration_use_the_clock(
    mqueue: RateLimitingQueue[str], registry: CollectorRegistry, clock: FakeClock
) -> None:
    """Queue time runs from the first add to get; work time from get to done."""
    mqueue.add("a")
    clock.step(2.0)
    mqueue.add("a")  # a re-add does not restart the wait
    clock.step(1.0)
    await mqueue.get()
    clock.step(0.5)
    mqueue.done("a")
    assert value(registry, "ovnctl_workqueue_queue_duration_seconds_sum") == 3.0
    assert value(registry, "ovnctl_workqueue_queue_duration_seconds_count") == 1
    assert value(registry, "ovnctl_workqueue_work_duration_seconds_sum") == 0.5


async def test_stuck_work_is_visible_on_collect(
    mqueue: RateLimitingQueue[str], registry: CollectorRegistry, clock: FakeClock
) -> None:
    """Longest-running and unfinished-work gauges are computed from held keys when scraped."""
    mqueue.add("a")
    mqueue.add("b")
    await mqueue.get()
    clock.step(10)
    await mqueue.get()
    clock.step(5)
    assert value(registry, "ovnctl_workqueue_longest_running_processor_seconds") == 15
    assert value(registry, "ovnctl_workqueue_unfinished_work_seconds") == 15 + 5
    mqueue.done("a")
    mqueue.done("b")
    assert value(registry, "ovnctl_workqueue_longest_running_processor_seconds") == 0
    assert value(registry, "ovnctl_workqueue_unfinished_work_seconds") == 0


async def test_retries_and_dead_letters_are_counted(
    mqueue: RateLimitingQueue[str], registry: CollectorRegistry, clock: FakeClock
) -> None:
    """Rate-limited re-adds count as retries; dead-lettering bumps the counter and the gauge."""

    async def reconcile(key: str) -> Result:
        raise RetryableError("nope")

    pool = WorkerPool(queue=mqueue, reconcile=reconcile, max_retries=2)
    pool.start()
    mqueue.add("a")
    await clock.advance(60)
    assert value(registry, "ovnctl_workqueue_retries_total") == 2
    assert value(registry, "ovnctl_workqueue_dead_lettered_total") == 1
    assert value(registry, "ovnctl_workqueue_dead_letters") == 1
    mqueue.add("a")  # a change: out of the dead-letter set
    assert value(registry, "ovnctl_workqueue_dead_letters") == 0
    await pool.stop(grace=0)


async def test_queues_are_labelled_by_name(clock: FakeClock, registry: CollectorRegistry) -> None:
    """Two queues share one sink under different labels; a duplicate name is refused."""
    sink = PrometheusMetricsSink(registry=registry)
    pods: RateLimitingQueue[str] = RateLimitingQueue(name="pods", clock=clock, metrics=sink)
    subnets: RateLimitingQueue[str] = RateLimitingQueue(name="subnets", clock=clock, metrics=sink)
    pods.add("a")
    subnets.add("x")
    subnets.add("y")
    assert value(registry, "ovnctl_workqueue_adds_total", "pods") == 1
    assert value(registry, "ovnctl_workqueue_adds_total", "subnets") == 2
    with pytest.raises(ValueError, match="subnets"):
        RateLimitingQueue(name="subnets", clock=clock, metrics=sink)


async def test_noop_sink_is_the_default_and_records_nothing(clock: FakeClock) -> None:
    """Without a sink the queue works and the no-op metrics accept every call."""
    queue: RateLimitingQueue[str] = RateLimitingQueue(clock=clock)
    queue.add("a")
    assert await queue.get() == "a"
    queue.done("a")
    metrics = NoopMetricsSink().for_queue(name="x", clock=clock)
    metrics.add("a")
    metrics.get("a")
    metrics.done("a")
    metrics.retry()
    metrics.dead_lettered(current=1)
    metrics.dead_letters(current=0)


async def test_pool_run_is_reflected_in_metrics(
    mqueue: RateLimitingQueue[str], registry: CollectorRegistry, clock: FakeClock
) -> None:
    """A pool processing keys leaves depth at zero and one work observation per reconcile."""

    async def reconcile(key: str) -> Result:
        await asyncio.sleep(0)
        return Done

    pool = WorkerPool(queue=mqueue, reconcile=reconcile, workers=3)
    pool.start()
    for i in range(10):
        mqueue.add(f"k{i}")
    await clock.settle()
    await pool.stop(grace=0)
    assert value(registry, "ovnctl_workqueue_depth") == 0
    assert value(registry, "ovnctl_workqueue_work_duration_seconds_count") == 10
