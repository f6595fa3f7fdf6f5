"""The rate-limiting layer: add_rate_limited, forget, and the dead-letter set."""

from __future__ import annotations

from ovnctl.queue import ExponentialBackoff, FakeClock, RateLimitingQueue


async def test_add_rate_limited_waits_the_backoff(rlqueue: RateLimitingQueue[str]) -> None:
    """Each rate-limited re-add waits twice as long as the previous one."""
    clock = rlqueue.clock
    assert isinstance(clock, FakeClock)
    rlqueue.add_rate_limited("a")
    assert rlqueue.next_deadline() == 0.005
    clock.step(0.005)
    assert rlqueue.queued() == ("a",)
    await rlqueue.get()
    rlqueue.add_rate_limited("a")  # while held: retried after 10 ms, then re-queued on done
    rlqueue.done("a")
    assert rlqueue.next_deadline() == 0.005 + 0.01
    assert rlqueue.num_requeues("a") == 2


async def test_forget_resets_the_backoff(rlqueue: RateLimitingQueue[str]) -> None:
    """After forget() the next failure waits the base delay again."""
    for _ in range(4):
        rlqueue.add_rate_limited("a")
    rlqueue.forget("a")
    assert rlqueue.num_requeues("a") == 0
    rlqueue.add_rate_limited("b")
    rlqueue.add_rate_limited("a")
    assert rlqueue.delayed() == ("a", "b")  # both at 5 ms; earlier heap entry for "a" kept


async def test_custom_policy_is_used(clock: FakeClock) -> None:
    """An injected policy decides the retry delay."""
    queue: RateLimitingQueue[str] = RateLimitingQueue(
        clock=clock, rate_limiter=ExponentialBackoff(base=2.0, cap=8.0)
    )
    queue.add_rate_limited("a")
    assert queue.next_deadline() == 2.0


async def test_dead_letter_forgets_and_remembers(rlqueue: RateLimitingQueue[str]) -> None:
    """dead_letter() resets the key's failures and lists it as given up on."""
    rlqueue.add_rate_limited("a")
    rlqueue.dead_letter("a")
    assert rlqueue.num_requeues("a") == 0
    assert rlqueue.dead_letters() == {"a"}


async def test_dead_letter_drops_a_pending_delayed_re_add(rlqueue: RateLimitingQueue[str]) -> None:
    """A key given up on is not brought back by a delay that was still pending for it."""
    clock = rlqueue.clock
    assert isinstance(clock, FakeClock)
    rlqueue.add_after("a", delay=1.0)  # say, a RequeueAfter or a usage refresh
    rlqueue.add_rate_limited("b")
    rlqueue.dead_letter("a")
    assert rlqueue.delayed() == ("b",)
    clock.step(5.0)
    assert rlqueue.queued() == ("b",)
    assert rlqueue.dead_letters() == {"a"}


async def test_fresh_add_takes_key_out_of_dead_letters(rlqueue: RateLimitingQueue[str]) -> None:
    """A change (plain add) gives a dead-lettered key another chance."""
    rlqueue.dead_letter("a")
    rlqueue.add("a")
    assert rlqueue.dead_letters() == frozenset()
    assert rlqueue.queued() == ("a",)


async def test_change_during_last_attempt_counts_as_fresh_chance(
    rlqueue: RateLimitingQueue[str],
) -> None:
    """A key re-added while its failing last attempt ran leaves the dead-letter set on done."""
    rlqueue.add("a")
    await rlqueue.get()
    rlqueue.add("a")  # a change arrives mid-reconcile
    rlqueue.dead_letter("a")  # the pool gives up on the attempt that was running
    assert rlqueue.dead_letters() == {"a"}
    rlqueue.done("a")
    assert rlqueue.dead_letters() == frozenset()
    assert rlqueue.queued() == ("a",)


async def test_timer_re_add_is_not_a_change(rlqueue: RateLimitingQueue[str]) -> None:
    """A delayed key falling due does not clear the dead-letter set (only changes do)."""
    clock = rlqueue.clock
    assert isinstance(clock, FakeClock)
    rlqueue.add_after("a", delay=1)
    rlqueue.dead_letter("a")
    clock.step(1)
    assert rlqueue.dead_letters() == {"a"}


async def test_add_rate_limited_is_ignored_after_shutdown(rlqueue: RateLimitingQueue[str]) -> None:
    """No retries are scheduled once the queue is shutting down."""
    rlqueue.shutdown()
    rlqueue.add_rate_limited("a")
    assert rlqueue.delayed() == ()
    assert rlqueue.num_requeues("a") == 0
