"""Watch stream phases on their own: query parsing and the wait before a bookmark or deadline."""

from __future__ import annotations

import pytest

from ovnctl.sim.errors import ApiError
from ovnctl.sim.watchstream import event_line, next_wait, parse_watch_query

OBJ = {"metadata": {"name": "a", "namespace": "ns", "labels": {"app": "x"}}}


def test_query_on_one_object_selects_it_by_name() -> None:
    """A watch on a named object matches that name only, on top of any field selector."""
    watch = parse_watch_query({"fieldSelector": "metadata.namespace=ns"}, "a")
    assert watch.fields(OBJ)
    assert not watch.fields({"metadata": {"name": "b", "namespace": "ns"}})
    assert not watch.fields({"metadata": {"name": "a", "namespace": "other"}})


def test_query_defaults() -> None:
    """An empty query: everything matches, from now, no timeout, no bookmarks."""
    watch = parse_watch_query({}, None)
    assert watch.labels(OBJ)
    assert watch.fields(OBJ)
    assert (watch.since, watch.timeout, watch.bookmarks, watch.initial_events_end) == (
        None,
        None,
        False,
        False,
    )


def test_query_reads_versions_timeouts_and_bookmark_flags() -> None:
    """resourceVersion, timeoutSeconds and the bookmark flags are parsed as upstream reads them."""
    watch = parse_watch_query(
        {
            "resourceVersion": "42",
            "timeoutSeconds": "2.5",
            "allowWatchBookmarks": "true",
            "sendInitialEvents": "1",
            "labelSelector": "app=x",
        },
        None,
    )
    assert (watch.since, watch.timeout, watch.bookmarks, watch.initial_events_end) == (
        42,
        2.5,
        True,
        True,
    )
    assert watch.labels(OBJ)
    assert not parse_watch_query({"sendInitialEvents": "true"}, None).initial_events_end


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"resourceVersion": "abc"}, "invalid resourceVersion 'abc'"),
        ({"timeoutSeconds": "soon"}, "invalid timeoutSeconds 'soon'"),
    ],
)
def test_query_refuses_malformed_numbers_with_400(query: dict[str, str], message: str) -> None:
    """A malformed resourceVersion or timeoutSeconds is a 400 naming the value."""
    with pytest.raises(ApiError) as caught:
        parse_watch_query(query, None)
    assert caught.value.code == 400
    assert message in caught.value.status()["message"]


def test_wait_is_the_nearer_of_bookmark_and_deadline_never_negative() -> None:
    """The stream waits until the next bookmark or the deadline, whichever comes first."""
    assert next_wait(10.0, None, None) is None
    assert next_wait(10.0, 11.0, None) == 1.0
    assert next_wait(10.0, 11.0, 10.5) == 0.5
    assert next_wait(10.0, None, 9.0) == 0.0


def test_event_line_is_one_json_line() -> None:
    """An event line is the type and the object's bytes, newline-terminated."""
    assert event_line("ADDED", b'{"a":1}') == b'{"type":"ADDED","object":{"a":1}}\n'


def test_deadline_counts_from_the_stream_opening() -> None:
    """timeoutSeconds counts from when the stream opens; without it only a cut ends the stream."""
    assert parse_watch_query({"timeoutSeconds": "3"}, None).deadline_from(100.0) == 103.0
    assert parse_watch_query({}, None).deadline_from(100.0) is None
