"""Retry policies: how long a failed key waits before it is tried again.

A policy is a separate object with three verbs, as in client-go: ``when(key)``
records a failure and answers the delay, ``forget(key)`` clears the key's
history after a success, ``num_requeues(key)`` says how many failures in a row
it has. The rate-limiting queue asks it on every ``add_rate_limited``; the
worker pool reads ``num_requeues`` to decide when to give up on a key.

The default, :func:`default_rate_limiter`, is client-go's: the longer of a
per-key exponential backoff (5 ms doubling to 1000 s) and an overall token
bucket (10 per second, burst 100). The backoff protects the API server from one
bad key; the bucket from many keys failing at once.

:func:`watch_backoff` is the policy of a failing LIST or WATCH (the reflectors of
:mod:`ovnctl.k8s.reflector`, the controller's and the node agent's), as client-go's
reflector and kube-rs' watcher have it: the same exponential backoff from 0.8 s
to 30 s, each delay stretched by a random factor in [1, 2) (:class:`Jittered`),
and started again from 0.8 s once the key has not failed for two minutes
(:class:`ResetAfterQuiet`). The jitter keeps a fleet of replicas and node agents
from reconnecting in step after an API server restart.
"""

from __future__ import annotations

import random
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar, final

from ovnctl.queue.clock import Clock, RealClock

__all__ = [
    "WATCH_BACKOFF_BASE_S",
    "WATCH_BACKOFF_CAP_S",
    "WATCH_BACKOFF_QUIET_S",
    "ExponentialBackoff",
    "Jittered",
    "MaxOf",
    "RateLimiter",
    "ResetAfterQuiet",
    "TokenBucket",
    "default_rate_limiter",
    "watch_backoff",
]

WATCH_BACKOFF_BASE_S = 0.8
"""client-go's reflector (``NewReflectorWithOptions``) and kube-rs' ``DefaultBackoff``: 800 ms."""
WATCH_BACKOFF_CAP_S = 30.0
"""Both cap the delay before jitter at 30 s."""
WATCH_BACKOFF_QUIET_S = 120.0
"""Both start from the base again after two minutes without a failure."""

K_contra = TypeVar("K_contra", bound=Hashable, contravariant=True)
K = TypeVar("K", bound=Hashable)


class RateLimiter(Protocol[K_contra]):
    """A retry policy."""

    def when(self, key: K_contra) -> float:
        """Record a failure of ``key``; return seconds to wait before retrying it."""
        ...

    def forget(self, key: K_contra) -> None:
        """Clear ``key``'s failure history (it succeeded, or was given up on)."""
        ...

    def num_requeues(self, key: K_contra) -> int:
        """Failures of ``key`` since it was last forgotten."""
        ...


@final
class ExponentialBackoff(Generic[K]):
    """Per-key backoff: ``base * 2**failures``, capped at ``cap`` seconds."""

    def __init__(self, *, base: float = 0.005, cap: float = 1000.0) -> None:
        if base <= 0 or cap < base:
            raise ValueError("need 0 < base <= cap")
        self.base = base
        self.cap = cap
        self._failures: dict[K, int] = {}

    def when(self, key: K) -> float:
        exponent = self._failures.get(key, 0)
        self._failures[key] = exponent + 1
        # Past 2**64 the cap has long been reached; avoids float overflow after
        # a key has failed thousands of times.
        if exponent >= 64:
            return self.cap
        return min(self.base * 2.0**exponent, self.cap)

    def forget(self, key: K) -> None:
        self._failures.pop(key, None)

    def num_requeues(self, key: K) -> int:
        return self._failures.get(key, 0)


@final
class TokenBucket(Generic[K]):
    """An overall limit: ``qps`` tokens per second, up to ``burst`` saved.

    Like golang.org/x/time/rate's reservations: every ``when`` takes a token,
    possibly one not yet earned, and answers how long until it is. So 150 calls
    at once give 100 zeros and then 0.1 s, 0.2 s, ... 5.0 s.
    """

    def __init__(self, *, qps: float = 10.0, burst: int = 100, clock: Clock | None = None) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError("need qps > 0 and burst >= 1")
        self.qps = qps
        self.burst = burst
        self._clock: Clock = clock if clock is not None else RealClock()
        self._tokens = float(burst)
        self._last = self._clock.now()

    def when(self, key: K) -> float:
        now = self._clock.now()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1.0
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.qps

    def forget(self, key: K) -> None:
        # The bucket is shared: one key's success does not refund tokens.
        pass

    def num_requeues(self, key: K) -> int:
        return 0


@final
class MaxOf(Generic[K]):
    """Combines policies: waits the longest any of them asks (client-go's MaxOfRateLimiter)."""

    def __init__(self, *limiters: RateLimiter[K]) -> None:
        if not limiters:
            raise ValueError("need at least one rate limiter")
        self.limiters = limiters

    def when(self, key: K) -> float:
        # Every policy must see the failure, so no short-circuit.
        return max([limiter.when(key) for limiter in self.limiters])

    def forget(self, key: K) -> None:
        for limiter in self.limiters:
            limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        return max(limiter.num_requeues(key) for limiter in self.limiters)


def default_rate_limiter(
    *,
    base: float = 0.005,
    cap: float = 1000.0,
    qps: float = 10.0,
    burst: int = 100,
    clock: Clock | None = None,
) -> MaxOf[K]:
    """client-go's default: max of exponential backoff (5 ms → 1000 s) and a 10 qps / 100 bucket."""
    backoff: ExponentialBackoff[K] = ExponentialBackoff(base=base, cap=cap)
    bucket: TokenBucket[K] = TokenBucket(qps=qps, burst=burst, clock=clock)
    return MaxOf(backoff, bucket)


@final
class Jittered(Generic[K]):
    """Wraps a policy: each delay ``d`` becomes ``d * (1 + jitter * r)``, ``r`` uniform in [0, 1).

    client-go's ``wait.Jitter``, applied after the cap as its ``Backoff.Step``
    does: peers whose backoffs all reached the cap still spread over
    [cap, (1 + jitter) * cap) instead of retrying in step. ``rng`` is injected
    so tests are deterministic (a seeded :class:`random.Random`).
    """

    def __init__(
        self, limiter: RateLimiter[K], *, jitter: float = 1.0, rng: random.Random | None = None
    ) -> None:
        if jitter < 0:
            raise ValueError("need jitter >= 0")
        self.limiter = limiter
        self.jitter = jitter
        self._rng = rng if rng is not None else random.Random()

    def when(self, key: K) -> float:
        delay = self.limiter.when(key)
        return delay * (1.0 + self.jitter * self._rng.random())

    def forget(self, key: K) -> None:
        self.limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        return self.limiter.num_requeues(key)


@final
class ResetAfterQuiet(Generic[K]):
    """Wraps a policy: a key that has not failed for ``quiet`` seconds starts from the base again.

    client-go's ``Backoff.DelayWithReset`` and kube-rs' ``ResetTimerBackoff``:
    the time since the key's previous failure is compared at each new failure,
    so a watch that streamed quietly for longer than ``quiet`` and then broke
    waits the base delay, not the last, long one. Failures in a row, whose
    delays are at most about a minute, never reach the quiet period.
    """

    def __init__(
        self, limiter: RateLimiter[K], *, quiet: float, clock: Clock | None = None
    ) -> None:
        if quiet <= 0:
            raise ValueError("need quiet > 0")
        self.limiter = limiter
        self.quiet = quiet
        self._clock: Clock = clock if clock is not None else RealClock()
        self._last: dict[K, float] = {}

    def when(self, key: K) -> float:
        now = self._clock.now()
        last = self._last.get(key)
        if last is not None and now - last >= self.quiet:
            self.limiter.forget(key)
        self._last[key] = now
        return self.limiter.when(key)

    def forget(self, key: K) -> None:
        self._last.pop(key, None)
        self.limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        return self.limiter.num_requeues(key)


def watch_backoff(
    *,
    base: float = WATCH_BACKOFF_BASE_S,
    cap: float = WATCH_BACKOFF_CAP_S,
    quiet: float = WATCH_BACKOFF_QUIET_S,
    jitter: float = 1.0,
    clock: Clock | None = None,
    rng: random.Random | None = None,
) -> ResetAfterQuiet[K]:
    """A failing LIST/WATCH's policy: 0.8 s doubling to 30 s, jitter x[1, 2), reset after 2 min."""
    backoff: ExponentialBackoff[K] = ExponentialBackoff(base=base, cap=cap)
    return ResetAfterQuiet(Jittered(backoff, jitter=jitter, rng=rng), quiet=quiet, clock=clock)
