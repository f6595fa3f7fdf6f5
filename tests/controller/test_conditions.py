"""merge_conditions: Kubernetes condition semantics, and identical output when nothing changed."""

from __future__ import annotations

from ovnctl.reconcilers.conditions import Verdict, merge_conditions

T0, T1 = "2024-01-01T00:00:00Z", "2024-01-01T00:05:00Z"
READY = Verdict(type="Ready", status=True, reason="SubnetReady")


def test_first_write_stamps_now() -> None:
    """Without previous conditions every verdict gets both times set to now."""
    [c] = merge_conditions(None, [READY], generation=3, now=T0)
    assert c == {
        "type": "Ready",
        "status": "True",
        "reason": "SubnetReady",
        "message": "",
        "lastUpdateTime": T0,
        "lastTransitionTime": T0,
        "observedGeneration": 3,
    }


def test_unchanged_verdict_is_kept_verbatim() -> None:
    """Same status, reason, message and generation: the old condition, times untouched."""
    first = merge_conditions(None, [READY], generation=1, now=T0)
    assert merge_conditions(first, [READY], generation=1, now=T1) == first


def test_new_generation_keeps_times() -> None:
    """A new generation with the same verdict only moves observedGeneration."""
    first = merge_conditions(None, [READY], generation=1, now=T0)
    [c] = merge_conditions(first, [READY], generation=2, now=T1)
    assert (c["observedGeneration"], c["lastUpdateTime"], c["lastTransitionTime"]) == (2, T0, T0)


def test_message_change_moves_update_time_only() -> None:
    """Same status, new reason or message: lastUpdateTime moves, lastTransitionTime stays."""
    first = merge_conditions(
        None,
        [Verdict(type="Ready", status=False, reason="NadNotFound", message="a")],
        generation=1,
        now=T0,
    )
    [c] = merge_conditions(
        first,
        [Verdict(type="Ready", status=False, reason="NadMalformed", message="b")],
        generation=1,
        now=T1,
    )
    assert (c["reason"], c["message"]) == ("NadMalformed", "b")
    assert (c["lastUpdateTime"], c["lastTransitionTime"]) == (T1, T0)


def test_status_flip_moves_both_times() -> None:
    """A status flip stamps both lastTransitionTime and lastUpdateTime."""
    first = merge_conditions(None, [READY], generation=1, now=T0)
    [c] = merge_conditions(
        first,
        [Verdict(type="Ready", status=False, reason="Overlap", message="x")],
        generation=1,
        now=T1,
    )
    assert (c["status"], c["lastUpdateTime"], c["lastTransitionTime"]) == ("False", T1, T1)


def test_order_follows_verdicts_and_others_dropped() -> None:
    """Output has one entry per verdict in verdict order; junk and stale types are dropped."""
    previous = [
        {"type": "Stale", "status": "True"},
        "not a mapping",
        {"type": "Error", "status": "False", "reason": "NoError", "message": ""},
    ]
    verdicts = [READY, Verdict(type="Error", status=False, reason="NoError")]
    result = merge_conditions(previous, verdicts, generation=1, now=T1)  # type: ignore[arg-type]
    assert [c["type"] for c in result] == ["Ready", "Error"]
    # The previous Error had no times to keep: now is stamped.
    assert (result[1]["lastUpdateTime"], result[1]["lastTransitionTime"]) == (T1, T1)
