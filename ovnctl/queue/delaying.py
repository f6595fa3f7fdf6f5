"""The delaying layer: ``add_after(key, delay=...)``.

Sits between the rate-limiting layer (which turns a failure into "add this key
again in N seconds") and the base queue. Reconcilers that return
``RequeueAfter(t)`` and retries with backoff both end up here.

Waiting keys live in a heap ordered by deadline, plus a dict of each key's
current deadline. A key that is already waiting keeps the earlier of its two
deadlines (client-go's rule), so a retry scheduled far out is pulled in by a
sooner requeue but never pushed back. One clock timer is armed for the earliest
deadline; when it fires, every due key is added to the base queue (where the
usual de-duplication applies) and the timer is re-armed. That is the waiting
loop, driven by the injected clock, with no task per key.
"""

from __future__ import annotations

import heapq
import itertools

from ovnctl.queue.clock import Clock, Timer
from ovnctl.queue.fifo import K, WorkQueue
from ovnctl.queue.metrics import MetricsSink

__all__ = ["DelayingQueue"]


class DelayingQueue(WorkQueue[K]):
    """A work queue that can also add a key after a delay."""

    def __init__(
        self,
        *,
        name: str = "",
        clock: Clock | None = None,
        metrics: MetricsSink | None = None,
    ) -> None:
        super().__init__(name=name, clock=clock, metrics=metrics)
        # Heap entries carry a sequence number: it breaks deadline ties in FIFO
        # order and means keys themselves never need to be comparable.
        self._heap: list[tuple[float, int, K]] = []
        self._waiting: dict[K, tuple[float, int]] = {}
        self._seq = itertools.count()
        self._timer: Timer | None = None
        self._timer_when: float | None = None

    def add_after(self, key: K, *, delay: float) -> None:
        """Add ``key`` once ``delay`` seconds have passed; ``delay <= 0`` adds now.

        If the key is already waiting, the earlier of the two deadlines wins.
        """
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        when = self._clock.now() + delay
        current = self._waiting.get(key)
        if current is not None and current[0] <= when:
            return
        seq = next(self._seq)
        self._waiting[key] = (when, seq)
        # The old heap entry, if any, stays and is skipped as stale when popped.
        heapq.heappush(self._heap, (when, seq, key))
        self._arm()

    def cancel_delayed(self, key: K) -> None:
        """Forget ``key``'s pending deadline, if any (its heap entry turns stale)."""
        if self._waiting.pop(key, None) is not None:
            self._arm()

    def delayed(self) -> tuple[K, ...]:
        """The keys waiting for their deadline, earliest first."""
        return tuple(key for key, _ in sorted(self._waiting.items(), key=lambda kv: kv[1]))

    def next_deadline(self) -> float | None:
        """The earliest deadline of a waiting key, on the queue's clock."""
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def shutdown(self, *, drain: bool = False) -> None:
        # Delayed keys are not waited for even when draining: they are not due,
        # and a drain finishes the work that is due. The pool reports them.
        self._disarm()
        super().shutdown(drain=drain)

    # -- the waiting loop ----------------------------------------------------

    def _drop_stale(self) -> None:
        heap, waiting = self._heap, self._waiting
        while heap:
            when, seq, key = heap[0]
            if waiting.get(key) == (when, seq):
                return
            heapq.heappop(heap)

    def _arm(self) -> None:
        self._drop_stale()
        if not self._heap:
            self._disarm()
            return
        when = self._heap[0][0]
        if self._timer is not None and self._timer_when == when:
            return
        self._disarm()
        self._timer = self._clock.call_at(when, self._fire)
        self._timer_when = when

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._timer_when = None

    def _fire(self) -> None:
        self._timer = None
        self._timer_when = None
        if self._shutting_down:
            return
        now = self._clock.now()
        heap, waiting = self._heap, self._waiting
        while heap and heap[0][0] <= now:
            when, seq, key = heapq.heappop(heap)
            if waiting.get(key) == (when, seq):
                del waiting[key]
                self._enqueue(key)
        self._arm()
