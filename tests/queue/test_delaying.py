"""The delaying layer: add_after on a heap driven by the injected clock."""

from __future__ import annotations

import asyncio

from ovnctl.queue import DelayingQueue, FakeClock


def make(clock: FakeClock) -> DelayingQueue[str]:
    return DelayingQueue(name="delaying", clock=clock)


async def test_key_is_added_when_its_delay_passes(clock: FakeClock) -> None:
    """A delayed key is not queued before its deadline and is queued at it."""
    queue = make(clock)
    queue.add_after("a", delay=1.0)
    clock.step(0.999)
    assert len(queue) == 0
    assert queue.delayed() == ("a",)
    clock.step(0.001)
    assert queue.queued() == ("a",)
    assert queue.delayed() == ()


async def test_non_positive_delay_adds_now(clock: FakeClock) -> None:
    """add_after with delay <= 0 is a plain add."""
    queue = make(clock)
    queue.add_after("a", delay=0)
    queue.add_after("b", delay=-5)
    assert queue.queued() == ("a", "b")
    assert clock.pending == 0


async def test_earlier_deadline_wins(clock: FakeClock) -> None:
    """Re-adding a waiting key with a sooner deadline pulls it in."""
    queue = make(clock)
    queue.add_after("a", delay=10)
    queue.add_after("a", delay=1)
    clock.step(1)
    assert queue.queued() == ("a",)
    clock.step(20)
    assert queue.queued() == ("a",)  # the stale later entry adds nothing


async def test_later_deadline_does_not_push_back(clock: FakeClock) -> None:
    """Re-adding a waiting key with a later deadline keeps the earlier one."""
    queue = make(clock)
    queue.add_after("a", delay=1)
    queue.add_after("a", delay=10)
    assert queue.next_deadline() == 1.0
    clock.step(1)
    assert queue.queued() == ("a",)


async def test_due_keys_are_added_in_deadline_order(clock: FakeClock) -> None:
    """Keys falling due at one step are queued earliest deadline first, ties in add order."""
    queue = make(clock)
    queue.add_after("c", delay=3)
    queue.add_after("a", delay=1)
    queue.add_after("b1", delay=2)
    queue.add_after("b2", delay=2)
    clock.step(5)
    assert queue.queued() == ("a", "b1", "b2", "c")


async def test_due_key_is_de_duplicated_with_queued_key(clock: FakeClock) -> None:
    """A delayed key that falls due while already queued is not queued twice."""
    queue = make(clock)
    queue.add("a")
    queue.add_after("a", delay=1)
    clock.step(1)
    assert queue.queued() == ("a",)


async def test_one_timer_for_many_waiting_keys(clock: FakeClock) -> None:
    """The waiting loop arms a single clock timer for the earliest deadline, not one per key."""
    queue = make(clock)
    for i in range(100):
        queue.add_after(f"k{i}", delay=1 + i)
    assert clock.pending == 1
    clock.step(1000)
    assert len(queue) == 100
    assert clock.pending == 0


async def test_delayed_key_becomes_available_to_a_waiting_getter(clock: FakeClock) -> None:
    """A getter waiting on an empty queue receives a delayed key when time reaches it."""
    queue = make(clock)
    getter = asyncio.create_task(queue.get())
    queue.add_after("a", delay=5)
    await clock.advance(4)
    assert not getter.done()
    await clock.advance(1)
    assert getter.done()
    assert getter.result() == "a"


async def test_shutdown_drops_the_timer_and_keeps_delayed_keys_for_reporting(
    clock: FakeClock,
) -> None:
    """After shutdown, delayed keys are not added but stay visible; add_after is ignored."""
    queue = make(clock)
    queue.add_after("a", delay=1)
    queue.shutdown()
    queue.add_after("b", delay=1)
    clock.step(5)
    assert len(queue) == 0
    assert queue.delayed() == ("a",)
