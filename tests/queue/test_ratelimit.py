"""Retry policies: exponential backoff, token bucket, and the max of both."""

from __future__ import annotations

import pytest

from ovnctl.queue import ExponentialBackoff, FakeClock, MaxOf, TokenBucket, default_rate_limiter


def test_backoff_doubles_from_five_milliseconds() -> None:
    """The default backoff sequence is 5 ms, 10 ms, 20 ms, 40 ms ..."""
    backoff: ExponentialBackoff[str] = ExponentialBackoff()
    delays = [backoff.when("a") for _ in range(6)]
    assert delays == pytest.approx([0.005, 0.01, 0.02, 0.04, 0.08, 0.16])
    assert backoff.num_requeues("a") == 6


def test_backoff_is_capped() -> None:
    """The backoff never exceeds its cap, even after very many failures."""
    backoff: ExponentialBackoff[str] = ExponentialBackoff(base=0.005, cap=1000.0)
    delays = [backoff.when("a") for _ in range(2000)]
    assert max(delays) == 1000.0
    assert delays[17] < 1000.0  # 0.005 * 2**17 = 655 s
    assert delays[18] == 1000.0
    assert delays[-1] == 1000.0


def test_backoff_is_per_key_and_forget_resets() -> None:
    """Keys back off independently; forget() starts a key from the base again."""
    backoff: ExponentialBackoff[str] = ExponentialBackoff(base=1.0, cap=100.0)
    assert [backoff.when("a") for _ in range(3)] == [1.0, 2.0, 4.0]
    assert backoff.when("b") == 1.0
    backoff.forget("a")
    assert backoff.num_requeues("a") == 0
    assert backoff.when("a") == 1.0
    assert backoff.num_requeues("b") == 1


def test_backoff_rejects_nonsense() -> None:
    """A non-positive base or a cap below the base is refused."""
    with pytest.raises(ValueError, match="base"):
        ExponentialBackoff(base=0)
    with pytest.raises(ValueError, match="base"):
        ExponentialBackoff(base=2, cap=1)


def test_bucket_allows_a_burst_then_ten_per_second(clock: FakeClock) -> None:
    """The first 100 calls are free; then each waits 0.1 s more than the previous."""
    bucket: TokenBucket[str] = TokenBucket(clock=clock)
    assert [bucket.when(f"k{i}") for i in range(100)] == [0.0] * 100
    assert [bucket.when(f"x{i}") for i in range(3)] == pytest.approx([0.1, 0.2, 0.3])


def test_bucket_refills_at_qps(clock: FakeClock) -> None:
    """After the burst is spent, one second buys ten free calls, not more."""
    bucket: TokenBucket[str] = TokenBucket(qps=10, burst=100, clock=clock)
    for i in range(100):
        bucket.when(f"k{i}")
    clock.step(1.0)
    assert [bucket.when("k") for _ in range(10)] == pytest.approx([0.0] * 10)
    assert bucket.when("k") == pytest.approx(0.1)


def test_bucket_never_saves_more_than_burst(clock: FakeClock) -> None:
    """An idle hour refills the bucket to its burst and no further."""
    bucket: TokenBucket[str] = TokenBucket(qps=10, burst=5, clock=clock)
    clock.step(3600)
    assert [bucket.when("k") for _ in range(6)] == pytest.approx([0, 0, 0, 0, 0, 0.1])


def test_bucket_is_shared_and_has_no_per_key_state(clock: FakeClock) -> None:
    """forget() does not refund tokens and num_requeues is always 0."""
    bucket: TokenBucket[str] = TokenBucket(qps=1, burst=1, clock=clock)
    bucket.when("a")
    bucket.forget("a")
    assert bucket.when("b") == pytest.approx(1.0)
    assert bucket.num_requeues("a") == 0


def test_max_of_takes_the_longer_delay(clock: FakeClock) -> None:
    """The combined policy answers the longest delay of its parts."""
    limiter: MaxOf[str] = MaxOf(
        ExponentialBackoff(base=0.005, cap=1000.0), TokenBucket(qps=10, burst=2, clock=clock)
    )
    # Bucket has two tokens: backoff dominates for the first two calls.
    assert limiter.when("a") == pytest.approx(0.005)
    assert limiter.when("a") == pytest.approx(0.01)
    # Bucket empty: 0.1 s for the next token beats 0.02 s of backoff.
    assert limiter.when("a") == pytest.approx(0.1)
    assert limiter.num_requeues("a") == 3


def test_max_of_forget_reaches_every_policy(clock: FakeClock) -> None:
    """forget() on the combined policy resets the per-key backoff inside it."""
    limiter: MaxOf[str] = default_rate_limiter(clock=clock)
    for _ in range(5):
        limiter.when("a")
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0
    assert limiter.when("a") == pytest.approx(0.005)


def test_default_policy_is_client_gos(clock: FakeClock) -> None:
    """Default: 5 ms to 1000 s backoff combined with a 10 qps, burst 100 bucket."""
    limiter: MaxOf[str] = default_rate_limiter(clock=clock)
    backoff, bucket = limiter.limiters
    assert isinstance(backoff, ExponentialBackoff)
    assert (backoff.base, backoff.cap) == (0.005, 1000.0)
    assert isinstance(bucket, TokenBucket)
    assert (bucket.qps, bucket.burst) == (10.0, 100)
