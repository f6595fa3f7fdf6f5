"""The injected clocks: the fake clock moves only when a test moves it."""

from __future__ import annotations

import asyncio

import pytest

from ovnctl.queue import FakeClock, RealClock


def test_step_fires_due_callbacks_in_deadline_order(clock: FakeClock) -> None:
    """step() fires callbacks due by the new time, earliest first, each at its own time."""
    fired: list[tuple[str, float]] = []
    clock.call_at(2.0, lambda: fired.append(("late", clock.now())))
    clock.call_at(1.0, lambda: fired.append(("early", clock.now())))
    clock.call_at(5.0, lambda: fired.append(("future", clock.now())))
    clock.step(3.0)
    assert fired == [("early", 1.0), ("late", 2.0)]
    assert clock.now() == 3.0
    assert clock.pending == 1


def test_cancelled_callback_does_not_fire(clock: FakeClock) -> None:
    """A cancelled timer is skipped."""
    fired: list[int] = []
    timer = clock.call_at(1.0, lambda: fired.append(1))
    timer.cancel()
    clock.step(2.0)
    assert fired == []
    assert clock.next_deadline is None


def test_time_does_not_go_backwards(clock: FakeClock) -> None:
    """Stepping by a negative amount is refused."""
    with pytest.raises(ValueError, match="forward"):
        clock.step(-1)


async def test_sleep_wakes_when_advanced_past_deadline(clock: FakeClock) -> None:
    """A coroutine sleeping on the fake clock wakes only once time is advanced far enough."""
    sleeper = asyncio.create_task(clock.sleep(10))
    await clock.advance(9.5)
    assert not sleeper.done()
    await clock.advance(0.5)
    assert sleeper.done()


async def test_advance_runs_chains_of_sleeps_inside_the_window(clock: FakeClock) -> None:
    """Sleeps scheduled by woken coroutines still fire if they fall inside the advanced window."""
    times: list[float] = []

    async def ticker() -> None:
        for _ in range(3):
            await clock.sleep(1)
            times.append(clock.now())

    task = asyncio.create_task(ticker())
    await clock.advance(10)
    assert times == [1.0, 2.0, 3.0]
    assert task.done()


async def test_real_clock_is_monotonic_and_sleeps() -> None:
    """The real clock reads monotonic time and its zero-length sleeps and timers run."""
    real = RealClock()
    before = real.now()
    await real.sleep(0)
    await real.sleep_until(before)
    fired = asyncio.Event()
    real.call_at(real.now(), fired.set)
    await asyncio.wait_for(fired.wait(), timeout=5)
    assert real.now() >= before
