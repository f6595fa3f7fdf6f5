"""Time, injected: the one place the work queue asks what time it is or waits.

Every layer above (the delaying queue's timer, the token bucket, the metrics'
"how long has this key waited", the worker pool's shutdown timeout) reads time
through a :class:`Clock`. Production uses :class:`RealClock` (the monotonic
clock and the running event loop's timers); tests use :class:`FakeClock` and
step time explicitly, so they assert behaviour, never wall-clock speed.

The primitive is :meth:`Clock.call_at`: a callback at a deadline, cancellable.
Waiting loops are built on it with a future per wait (not a task per key), which
keeps the delaying queue's hot path free of task creation; :meth:`Clock.sleep`
and :meth:`Clock.sleep_until` are derived from it for reconcilers and tests.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol, final

__all__ = ["Clock", "FakeClock", "RealClock", "Timer"]


class Timer(Protocol):
    """A scheduled callback that can be cancelled before it fires."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Monotonic time in seconds, and callbacks or sleeps until a deadline."""

    def now(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer: ...

    async def sleep_until(self, when: float) -> None: ...

    async def sleep(self, delay: float) -> None: ...


@final
class RealClock:
    """The process's monotonic clock and the running event loop's timers."""

    def now(self) -> float:
        return time.monotonic()

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        # The loop's own clock is also time.monotonic() by default, but converting
        # to a relative delay keeps this correct for loops with another clock.
        loop = asyncio.get_running_loop()
        return loop.call_later(max(0.0, when - self.now()), callback)

    async def sleep_until(self, when: float) -> None:
        await asyncio.sleep(max(0.0, when - self.now()))

    async def sleep(self, delay: float) -> None:
        await asyncio.sleep(max(0.0, delay))


@final
class _FakeTimer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, *, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


@final
class FakeClock:
    """A clock that moves only when a test moves it.

    ``step(seconds)`` moves time synchronously and fires the callbacks that fall
    due, in deadline order (each sees ``now()`` equal to its own deadline).
    ``await advance(seconds)`` does the same but lets the event loop run after
    each deadline, so that coroutines woken by it (a worker whose reconcile slept,
    the delaying queue handing a key to a getter) run and may schedule new
    deadlines that still fall inside the advanced window.
    """

    def __init__(self, *, start: float = 0.0, settle_rounds: int = 50) -> None:
        self._now = start
        self._timers: list[tuple[float, int, _FakeTimer]] = []
        self._seq = itertools.count()
        # How many event-loop iterations advance()/settle() give woken coroutines.
        # A woken chain (timer -> future -> task -> queue -> getter -> task) needs
        # a handful; 50 is generous and still costs microseconds.
        self._settle_rounds = settle_rounds

    def now(self) -> float:
        return self._now

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        timer = _FakeTimer(when=when, callback=callback)
        heapq.heappush(self._timers, (when, next(self._seq), timer))
        return timer

    async def sleep_until(self, when: float) -> None:
        if when <= self._now:
            # Still yield once, as asyncio.sleep(0) would: sleeping is a suspension point.
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_at(when, wake)
        try:
            await future
        finally:
            timer.cancel()

    async def sleep(self, delay: float) -> None:
        await self.sleep_until(self._now + delay)

    @property
    def pending(self) -> int:
        """Number of scheduled, not yet fired or cancelled callbacks."""
        return sum(1 for _, _, timer in self._timers if not timer.cancelled)

    @property
    def next_deadline(self) -> float | None:
        """The earliest pending deadline, or None."""
        self._drop_cancelled()
        return self._timers[0][0] if self._timers else None

    def step(self, seconds: float) -> None:
        """Move time forward and fire every callback due by then, synchronously."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        target = self._now + seconds
        while self._fire_next(target):
            pass
        self._now = target

    async def advance(self, seconds: float) -> None:
        """Move time forward deadline by deadline, letting the loop run after each."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        target = self._now + seconds
        await self.settle()
        while self._fire_next(target):
            await self.settle()
        self._now = target
        await self.settle()

    async def settle(self) -> None:
        """Let the event loop run ready callbacks and woken tasks, without moving time."""
        for _ in range(self._settle_rounds):
            await asyncio.sleep(0)

    def _drop_cancelled(self) -> None:
        while self._timers and self._timers[0][2].cancelled:
            heapq.heappop(self._timers)

    def _fire_next(self, target: float) -> bool:
        # Fires all callbacks sharing the earliest deadline if it is <= target.
        self._drop_cancelled()
        if not self._timers or self._timers[0][0] > target:
            return False
        when = self._timers[0][0]
        self._now = max(self._now, when)
        while self._timers and self._timers[0][0] == when:
            _, _, timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                timer.cancelled = True  # fired timers count as spent
                timer.callback()
        return True
