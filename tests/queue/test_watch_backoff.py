"""The watch retry policy: client-go's reflector backoff, with jitter and a reset when quiet."""

from __future__ import annotations

import random

import pytest

from ovnctl.queue import ExponentialBackoff, FakeClock, Jittered, ResetAfterQuiet, watch_backoff


def _draws(seed: int, n: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.random() for _ in range(n)]


def test_watch_backoff_doubles_from_0_8_to_30_seconds_times_jitter(clock: FakeClock) -> None:
    """Failures in a row wait 0.8, 1.6, 3.2 ... 30 s, each times 1 + a seeded draw in [0, 1)."""
    policy: ResetAfterQuiet[str] = watch_backoff(clock=clock, rng=random.Random(7))
    bases = [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0]
    delays = []
    for _ in bases:
        delays.append(policy.when("pods"))
        clock.step(delays[-1])
    expected = [b * (1 + r) for b, r in zip(bases, _draws(7, len(bases)), strict=True)]
    assert delays == pytest.approx(expected)
    assert all(b <= d < 2 * b for b, d in zip(bases, delays, strict=True))


def test_same_seed_same_delays_other_seed_other_delays(clock: FakeClock) -> None:
    """The jitter is the injected generator's: deterministic per seed, different across peers."""

    def run(seed: int) -> list[float]:
        policy: ResetAfterQuiet[str] = watch_backoff(clock=clock, rng=random.Random(seed))
        return [policy.when("pods") for _ in range(6)]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_agents_at_the_cap_do_not_retry_in_step(clock: FakeClock) -> None:
    """Ten agents whose backoff reached the 30 s cap spread their retries over [30, 60) s."""
    at_cap = []
    for seed in range(10):
        policy: ResetAfterQuiet[str] = watch_backoff(clock=clock, rng=random.Random(seed))
        at_cap.append([policy.when("pods") for _ in range(10)][-1])
    assert all(30.0 <= d < 60.0 for d in at_cap)
    assert len({round(d, 3) for d in at_cap}) == 10


def test_backoff_starts_again_after_two_quiet_minutes(clock: FakeClock) -> None:
    """A key that has not failed for 120 s (a watch that streamed well) waits the base again."""
    policy: ResetAfterQuiet[str] = watch_backoff(clock=clock, jitter=0.0)
    assert [policy.when("pods") for _ in range(4)] == pytest.approx([0.8, 1.6, 3.2, 6.4])
    clock.step(119.0)
    assert policy.when("pods") == pytest.approx(12.8)  # 119 s: not quiet long enough
    clock.step(120.0)
    assert policy.when("pods") == pytest.approx(0.8)
    assert policy.num_requeues("pods") == 1


def test_reset_is_per_key(clock: FakeClock) -> None:
    """One reflector's quiet period does not reset another's backoff."""
    policy: ResetAfterQuiet[str] = watch_backoff(clock=clock, jitter=0.0)
    policy.when("pods")
    clock.step(100.0)
    policy.when("nads")
    policy.when("nads")
    clock.step(30.0)
    assert policy.when("pods") == pytest.approx(0.8)  # 130 s after its last failure
    assert policy.when("nads") == pytest.approx(3.2)  # 30 s after its last failure


def test_forget_clears_both_history_and_quiet_timer(clock: FakeClock) -> None:
    """forget() starts the key from the base, as for the queue's policies."""
    policy: ResetAfterQuiet[str] = watch_backoff(clock=clock, jitter=0.0)
    policy.when("pods")
    policy.when("pods")
    policy.forget("pods")
    assert policy.num_requeues("pods") == 0
    assert policy.when("pods") == pytest.approx(0.8)


def test_jittered_wraps_any_policy() -> None:
    """Jittered multiplies the wrapped policy's delay and passes forget/num_requeues through."""
    inner: ExponentialBackoff[str] = ExponentialBackoff(base=1.0, cap=4.0)
    jittered = Jittered(inner, jitter=0.5, rng=random.Random(3))
    draws = _draws(3, 3)
    assert [jittered.when("a") for _ in range(3)] == pytest.approx(
        [1.0 * (1 + 0.5 * draws[0]), 2.0 * (1 + 0.5 * draws[1]), 4.0 * (1 + 0.5 * draws[2])]
    )
    assert jittered.num_requeues("a") == 3
    jittered.forget("a")
    assert inner.num_requeues("a") == 0


def test_nonsense_parameters_are_refused(clock: FakeClock) -> None:
    """A negative jitter or a non-positive quiet period is refused."""
    inner: ExponentialBackoff[str] = ExponentialBackoff()
    with pytest.raises(ValueError, match="jitter"):
        Jittered(inner, jitter=-0.1)
    with pytest.raises(ValueError, match="quiet"):
        ResetAfterQuiet(inner, quiet=0, clock=clock)
