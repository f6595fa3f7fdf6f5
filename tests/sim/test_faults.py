"""Fault knobs: injected 500/429, seeded and optionally sparing watches; latency."""

from __future__ import annotations

import re

import pytest

from ovnctl.sim import Faults, SimServer
from tests.sim.conftest import PODS, Api


async def test_error_rate_one_fails_every_resource_request(sim: SimServer, api: Api) -> None:
    """error_rate=1 answers each resource request with a 500 Status."""
    sim.configure(error_rate=1.0)
    status, body = await api.get(PODS)
    assert status == 500
    assert body["kind"] == "Status"
    status, _ = await api.get("/api/v1")
    assert status == 200  # discovery is never failed


async def test_429_carries_retry_after(sim: SimServer, api: Api) -> None:
    """Injected 429s carry Retry-After and details.retryAfterSeconds."""
    sim.configure(error_rate=1.0, error_code=429, retry_after_s=3)
    async with api.session.get(api.url + PODS) as response:
        assert response.status == 429
        assert response.headers["Retry-After"] == "3"
        body = await response.json()
    assert body["details"]["retryAfterSeconds"] == 3


async def test_watches_are_spared_unless_asked(sim: SimServer, api: Api) -> None:
    """Watches are not failed by default, and are when errors_include_watch is set."""
    sim.configure(error_rate=1.0)
    events = await api.watch("/api/v1/namespaces", until=1)
    assert events[0]["type"] == "ADDED"
    sim.configure(errors_include_watch=True)
    async with api.session.get(api.url + PODS, params={"watch": "true"}) as response:
        assert response.status == 500


def test_seeded_faults_are_reproducible() -> None:
    """The same seed picks the same failing requests."""
    a = Faults(error_rate=0.5, seed=7)
    b = Faults(error_rate=0.5, seed=7)
    picks_a = [a.pick_error(verb="get") for _ in range(50)]
    picks_b = [b.pick_error(verb="get") for _ in range(50)]
    assert picks_a == picks_b
    assert None in picks_a
    assert 500 in picks_a


def test_invalid_knobs_are_rejected_and_leave_settings_unchanged() -> None:
    """Out-of-range or unknown knobs raise and change nothing."""
    faults = Faults()
    with pytest.raises(ValueError, match="error_rate"):
        faults.update(error_rate=2.0, latency_ms=5)
    assert faults.latency_ms == 0
    with pytest.raises(TypeError):
        faults.update(nonsense=1)


@pytest.mark.parametrize(
    ("knob", "value", "message"),
    [
        ("error_rate", 1.5, "error_rate must be within 0..1, got 1.5"),
        ("error_code", 404, "error_code must be 429, 500 or 503, got 404"),
        ("latency_ms", -1, "latency_ms must not be negative, got -1"),
        ("fail_next_watches", -2, "fail_next_watches must not be negative"),
        ("latency_ms", "5", "latency_ms must be a number, got '5'"),
        ("error_code", True, "error_code must be an integer, got True"),
        ("errors_include_watch", 1, "errors_include_watch must be true or false, got 1"),
    ],
)
def test_each_bad_knob_is_named_and_the_old_settings_stay(knob, value, message) -> None:
    """A wrong range or type names the knob; the server keeps serving with its old knobs."""
    faults = Faults(latency_ms=3)
    with pytest.raises(ValueError, match=re.escape(message)):
        faults.update(**{knob: value})
    assert faults == Faults(latency_ms=3)
    assert faults.pick_error(verb="get") is None


async def test_latency_knob_is_applied(sim: SimServer, api: Api) -> None:
    """latency_ms set at run time is served (requests still succeed)."""
    sim.configure(latency_ms=20)
    assert sim.faults.latency_ms == 20
    status, _ = await api.get(PODS)
    assert status == 200
