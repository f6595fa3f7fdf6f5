"""The worker pool: the reconcile contract mapped onto queue verbs."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable

import pytest

from ovnctl.queue import (
    Done,
    FakeClock,
    PermanentError,
    RateLimitingQueue,
    Reconciler,
    RequeueAfter,
    Result,
    RetryableError,
    WorkerPool,
)

PoolFactory = Callable[..., WorkerPool[str]]


class Scripted:
    """A reconciler that notes when it is called and answers ``answer(n)`` on the n-th call.

    An exception as the answer is raised, anything else returned.
    """

    def __init__(self, clock: FakeClock, answer: Callable[[int], object]) -> None:
        self.clock = clock
        self.answer = answer
        self.times: list[float] = []

    @property
    def calls(self) -> int:
        return len(self.times)

    async def __call__(self, key: str) -> Result:
        self.times.append(self.clock.now())
        outcome = self.answer(self.calls)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[return-value]


@pytest.fixture
async def make_pool(
    rlqueue: RateLimitingQueue[str],
) -> AsyncIterator[PoolFactory]:
    pools: list[WorkerPool[str]] = []

    def factory(reconcile: Reconciler[str], **options: object) -> WorkerPool[str]:
        pool = WorkerPool(queue=rlqueue, reconcile=reconcile, **options)  # type: ignore[arg-type]
        pool.start()
        pools.append(pool)
        return pool

    yield factory
    for pool in pools:
        await pool.stop(grace=0)


async def test_thousand_adds_collapse_into_one_reconcile(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """1,000 adds of one key before a worker takes it give exactly one reconcile."""
    calls: Counter[str] = Counter()

    async def reconcile(key: str) -> Result:
        calls[key] += 1
        return Done

    for _ in range(1000):
        rlqueue.add("a")
    make_pool(reconcile, workers=8)
    await clock.settle()
    assert calls == {"a": 1}


async def test_key_never_runs_twice_at_once(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """With 8 workers and slow reconciles, re-adds of a running key wait for it to finish."""
    running: Counter[str] = Counter()
    most_at_once: Counter[str] = Counter()
    peak_total = 0
    calls: Counter[str] = Counter()

    async def reconcile(key: str) -> Result:
        nonlocal peak_total
        running[key] += 1
        calls[key] += 1
        most_at_once[key] = max(most_at_once[key], running[key])
        peak_total = max(peak_total, sum(running.values()))
        await clock.sleep(1.0)
        running[key] -= 1
        return Done

    make_pool(reconcile, workers=8)
    keys = ["a", "b", "c"]
    for _ in range(20):
        for key in keys:
            rlqueue.add(key)
            rlqueue.add(key)
        await clock.advance(0.25)
    await clock.advance(10)
    assert set(most_at_once.values()) == {1}
    assert peak_total == 3  # the workers did run in parallel, on different keys
    # 5 s of adds, 1 s per reconcile: each key ran about 5 times, not 40.
    assert all(4 <= calls[key] <= 7 for key in keys)


async def test_success_forgets_the_backoff(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """Returning Done (or None) clears the key's failure count."""
    make_pool(Scripted(clock, lambda n: RetryableError("conflict") if n < 3 else None))
    rlqueue.add("a")
    await clock.advance(1)
    assert rlqueue.num_requeues("a") == 0
    assert len(rlqueue) == 0
    assert rlqueue.delayed() == ()


async def test_retryable_error_retries_with_backoff(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """A retryable failure re-runs the key after 5 ms, then 10 ms, then 20 ms."""
    reconcile = Scripted(clock, lambda n: RetryableError("not yet") if n < 4 else Done)
    make_pool(reconcile)
    rlqueue.add("a")
    await clock.advance(1)
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(reconcile.times)]
    assert gaps == [0.005, 0.01, 0.02]


async def test_unknown_exception_is_retryable(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """Any exception that is not a PermanentError is retried."""
    reconcile = Scripted(clock, lambda n: KeyError("surprise") if n == 1 else Done)
    make_pool(reconcile)
    rlqueue.add("a")
    await clock.advance(1)
    assert reconcile.calls == 2


async def test_permanent_error_is_not_retried(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """A PermanentError forgets the key and does not requeue it until a change adds it."""
    reconcile = Scripted(clock, lambda n: PermanentError("bad CIDR"))
    make_pool(reconcile)
    rlqueue.add("a")
    await clock.advance(3600)
    assert reconcile.calls == 1
    assert rlqueue.num_requeues("a") == 0
    assert rlqueue.delayed() == ()
    assert rlqueue.dead_letters() == frozenset()
    rlqueue.add("a")  # the object changed
    await clock.settle()
    assert reconcile.calls == 2


async def test_requeue_after_comes_back_on_time(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """RequeueAfter(t) runs the key again t seconds later and is not counted as a failure."""
    reconcile = Scripted(clock, lambda n: RequeueAfter(30) if n < 3 else Done)
    make_pool(reconcile)
    rlqueue.add("a")
    await clock.advance(100)
    assert reconcile.times == [0.0, 30.0, 60.0]
    assert rlqueue.num_requeues("a") == 0


async def test_requeue_after_zero_runs_again_at_once(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """RequeueAfter(0) re-queues the key immediately (after done)."""
    reconcile = Scripted(clock, lambda n: RequeueAfter(0) if n < 3 else Done)
    make_pool(reconcile)
    rlqueue.add("a")
    await clock.settle()
    assert reconcile.calls == 3


async def test_dead_letter_after_max_retries(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """After max_retries retries the key is dead-lettered; callback once, with the last error."""
    dead: list[tuple[str, BaseException]] = []
    reconcile = Scripted(clock, lambda n: RetryableError(f"attempt {n}"))
    make_pool(reconcile, max_retries=3, on_dead_letter=lambda k, e: dead.append((k, e)))
    rlqueue.add("a")
    await clock.advance(3600)
    assert reconcile.calls == 4  # the first try and three retries
    assert [(key, str(error)) for key, error in dead] == [("a", "attempt 4")]
    assert rlqueue.dead_letters() == {"a"}
    assert rlqueue.num_requeues("a") == 0
    assert rlqueue.delayed() == ()


async def test_dead_letter_is_logged(
    rlqueue: RateLimitingQueue[str],
    clock: FakeClock,
    make_pool: PoolFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Dead-lettering logs a warning naming the key."""
    make_pool(Scripted(clock, lambda n: RetryableError("nope")), max_retries=0)
    with caplog.at_level(logging.WARNING, logger="ovnctl.queue.pool"):
        rlqueue.add("pod-1")
        await clock.settle()
    assert any("dead-lettered" in r.message and "pod-1" in r.message for r in caplog.records)


async def test_async_dead_letter_callback_is_awaited(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """An async callback (posting an Event) is awaited; its failure is logged, not fatal."""
    posted: list[str] = []

    async def post_event(key: str, error: BaseException) -> None:
        await clock.sleep(0.1)
        posted.append(key)
        raise RuntimeError("API down")

    async def reconcile(key: str) -> Result:
        if key == "bad":
            raise RetryableError("nope")
        return Done

    make_pool(reconcile, max_retries=0, on_dead_letter=post_event, workers=1)
    rlqueue.add("bad")
    rlqueue.add("good")
    await clock.advance(1)
    assert posted == ["bad"]
    assert rlqueue.dead_letters() == {"bad"}
    assert len(rlqueue) == 0  # the worker survived the callback's failure and went on


async def test_dead_lettered_key_gets_another_chance_on_change(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """A fresh add of a dead-lettered key runs it again and clears it from the set."""
    broken = True

    async def reconcile(key: str) -> Result:
        if broken:
            raise RetryableError("still broken")
        return Done

    make_pool(reconcile, max_retries=1)
    rlqueue.add("a")
    await clock.advance(60)
    assert rlqueue.dead_letters() == {"a"}
    broken = False
    rlqueue.add("a")
    assert rlqueue.dead_letters() == frozenset()
    await clock.settle()
    assert rlqueue.dead_letters() == frozenset()
    assert len(rlqueue) == 0


async def test_unlimited_retries_never_dead_letter(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """max_retries=None retries forever (with capped backoff)."""
    reconcile = Scripted(clock, lambda n: RetryableError("nope"))
    make_pool(reconcile, max_retries=None)
    rlqueue.add("a")
    await clock.advance(30)
    assert reconcile.calls > 10
    assert rlqueue.dead_letters() == frozenset()


async def test_bad_return_value_counts_as_failure(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """A reconciler returning something that is not a Result is retried like an error."""
    dead: list[BaseException] = []

    async def reconcile(key: str) -> Result:
        return "ok"  # type: ignore[return-value]

    make_pool(reconcile, max_retries=0, on_dead_letter=lambda k, e: dead.append(e))
    rlqueue.add("a")
    await clock.settle()
    assert len(dead) == 1
    assert isinstance(dead[0], TypeError)


async def test_in_flight_lists_running_keys(
    rlqueue: RateLimitingQueue[str], clock: FakeClock, make_pool: PoolFactory
) -> None:
    """in_flight() shows the keys whose reconcile is running."""

    async def reconcile(key: str) -> Result:
        await clock.sleep(1)
        return Done

    pool = make_pool(reconcile, workers=2)
    rlqueue.add("a")
    rlqueue.add("b")
    rlqueue.add("c")
    await clock.settle()
    assert pool.in_flight() == {"a", "b"}
    await clock.advance(1)
    assert pool.in_flight() == {"c"}


async def test_workers_yield_during_long_cpu_only_runs(
    rlqueue: RateLimitingQueue[str], make_pool: PoolFactory
) -> None:
    """Reconciles that never await still let other coroutines run every few keys."""
    progress: list[int] = []

    async def reconcile(key: str) -> Result:
        return Done

    for i in range(1000):
        rlqueue.add(f"k{i}")

    async def observer() -> None:
        progress.append(len(rlqueue))

    make_pool(reconcile, workers=1, yield_every=100)
    seen = asyncio.create_task(observer())
    await seen
    assert 0 < progress[0] < 1000


def test_pool_rejects_nonsense_settings(rlqueue: RateLimitingQueue[str]) -> None:
    """Zero workers, negative max_retries or yield_every < 1 are refused."""

    async def reconcile(key: str) -> Result:
        return Done

    for options in ({"workers": 0}, {"max_retries": -1}, {"yield_every": 0}):
        with pytest.raises(ValueError):  # noqa: PT011
            WorkerPool(queue=rlqueue, reconcile=reconcile, **options)  # type: ignore[arg-type]


def test_shutdown_report_summary_stays_one_short_line() -> None:
    """A report of a huge queue summarises as counts and a few example keys."""
    from ovnctl.queue import ShutdownReport

    report: ShutdownReport[int] = ShutdownReport(
        queued=tuple(range(100_000)), delayed=(), cancelled=(7,), dead_letters=frozenset()
    )
    summary = report.summary()
    assert summary == "100000 queued (0, 1, 2, ...); 1 cancelled (7)"
    assert (
        ShutdownReport(queued=(), delayed=(), cancelled=(), dead_letters=frozenset()).summary()
        == "nothing left"
    )
