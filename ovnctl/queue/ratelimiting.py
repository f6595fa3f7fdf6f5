"""The rate-limiting layer: ``add_rate_limited``, ``forget``, and the dead-letter set.

The worker pool talks to this layer: after a retryable failure it calls
:meth:`RateLimitingQueue.add_rate_limited`, which asks the retry policy
(:mod:`ovnctl.queue.ratelimit`) how long to wait and hands the key to the
delaying layer; after a success it calls :meth:`RateLimitingQueue.forget`.

The dead-letter set lives here rather than in the pool because it must see
every fresh :meth:`add` from a change: a key the pool gave up on gets another
chance when something about it changes, and leaves the set. Re-adds scheduled
by the queue itself (delays expiring) are not changes and do not count.
"""

from __future__ import annotations

from ovnctl.queue.clock import Clock
from ovnctl.queue.delaying import DelayingQueue
from ovnctl.queue.fifo import K
from ovnctl.queue.metrics import MetricsSink
from ovnctl.queue.ratelimit import RateLimiter, default_rate_limiter

__all__ = ["RateLimitingQueue"]


class RateLimitingQueue(DelayingQueue[K]):
    """A delaying queue with a retry policy and a dead-letter set."""

    def __init__(
        self,
        *,
        name: str = "",
        clock: Clock | None = None,
        metrics: MetricsSink | None = None,
        rate_limiter: RateLimiter[K] | None = None,
    ) -> None:
        super().__init__(name=name, clock=clock, metrics=metrics)
        self.rate_limiter: RateLimiter[K] = (
            rate_limiter if rate_limiter is not None else default_rate_limiter(clock=self._clock)
        )
        self._dead: set[K] = set()

    def add(self, key: K) -> None:
        """Want ``key`` processed (a change); a dead-lettered key gets another chance."""
        if self._dead and key in self._dead and not self._shutting_down:
            self._dead.discard(key)
            self._metrics.dead_letters(current=len(self._dead))
        super().add(key)

    def add_rate_limited(self, key: K) -> None:
        """Add ``key`` again after the delay the retry policy gives for its next failure."""
        if self._shutting_down:
            return
        self._metrics.retry()
        self.add_after(key, delay=self.rate_limiter.when(key))

    def forget(self, key: K) -> None:
        """Clear ``key``'s failure history (after success, or when giving up on it)."""
        self.rate_limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        """Failures of ``key`` since it was last forgotten."""
        return self.rate_limiter.num_requeues(key)

    def dead_letter(self, key: K) -> None:
        """Give up on ``key`` until a change adds it again: forget it and remember it.

        A delayed re-add still pending for it (a ``RequeueAfter``, a retry) is
        dropped: only a change brings a dead-lettered key back.
        """
        self.rate_limiter.forget(key)
        self.cancel_delayed(key)
        self._dead.add(key)
        self._metrics.dead_lettered(current=len(self._dead))

    def dead_letters(self) -> frozenset[K]:
        """Keys given up on and not changed since."""
        return frozenset(self._dead)

    def done(self, key: K) -> None:
        # A change that arrived while the key's last, failing attempt ran is a
        # fresh chance too: the key is dirty and is about to be re-queued.
        if self._dead and key in self._dead and key in self._dirty:
            self._dead.discard(key)
            self._metrics.dead_letters(current=len(self._dead))
        super().done(key)
