"""The base queue: de-duplication, FIFO order, one worker per key, re-queue on done."""

from __future__ import annotations

import asyncio

import pytest

from ovnctl.queue import FakeClock, QueueShutDown, WorkQueue


async def test_keys_come_out_in_fifo_order(queue: WorkQueue[str]) -> None:
    """Keys are handed out in the order they were first added."""
    for key in ["a", "b", "c"]:
        queue.add(key)
    assert [await queue.get() for _ in range(3)] == ["a", "b", "c"]


async def test_repeated_adds_collapse_into_one(queue: WorkQueue[str]) -> None:
    """A key added many times before a worker takes it is queued once."""
    for _ in range(1000):
        queue.add("a")
    queue.add("b")
    assert len(queue) == 2
    assert await queue.get() == "a"
    assert await queue.get() == "b"
    assert len(queue) == 0


async def test_re_add_keeps_original_position(queue: WorkQueue[str]) -> None:
    """Re-adding a queued key does not move it to the back."""
    queue.add("a")
    queue.add("b")
    queue.add("a")
    assert queue.queued() == ("a", "b")


async def test_held_key_is_not_handed_out_again(queue: WorkQueue[str]) -> None:
    """A key added while held is not queued until the holder calls done."""
    queue.add("a")
    assert await queue.get() == "a"
    queue.add("a")
    assert len(queue) == 0
    assert queue.processing() == {"a"}
    assert queue.is_dirty("a")


async def test_key_added_while_held_is_requeued_on_done(queue: WorkQueue[str]) -> None:
    """done() re-queues a key that was added while a worker held it."""
    queue.add("a")
    await queue.get()
    queue.add("a")
    queue.done("a")
    assert queue.queued() == ("a",)
    assert await queue.get() == "a"


async def test_done_without_re_add_forgets_key(queue: WorkQueue[str]) -> None:
    """done() of a key not re-added leaves it neither queued nor held."""
    queue.add("a")
    await queue.get()
    queue.done("a")
    assert len(queue) == 0
    assert queue.processing() == frozenset()
    assert not queue.is_dirty("a")


async def test_get_waits_for_an_add(queue: WorkQueue[str]) -> None:
    """A getter on an empty queue waits and wakes up for the next add."""
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()
    queue.add("a")
    assert await getter == "a"


async def test_each_add_wakes_one_getter(queue: WorkQueue[str]) -> None:
    """Two waiting getters and two adds: each getter receives a different key."""
    getters = [asyncio.create_task(queue.get()) for _ in range(2)]
    await asyncio.sleep(0)
    queue.add("a")
    queue.add("b")
    assert sorted(await asyncio.gather(*getters)) == ["a", "b"]


async def test_cancelled_getter_passes_its_wake_up_on(queue: WorkQueue[str]) -> None:
    """A getter woken and cancelled before it runs does not strand the key."""
    first = asyncio.create_task(queue.get())
    second = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.add("a")  # wakes `first`
    first.cancel()
    assert await second == "a"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_keys_may_be_any_hashable(clock: FakeClock) -> None:
    """Keys are generic: tuples work as well as strings."""
    queue: WorkQueue[tuple[str, str]] = WorkQueue(clock=clock)
    queue.add(("ns", "pod"))
    queue.add(("ns", "pod"))
    assert await queue.get() == ("ns", "pod")
    assert len(queue) == 0


async def test_shutdown_stops_handing_out_keys(queue: WorkQueue[str]) -> None:
    """After shutdown, get raises even if keys are queued, and adds are ignored."""
    queue.add("a")
    queue.shutdown()
    queue.add("b")
    assert queue.queued() == ("a",)
    with pytest.raises(QueueShutDown):
        await queue.get()


async def test_shutdown_wakes_waiting_getters(queue: WorkQueue[str]) -> None:
    """A getter waiting on an empty queue raises QueueShutDown at shutdown."""
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.shutdown()
    with pytest.raises(QueueShutDown):
        await getter


async def test_shutdown_with_drain_hands_out_queued_keys(queue: WorkQueue[str]) -> None:
    """Draining keeps handing out queued keys and returns once none is queued or held."""
    queue.add("a")
    queue.add("b")
    drained = asyncio.create_task(queue.shutdown_with_drain())
    await asyncio.sleep(0)
    queue.add("c")  # ignored: shutting down
    assert await queue.get() == "a"
    assert await queue.get() == "b"
    assert not drained.done()
    queue.done("a")
    await asyncio.sleep(0)
    assert not drained.done()
    queue.done("b")
    await drained
    with pytest.raises(QueueShutDown):
        await queue.get()


async def test_drain_waits_for_held_key_that_may_come_back(queue: WorkQueue[str]) -> None:
    """While draining, a getter waits for a held dirty key rather than exiting."""
    queue.add("a")
    await queue.get()
    queue.add("a")  # dirty while held, before shutdown
    queue.shutdown(drain=True)
    getter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not getter.done()
    queue.done("a")
    assert await getter == "a"
    queue.done("a")
    with pytest.raises(QueueShutDown):
        await queue.get()


async def test_drain_of_idle_queue_returns_at_once(queue: WorkQueue[str]) -> None:
    """shutdown_with_drain on an empty, idle queue returns immediately."""
    await queue.shutdown_with_drain()
    assert queue.shutting_down
