"""The base work queue: FIFO, de-duplicating, one worker per key.

Every key a watch handler produces lands here (through the delaying and
rate-limiting layers above, which only add verbs). The queue keeps client-go's
three collections, and their invariant is the reason the controller is both
fast and correct:

* ``_queue``: keys waiting for a worker, in FIFO order, each at most once;
* ``_dirty``: keys that are wanted (queued, or re-added while held);
* ``_processing``: keys held by a worker between :meth:`get` and :meth:`done`.

``add`` of a key already dirty is a no-op, so a burst of events collapses into
one reconcile. ``add`` of a held key only marks it dirty; :meth:`done` puts it
back in the queue, so a key is never handed to two workers at once and a change
that arrived mid-reconcile is never lost.

The core is silent (no logging) and single-threaded: it relies on the asyncio
event loop, so there are no locks. Waiting getters park on futures, woken one
per added key, so the hot path creates no tasks.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

from ovnctl.queue.clock import Clock, RealClock
from ovnctl.queue.metrics import MetricsSink, NoopMetricsSink

__all__ = ["K", "QueueShutDown", "WorkQueue"]

K = TypeVar("K", bound=Hashable)


class QueueShutDown(Exception):
    """Raised by :meth:`WorkQueue.get` once the queue hands out no more keys."""


class WorkQueue(Generic[K]):
    """A de-duplicating FIFO of keys where a key is held by at most one worker.

    Shutdown differs from client-go in one deliberate way: :meth:`shutdown`
    stops handing out keys at once (queued keys stay and are reported by the
    worker pool), while :meth:`shutdown_with_drain` keeps handing out the queued
    keys until none are queued or held. Both ignore later adds.
    """

    def __init__(
        self,
        *,
        name: str = "",
        clock: Clock | None = None,
        metrics: MetricsSink | None = None,
    ) -> None:
        self.name = name
        self._clock: Clock = clock if clock is not None else RealClock()
        self._metrics = (metrics if metrics is not None else NoopMetricsSink()).for_queue(
            name=name, clock=self._clock
        )
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._getters: deque[asyncio.Future[None]] = deque()
        self._drained: list[asyncio.Future[None]] = []
        self._shutting_down = False
        self._draining = False

    # -- the verbs -----------------------------------------------------------

    def add(self, key: K) -> None:
        """Want ``key`` processed; no-op if it is already wanted or after shutdown."""
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        self._metrics.add(key)
        if key in self._processing:
            # Held by a worker: done() re-queues it, so it never runs twice at once.
            return
        self._queue.append(key)
        self._wake_one()

    # Layers above override add() with extra bookkeeping for keys that come from
    # outside (changes); their own internal re-adds (timers firing) go through this.
    _enqueue = add

    async def get(self) -> K:
        """Wait for a key and hold it; the caller must call :meth:`done` with it.

        Raises :class:`QueueShutDown` when the queue hands out no more keys.
        """
        queue = self._queue
        while True:
            if self._shutting_down and (not self._draining or (not queue and not self._processing)):
                raise QueueShutDown
            if queue:
                break
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    # We were woken for a key and then cancelled: pass the wake-up
                    # on, or the key would sit in the queue with a getter waiting.
                    self._wake_one()
                else:
                    waiter.cancel()
                raise
        key = queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        self._metrics.get(key)
        return key

    def done(self, key: K) -> None:
        """Release a held key; re-queue it if it was added while held."""
        self._metrics.done(key)
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wake_one()
        elif self._shutting_down and not self._processing:
            # Draining getters wait for held keys that might come back; none will.
            self._wake_all()
            self._notify_drained()

    def __len__(self) -> int:
        """Keys waiting for a worker (not counting held keys)."""
        return len(self._queue)

    def shutdown(self, *, drain: bool = False) -> None:
        """Ignore later adds and stop handing out keys.

        Without ``drain``, getters raise :class:`QueueShutDown` at once and the
        queued keys stay queued. With ``drain``, getters keep receiving the
        queued keys (and held keys re-queued by :meth:`done`) and raise only
        once none are queued or held.
        """
        self._shutting_down = True
        self._draining = drain
        self._wake_all()
        self._notify_drained()

    async def shutdown_with_drain(self) -> None:
        """``shutdown(drain=True)``, then wait until no key is queued or held.

        Bound it with a timeout (the worker pool does): a stuck worker would
        otherwise hold it forever. Needs workers calling :meth:`get` to drain.
        """
        self.shutdown(drain=True)
        if not self._queue and not self._processing:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._drained.append(waiter)
        await waiter

    # -- introspection (for the pool's shutdown report, metrics and tests) ----

    @property
    def clock(self) -> Clock:
        """The clock every layer of this queue (and its pool) reads time from."""
        return self._clock

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def queued(self) -> tuple[K, ...]:
        """The keys waiting for a worker, in the order they will be handed out."""
        return tuple(self._queue)

    def processing(self) -> frozenset[K]:
        """The keys held by workers."""
        return frozenset(self._processing)

    def is_dirty(self, key: K) -> bool:
        """Whether ``key`` is wanted (queued, or re-added while held)."""
        return key in self._dirty

    # -- waking --------------------------------------------------------------

    def _wake_one(self) -> None:
        getters = self._getters
        while getters:
            waiter = getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _wake_all(self) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _notify_drained(self) -> None:
        if self._draining and (self._queue or self._processing):
            return
        drained, self._drained = self._drained, []
        for waiter in drained:
            if not waiter.done():
                waiter.set_result(None)
