"""Invariants under arbitrary interleavings: no key lost, none held twice, none queued twice."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ovnctl.queue import (
    Done,
    FakeClock,
    RateLimitingQueue,
    Result,
    RetryableError,
    WorkerPool,
    WorkQueue,
)

KEYS = ["a", "b", "c", "d"]

# An operation is ("add", key), ("get", _) or ("done", index into the held keys).
operations = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.sampled_from(KEYS)),
        st.tuples(st.just("get"), st.just("")),
        st.tuples(st.just("done"), st.integers(min_value=0, max_value=len(KEYS))),
    ),
    max_size=80,
)


async def run_interleaving(ops: list[tuple[str, object]]) -> None:
    queue: WorkQueue[str] = WorkQueue(clock=FakeClock())
    held: list[str] = []
    seq = 0
    last_add: dict[str, int] = {}
    last_get: dict[str, int] = {}

    def check() -> None:
        queued = queue.queued()
        assert len(queued) == len(set(queued)), "a key is queued twice"
        assert not set(queued) & set(held), "a held key is also queued"
        assert queue.processing() == frozenset(held)
        assert len(held) == len(set(held))
        assert all(queue.is_dirty(key) for key in queued)

    async def take() -> None:
        nonlocal seq
        key = await queue.get()
        assert key not in held, "a key was handed to a second worker"
        seq += 1
        last_get[key] = seq
        held.append(key)

    for op, arg in ops:
        if op == "add":
            assert isinstance(arg, str)
            seq += 1
            last_add[arg] = seq
            queue.add(arg)
        elif op == "get" and len(queue):
            await take()
        elif op == "done" and held:
            assert isinstance(arg, int)
            queue.done(held.pop(arg % len(held)))
        check()

    # Let every worker finish and drain what is left.
    while held or len(queue):
        while held:
            queue.done(held.pop())
        while len(queue):
            await take()
        check()
    for key, added in last_add.items():
        assert last_get.get(key, -1) > added, f"the add of {key!r} at {added} was lost"


@settings(max_examples=400, deadline=None)
@given(ops=operations)
def test_no_key_lost_or_doubled_under_any_interleaving(ops: list[tuple[str, object]]) -> None:
    """For any order of add/get/done, every add is followed by a get and invariants hold."""
    asyncio.run(run_interleaving(ops))


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
async def test_pool_stress_with_random_adds_delays_and_failures(seed: int) -> None:
    """8 workers, random adds, random slow and failing reconciles: every add is reconciled after."""
    rng = random.Random(seed)
    clock = FakeClock()
    queue: RateLimitingQueue[str] = RateLimitingQueue(clock=clock)
    keys = [f"k{i}" for i in range(30)]
    add_seq = 0
    last_add: dict[str, int] = {}
    seen_by_success: dict[str, int] = {}
    running: Counter[str] = Counter()

    async def reconcile(key: str) -> Result:
        running[key] += 1
        assert running[key] == 1, f"{key} runs twice at once"
        started_after = last_add.get(key, 0)
        try:
            await clock.sleep(rng.choice([0.0, 0.01, 0.1, 0.5]))
            if rng.random() < 0.2:
                raise RetryableError("flaky")
        finally:
            running[key] -= 1
        seen_by_success[key] = max(seen_by_success.get(key, 0), started_after)
        return Done

    pool = WorkerPool(queue=queue, reconcile=reconcile, workers=8, max_retries=None)
    pool.start()
    for _ in range(400):
        for _ in range(rng.randint(0, 5)):
            key = rng.choice(keys)
            add_seq += 1
            last_add[key] = add_seq
            queue.add(key)
        await clock.advance(rng.choice([0.0, 0.005, 0.05]))
    await clock.advance(600)
    report = await pool.stop(grace=1)
    assert report.complete
    assert report.delayed == ()
    for key, added in last_add.items():
        assert seen_by_success.get(key) == added, f"last change to {key} never reconciled"
