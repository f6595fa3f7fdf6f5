"""The reflector's retries, watch timeouts and interruptions, on a fake clock with a seeded
generator.

A scripted ``_get`` stands in for the API server and ``_pause`` records each
retry delay and moves the fake clock by it, so nothing here waits for real.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import kubernetes.client
import pytest

from ovnctl.k8s.reflector import Reflector
from ovnctl.k8s.resources import PODS
from ovnctl.queue import FakeClock

# One step of the script: what the fake server does with one request.
Step = Callable[["ScriptedReflector", Mapping[str, str]], Any]


class _Stream:
    """A watch response whose stream yields ``lines`` and then ends."""

    def __init__(self, lines: list[dict[str, Any]]) -> None:
        self._lines = lines

    def stream(self, amt: Any = None, decode_content: bool = False) -> Iterator[bytes]:
        for line in self._lines:
            yield json.dumps(line).encode() + b"\n"

    def release_conn(self) -> None:
        pass

    def shutdown(self) -> None:
        pass


class ScriptedReflector(Reflector[dict[str, Any]]):
    """A reflector whose requests are answered by a script and whose waits are recorded."""

    def __init__(self, script: list[Step], *, clock: FakeClock, seed: int) -> None:
        super().__init__(
            configuration=kubernetes.client.Configuration(),
            resource=PODS,
            reduce=dict,
            on_snapshot=lambda objects: None,
            on_event=lambda kind, obj: None,
            clock=clock,
            rng=random.Random(seed),
        )
        self.clock = clock
        self.script = list(script)
        self.pauses: list[float] = []
        self.watch_timeouts: list[int] = []

    def _get(self, query: Mapping[str, str], *, stream: bool, timeout_s: int = 0) -> Any:
        if stream:
            self.watch_timeouts.append(int(query["timeoutSeconds"]))
        if not self.script:
            self.stop()
            raise RuntimeError("script done")
        return self.script.pop(0)(self, query)

    def _pause(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.clock.step(seconds)


def fail(reflector: ScriptedReflector, query: Mapping[str, str]) -> Any:
    raise RuntimeError("connection refused")


def listed(reflector: ScriptedReflector, query: Mapping[str, str]) -> Any:
    return json.dumps({"items": [], "metadata": {"resourceVersion": "1"}}).encode()


def streams_for(seconds: float) -> Step:
    """A watch that delivers one event and ends after ``seconds`` of (fake) time."""

    def step(reflector: ScriptedReflector, query: Mapping[str, str]) -> Any:
        reflector.clock.step(seconds)
        event = {"type": "ADDED", "object": {"metadata": {"name": "p", "resourceVersion": "2"}}}
        return _Stream([event])

    return step


def closes_at_once(reflector: ScriptedReflector, query: Mapping[str, str]) -> Any:
    return _Stream([])


def _draws(seed: int, n: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.random() for _ in range(n)]


def test_failed_lists_back_off_from_0_8_to_30_seconds_with_jitter() -> None:
    """Eight failed LISTs wait 0.8 s doubling to 30 s, each times 1 + the seeded draw."""
    reflector = ScriptedReflector([fail] * 8, clock=FakeClock(), seed=11)
    reflector.run()
    bases = [0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30.0, 30.0]
    expected = [b * (1 + r) for b, r in zip(bases, _draws(11, 8), strict=True)]
    # The ninth request (script done) also fails; stop() was called, so no pause for it.
    assert reflector.pauses == pytest.approx(expected)


def test_a_watch_that_ran_quietly_resets_the_backoff() -> None:
    """After a watch streamed for 150 s, the next failure waits the base again, not 6.4 s+."""
    script: list[Step] = [fail, fail, fail, listed, streams_for(150.0), fail]
    reflector = ScriptedReflector(script, clock=FakeClock(), seed=5)
    reflector.run()
    bases = [0.8, 1.6, 3.2]
    assert len(reflector.pauses) == 4
    assert [p / b for p, b in zip(reflector.pauses, bases, strict=False)] == pytest.approx(
        [1 + r for r in _draws(5, 3)]
    )
    # Draws 4 and 5 went to the two watches' timeouts; the reset delay is 0.8 s times draw 6's.
    assert reflector.pauses[3] == pytest.approx(0.8 * (1 + _draws(5, 6)[5]))
    assert 0.8 <= reflector.pauses[3] < 1.6


def test_failures_in_a_row_keep_backing_off() -> None:
    """Failures a few seconds apart never count as a quiet period: the delay keeps growing."""
    script: list[Step] = [fail, listed, streams_for(5.0), fail, fail]
    reflector = ScriptedReflector(script, clock=FakeClock(), seed=2)
    reflector.run()
    assert all(b <= p < 2 * b for p, b in zip(reflector.pauses, [0.8, 1.6, 3.2], strict=True))


def test_watch_timeouts_are_drawn_between_five_and_ten_minutes() -> None:
    """Each WATCH asks for int(300 * (1 + draw)) seconds, so watches do not end in step."""
    script: list[Step] = [listed] + [streams_for(300.0)] * 6
    reflector = ScriptedReflector(script, clock=FakeClock(), seed=9)
    reflector.run()
    assert len(reflector.watch_timeouts) == 7  # six streams, then the request that ends it
    assert reflector.watch_timeouts == [int(300 * (1 + r)) for r in _draws(9, 7)]
    assert all(300 <= t < 600 for t in reflector.watch_timeouts)
    assert len(set(reflector.watch_timeouts)) > 1


def test_a_watch_closed_at_once_with_nothing_counts_as_a_failure() -> None:
    """A stream that ends within a second with no event backs off instead of a tight loop."""
    script: list[Step] = [listed, closes_at_once, closes_at_once, closes_at_once]
    reflector = ScriptedReflector(script, clock=FakeClock(), seed=4)
    reflector.run()
    assert len(reflector.pauses) == 3
    assert all(b <= p < 2 * b for p, b in zip(reflector.pauses, [0.8, 1.6, 3.2], strict=True))


class _QuietStream(_Stream):
    """A watch stream of a kind nothing changes in: reading it waits for the watch's timeout."""

    def __init__(self) -> None:
        super().__init__([])
        self.read = False

    def stream(self, amt: Any = None, decode_content: bool = False) -> Iterator[bytes]:
        self.read = True
        return super().stream(amt, decode_content)


@pytest.mark.parametrize("interrupt", ["request_relist", "stop"])
def test_an_interrupt_during_the_watch_request_is_not_lost(interrupt: str) -> None:
    """A re-list or stop asked for while the WATCH request is in flight (no response yet to
    interrupt) does not wait on the new stream: it would wait up to its timeout."""
    quiet = _QuietStream()

    def interrupted_while_requesting(reflector: ScriptedReflector, query: Any) -> Any:
        getattr(reflector, interrupt)()
        return quiet

    script: list[Step] = [listed, interrupted_while_requesting, listed]
    reflector = ScriptedReflector(script, clock=FakeClock(), seed=3)
    reflector.run()
    assert not quiet.read
    assert reflector.lists == (2 if interrupt == "request_relist" else 1)
