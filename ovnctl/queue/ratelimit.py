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
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar, final

from ovnctl.queue.clock import Clock, RealClock

__all__ = [
    "ExponentialBackoff",
    "MaxOf",
    "RateLimiter",
    "TokenBucket",
    "default_rate_limiter",
]

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
