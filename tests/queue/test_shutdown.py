"""Graceful shutdown: stop handing out keys, give running reconciles a grace period, report."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from ovnctl.queue import (
    Done,
    FakeClock,
    RateLimitingQueue,
    RequeueAfter,
    Result,
    RetryableError,
    WorkerPool,
)


def slow_pool(
    queue: RateLimitingQueue[str], clock: FakeClock, *, seconds: float, workers: int
) -> tuple[WorkerPool[str], list[str]]:
    finished: list[str] = []

    async def reconcile(key: str) -> Result:
        await clock.sleep(seconds)
        finished.append(key)
        return Done

    pool = WorkerPool(queue=queue, reconcile=reconcile, workers=workers)
    pool.start()
    return pool, finished


async def test_idle_pool_stops_at_once(rlqueue: RateLimitingQueue[str]) -> None:
    """Idle workers exit as soon as the queue shuts down; nothing is left."""

    async def reconcile(key: str) -> Result:
        return Done

    pool = WorkerPool(queue=rlqueue, reconcile=reconcile, workers=4)
    pool.start()
    report = await pool.stop(grace=30)
    assert report.complete
    assert not pool.running


async def test_stop_lets_running_reconciles_finish_and_reports_queued(
    rlqueue: RateLimitingQueue[str], clock: FakeClock
) -> None:
    """Without drain, running reconciles finish; keys not yet started are reported as queued."""
    pool, finished = slow_pool(rlqueue, clock, seconds=5, workers=2)
    for key in ["a", "b", "c", "d"]:
        rlqueue.add(key)
    await clock.settle()
    stopping = asyncio.create_task(pool.stop(grace=30))
    await clock.advance(5)
    report = await stopping
    assert finished == ["a", "b"]
    assert report.queued == ("c", "d")
    assert report.cancelled == ()
    assert not report.complete
    assert not pool.running


async def test_drain_finishes_every_queued_key(
    rlqueue: RateLimitingQueue[str], clock: FakeClock
) -> None:
    """With drain, queued keys are processed before the workers exit."""
    pool, finished = slow_pool(rlqueue, clock, seconds=1, workers=2)
    for key in ["a", "b", "c", "d", "e"]:
        rlqueue.add(key)
    await clock.settle()
    stopping = asyncio.create_task(pool.stop(grace=30, drain=True))
    await clock.settle()
    rlqueue.add("late")  # ignored: shutting down
    await clock.advance(3)
    report = await stopping
    assert sorted(finished) == ["a", "b", "c", "d", "e"]
    assert report.complete
    assert report.queued == ()


async def test_grace_period_expiry_cancels_and_reports_in_flight(
    rlqueue: RateLimitingQueue[str], clock: FakeClock
) -> None:
    """Reconciles still running when the grace period ends are cancelled and reported."""
    cancelled: list[str] = []

    async def reconcile(key: str) -> Result:
        try:
            await clock.sleep(3600 if key == "stuck" else 1)
        except asyncio.CancelledError:
            cancelled.append(key)
            raise
        return Done

    pool = WorkerPool(queue=rlqueue, reconcile=reconcile, workers=2)
    pool.start()
    rlqueue.add("stuck")
    rlqueue.add("quick")
    rlqueue.add("waiting")
    await clock.settle()
    stopping = asyncio.create_task(pool.stop(grace=10))
    await clock.advance(10)
    report = await stopping
    assert report.cancelled == ("stuck",)
    assert report.queued == ("waiting",)
    assert cancelled == ["stuck"]
    assert rlqueue.processing() == frozenset()  # done() ran for the cancelled key
    assert not pool.running


async def test_drain_bounded_by_grace_period(
    rlqueue: RateLimitingQueue[str], clock: FakeClock
) -> None:
    """A drain that cannot finish within the grace period reports what it did not reach."""
    pool, finished = slow_pool(rlqueue, clock, seconds=10, workers=1)
    for key in ["a", "b", "c"]:
        rlqueue.add(key)
    await clock.settle()
    stopping = asyncio.create_task(pool.stop(grace=15, drain=True))
    await clock.advance(15)
    report = await stopping
    assert finished == ["a"]
    assert report.cancelled == ("b",)
    assert report.queued == ("c",)


async def test_delayed_and_dead_lettered_keys_are_reported(
    rlqueue: RateLimitingQueue[str], clock: FakeClock
) -> None:
    """Keys waiting for a retry or requeue deadline, and dead letters, appear in the report."""

    async def reconcile(key: str) -> Result:
        if key == "later":
            return RequeueAfter(60)
        raise RetryableError(key)

    pool = WorkerPool(queue=rlqueue, reconcile=reconcile, max_retries=0)
    pool.start()
    rlqueue.add("later")
    rlqueue.add("broken")
    await clock.settle()
    report = await pool.stop(grace=1)
    assert report.delayed == ("later",)
    assert report.dead_letters == {"broken"}
    assert report.complete  # nothing queued or cancelled; delayed keys are not due


async def test_report_is_frozen(rlqueue: RateLimitingQueue[str]) -> None:
    """The shutdown report cannot be modified."""

    async def reconcile(key: str) -> Result:
        return Done

    pool = WorkerPool(queue=rlqueue, reconcile=reconcile)
    pool.start()
    report = await pool.stop()
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.queued = ("x",)  # type: ignore[misc]
