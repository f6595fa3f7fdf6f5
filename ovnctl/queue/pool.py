"""The worker pool: N workers turning keys into reconciles and answers into queue verbs.

This is the bottom of the controller's data flow: handlers add keys to a
:class:`~ovnctl.queue.ratelimiting.RateLimitingQueue`, and each worker here
loops ``get → reconcile(key) → (forget | add_rate_limited | add_after) → done``.
The queue guarantees a key is held by one worker at a time; the pool maps the
reconcile contract (:mod:`ovnctl.queue.results`) onto the queue and decides
when to give up on a key (the dead-letter set).

This is the only module of the package that logs (stdlib ``logging``, logger
injectable): the queue core stays silent and reports through metrics.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic

from ovnctl.queue.fifo import K, QueueShutDown
from ovnctl.queue.ratelimiting import RateLimitingQueue
from ovnctl.queue.results import Done, PermanentError, RequeueAfter, Result

__all__ = ["DeadLetterCallback", "Reconciler", "ShutdownReport", "WorkerPool"]

Reconciler = Callable[[K], Awaitable[Result]]
"""``async def reconcile(key) -> Done | RequeueAfter | None``, or raise."""

DeadLetterCallback = Callable[[K, BaseException], Awaitable[None] | None]
"""Called once per dead-lettering with the key and its last error (e.g. to post an Event)."""

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ShutdownReport(Generic[K]):
    """What a stopped pool left undone."""

    queued: tuple[K, ...]
    """Keys still queued (never started, or re-added while in flight), in FIFO order."""
    delayed: tuple[K, ...]
    """Keys waiting for a retry or requeue deadline, earliest first."""
    cancelled: tuple[K, ...]
    """Keys whose reconcile was still running when the grace period ended, and were cancelled."""
    dead_letters: frozenset[K]
    """Keys given up on and not changed since."""

    @property
    def complete(self) -> bool:
        """Whether every reconcile finished and nothing was queued or cancelled."""
        return not self.queued and not self.cancelled

    def summary(self, *, examples: int = 3) -> str:
        """Counts with a few example keys: fit for one log line however large the queue."""
        parts = []
        for label, keys in (
            ("queued", self.queued),
            ("delayed", self.delayed),
            ("cancelled", self.cancelled),
            ("dead-lettered", tuple(self.dead_letters)),
        ):
            if keys:
                shown = ", ".join(repr(k) for k in keys[:examples])
                more = ", ..." if len(keys) > examples else ""
                parts.append(f"{len(keys)} {label} ({shown}{more})")
        return "; ".join(parts) or "nothing left"


class WorkerPool(Generic[K]):
    """N concurrent workers reconciling keys from one rate-limiting queue."""

    def __init__(
        self,
        *,
        queue: RateLimitingQueue[K],
        reconcile: Reconciler[K],
        workers: int = 4,
        max_retries: int | None = 15,
        on_dead_letter: DeadLetterCallback[K] | None = None,
        logger: logging.Logger | None = None,
        yield_every: int = 64,
    ) -> None:
        if workers < 1:
            raise ValueError("need at least one worker")
        if max_retries is not None and max_retries < 0:
            raise ValueError("max_retries must be >= 0 or None (retry forever)")
        if yield_every < 1:
            raise ValueError("yield_every must be >= 1")
        self.queue = queue
        self.workers = workers
        self.max_retries = max_retries
        self._reconcile = reconcile
        self._on_dead_letter = on_dead_letter
        self._log = logger if logger is not None else _log
        self._yield_every = yield_every
        self._tasks: list[asyncio.Task[None]] = []
        self._held: dict[int, K] = {}

    @property
    def running(self) -> bool:
        """Whether any worker is still running."""
        return any(not task.done() for task in self._tasks)

    def in_flight(self) -> frozenset[K]:
        """Keys whose reconcile is running now."""
        return frozenset(self._held.values())

    def start(self) -> None:
        """Start the workers on the running event loop."""
        if self._tasks:
            raise RuntimeError("the pool was already started")
        name = self.queue.name or "queue"
        self._tasks = [
            asyncio.create_task(self._work(slot), name=f"{name}-worker-{slot}")
            for slot in range(self.workers)
        ]

    async def stop(self, *, grace: float = 30.0, drain: bool = False) -> ShutdownReport[K]:
        """Stop handing out keys, give running reconciles ``grace`` seconds, report what is left.

        With ``drain``, workers first finish every queued key (and re-queued
        held keys) within the same grace period. Delayed keys are never waited for.
        The grace period runs on the queue's clock.
        """
        queue = self.queue
        queue.shutdown(drain=drain)
        cancelled: tuple[K, ...] = ()
        if self._tasks and not await self._wait_workers(grace=grace):
            # Snapshot before cancelling: cancelled workers release their keys.
            cancelled = tuple(self._held.values())
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            self._log.warning(
                "queue %s: %d reconcile(s) cancelled at shutdown: %r",
                queue.name,
                len(cancelled),
                cancelled,
            )
        return ShutdownReport(
            queued=queue.queued(),
            delayed=queue.delayed(),
            cancelled=cancelled,
            dead_letters=queue.dead_letters(),
        )

    async def _wait_workers(self, *, grace: float) -> bool:
        if grace <= 0:
            # No grace: one loop pass lets idle workers see the shutdown and exit.
            await asyncio.sleep(0)
            return all(task.done() for task in self._tasks)
        loop = asyncio.get_running_loop()
        workers: asyncio.Future[list[object]] = asyncio.gather(*self._tasks, return_exceptions=True)
        expired: asyncio.Future[None] = loop.create_future()
        waited: set[asyncio.Future[Any]] = {workers, expired}

        def expire() -> None:
            if not expired.done():
                expired.set_result(None)

        clock = self.queue.clock
        timer = clock.call_at(clock.now() + grace, expire)
        try:
            await asyncio.wait(waited, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            expire()
        return workers.done()

    # -- one worker ------------------------------------------------------------

    async def _work(self, slot: int) -> None:
        queue = self.queue
        reconcile = self._reconcile
        held = self._held
        count = 0
        while True:
            try:
                key = await queue.get()
            except QueueShutDown:
                return
            held[slot] = key
            try:
                try:
                    result = await reconcile(key)
                except PermanentError as exc:
                    # Bad input: retrying cannot fix it; the next change re-adds the key.
                    queue.forget(key)
                    self._log.warning("queue %s: %r failed permanently: %s", queue.name, key, exc)
                except Exception as exc:
                    await self._failed(key, exc)
                else:
                    if result is None or result is Done:
                        queue.forget(key)
                    elif isinstance(result, RequeueAfter):
                        # Not a failure: forget the backoff, come back when asked.
                        queue.forget(key)
                        queue.add_after(key, delay=result.seconds)
                    else:
                        await self._failed(
                            key, TypeError(f"reconcile returned {result!r}, not a Result")
                        )
            finally:
                del held[slot]
                queue.done(key)
            count += 1
            if count >= self._yield_every:
                # get() does not suspend while keys are queued, so a run of
                # reconciles that never await would starve the rest of the
                # controller (watch handlers): let the loop breathe now and then.
                count = 0
                await asyncio.sleep(0)

    async def _failed(self, key: K, exc: Exception) -> None:
        queue = self.queue
        failures = queue.num_requeues(key)
        if self.max_retries is None or failures < self.max_retries:
            queue.add_rate_limited(key)
            self._log.debug(
                "queue %s: %r failed (%d earlier failures), retrying: %r",
                queue.name,
                key,
                failures,
                exc,
            )
            return
        queue.dead_letter(key)
        self._log.warning(
            "queue %s: %r dead-lettered after %d failures; last error: %r",
            queue.name,
            key,
            failures + 1,
            exc,
            exc_info=exc,
        )
        if self._on_dead_letter is None:
            return
        try:
            outcome = self._on_dead_letter(key, exc)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            self._log.exception("queue %s: dead-letter callback failed for %r", queue.name, key)
