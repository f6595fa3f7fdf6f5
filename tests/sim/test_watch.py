"""Watch: initial state, resume from a resourceVersion, bookmarks, 410 Gone, timeouts."""

from __future__ import annotations

import asyncio

from ovnctl.sim import SimServer
from tests.sim.conftest import NADS, PODS, Api, nad, pod


async def test_watch_without_version_starts_with_added_for_existing(api: Api) -> None:
    """A watch without resourceVersion first sends ADDED for every existing object."""
    await api.post(NADS, nad("a"))
    await api.post(NADS, nad("b"))
    events = await api.watch(NADS, until=2)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "a"),
        ("ADDED", "b"),
    ]


async def test_watch_from_version_sends_only_newer_events(api: Api) -> None:
    """Watching from a list's resourceVersion replays only later writes."""
    await api.post(NADS, nad("old"))
    _, listed = await api.get(NADS)
    await api.post(NADS, nad("new"))
    await api.patch(f"{NADS}/new", {"metadata": {"labels": {"a": "b"}}})
    events = await api.watch(NADS, until=2, resourceVersion=listed["metadata"]["resourceVersion"])
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "new"),
        ("MODIFIED", "new"),
    ]


async def test_watch_streams_live_events(api: Api) -> None:
    """Writes after a watch opened arrive on it in order."""
    _, listed = await api.get(NADS)
    watch = asyncio.create_task(
        api.watch(NADS, until=3, resourceVersion=listed["metadata"]["resourceVersion"])
    )
    await asyncio.sleep(0.05)
    await api.post(NADS, nad("x"))
    await api.patch(f"{NADS}/x", {"spec": {"config": "{}"}})
    await api.delete(f"{NADS}/x")
    events = await asyncio.wait_for(watch, 5)
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert versions == sorted(versions)


async def test_deleted_event_carries_the_deletion_version(api: Api) -> None:
    """The DELETED event's object has a new resourceVersion, as upstream."""
    _, created = await api.post(NADS, nad("x"))
    await api.delete(f"{NADS}/x")
    events = await api.watch(NADS, until=1, resourceVersion=created["metadata"]["resourceVersion"])
    assert events[-1]["type"] == "DELETED"
    assert int(events[-1]["object"]["metadata"]["resourceVersion"]) > int(
        created["metadata"]["resourceVersion"]
    )


async def test_watch_with_label_selector_sees_objects_leave_as_deleted(api: Api) -> None:
    """An object whose labels stop matching is DELETED for that watch; matching again is ADDED."""
    _, created = await api.post(NADS, nad("x", app="a"))
    rv = created["metadata"]["resourceVersion"]
    await api.patch(f"{NADS}/x", {"metadata": {"labels": {"app": "b"}}})
    await api.patch(f"{NADS}/x", {"metadata": {"labels": {"app": "a"}}})
    events = await api.watch(NADS, until=2, resourceVersion=rv, labelSelector="app=a")
    assert [e["type"] for e in events] == ["DELETED", "ADDED"]


async def test_watch_with_field_selector(api: Api) -> None:
    """fieldSelector=metadata.name filters the watch."""
    await api.post(NADS, nad("a"))
    await api.post(NADS, nad("b"))
    events = await api.watch(NADS, until=1, fieldSelector="metadata.name=b")
    assert events[0]["object"]["metadata"]["name"] == "b"


async def test_all_namespaces_watch(api: Api) -> None:
    """A watch on /api/v1/pods sees pods of every namespace."""
    await api.post("/api/v1/namespaces", {"metadata": {"name": "other"}})
    await api.post(PODS, pod("a"))
    await api.post("/api/v1/namespaces/other/pods", pod("b"))
    events = await api.watch("/api/v1/pods", until=2)
    assert {e["object"]["metadata"]["namespace"] for e in events} == {"default", "other"}


async def test_bookmarks_when_allowed(api: Api) -> None:
    """allowWatchBookmarks=true yields BOOKMARK events with the current resourceVersion."""
    _, listed = await api.get(NADS)
    events = await api.watch(
        NADS,
        until=1,
        resourceVersion=listed["metadata"]["resourceVersion"],
        allowWatchBookmarks="true",
    )
    assert events[0]["type"] == "BOOKMARK"
    assert events[0]["object"]["kind"] == "NetworkAttachmentDefinition"
    assert int(events[0]["object"]["metadata"]["resourceVersion"]) >= int(
        listed["metadata"]["resourceVersion"]
    )


async def test_timeout_seconds_ends_the_watch(api: Api) -> None:
    """timeoutSeconds ends the stream cleanly."""
    await api.post(NADS, nad("a"))
    events = await asyncio.wait_for(api.watch(NADS, until=100, timeoutSeconds="1"), 10)
    assert [e["type"] for e in events] == ["ADDED"]


async def test_too_old_resource_version_is_410_error_event() -> None:
    """A watch from a version older than the retained history gets ERROR 410 Expired."""
    async with SimServer(history_limit=2) as sim:
        import aiohttp

        async with aiohttp.ClientSession() as session:
            api = Api(session, sim.url)
            _, first = await api.post(PODS, pod("a"))
            for name in ("b", "c", "d"):
                await api.post(PODS, pod(name))
            events = await api.watch(
                PODS, until=5, resourceVersion=first["metadata"]["resourceVersion"]
            )
    assert len(events) == 1
    assert events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410
    assert events[0]["object"]["reason"] == "Expired"


async def test_compact_makes_old_versions_gone(sim: SimServer, api: Api) -> None:
    """After compact(), watching from an earlier version is 410."""
    _, created = await api.post(NADS, nad("a"))
    await api.post(NADS, nad("b"))
    sim.compact()
    events = await api.watch(NADS, until=1, resourceVersion=created["metadata"]["resourceVersion"])
    assert events[0]["type"] == "ERROR"
    assert events[0]["object"]["code"] == 410


async def test_cut_watches_ends_open_streams(sim: SimServer, api: Api) -> None:
    """cut_watches() ends every open stream; clients see the end of the response."""
    watch = asyncio.create_task(api.watch(NADS, until=100, resourceVersion="1"))
    await asyncio.sleep(0.1)
    assert sim.cut_watches() == 1
    assert await asyncio.wait_for(watch, 5) == []


async def test_fail_next_watches_injects_410(sim: SimServer, api: Api) -> None:
    """fail_next_watches(1) answers exactly the next watch with ERROR 410."""
    sim.fail_next_watches(1)
    first = await api.watch(NADS, until=1)
    assert first[0]["type"] == "ERROR"
    assert first[0]["object"]["code"] == 410
    await api.post(NADS, nad("a"))
    second = await api.watch(NADS, until=1)
    assert second[0]["type"] == "ADDED"


async def test_watch_ends_when_its_crd_is_deleted(api: Api) -> None:
    """Deleting a CRD deletes its objects (DELETED events) and ends its watches."""
    await api.post(NADS, nad("a"))
    _, listed = await api.get(NADS)
    watch = asyncio.create_task(
        api.watch(NADS, until=100, resourceVersion=listed["metadata"]["resourceVersion"])
    )
    await asyncio.sleep(0.05)
    crds = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    crd = f"{crds}/network-attachment-definitions.k8s.cni.cncf.io"
    status, _ = await api.delete(crd)
    assert status == 200
    events = await asyncio.wait_for(watch, 5)
    assert [e["type"] for e in events] == ["DELETED"]
    status, _ = await api.get(NADS)
    assert status == 404
