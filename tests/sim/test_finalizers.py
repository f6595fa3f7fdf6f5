"""Deletion: finalizers, deletionTimestamp, DELETED events and namespace termination."""

from __future__ import annotations

import asyncio

from tests.sim.conftest import NADS, PODS, Api, nad, pod


async def test_delete_without_finalizers_removes_the_object(api: Api) -> None:
    """DELETE of an object without finalizers removes it at once (200)."""
    await api.post(NADS, nad("n1"))
    status, _ = await api.delete(f"{NADS}/n1")
    assert status == 200
    status, _ = await api.get(f"{NADS}/n1")
    assert status == 404


async def test_delete_with_finalizers_sets_deletion_timestamp_and_keeps_it(api: Api) -> None:
    """DELETE with finalizers marks the object (202) and keeps it."""
    body = nad("n1")
    body["metadata"]["finalizers"] = ["ovnctl.io/f"]
    await api.post(NADS, body)
    status, deleted = await api.delete(f"{NADS}/n1")
    assert status == 202
    assert deleted["metadata"]["deletionTimestamp"]
    status, still = await api.get(f"{NADS}/n1")
    assert status == 200
    assert still["metadata"]["deletionTimestamp"] == deleted["metadata"]["deletionTimestamp"]


async def test_removing_last_finalizer_deletes_with_deleted_event(api: Api) -> None:
    """Removing the last finalizer deletes the object and watchers see DELETED."""
    body = nad("n1")
    body["metadata"]["finalizers"] = ["ovnctl.io/f"]
    _, created = await api.post(NADS, body)
    await api.delete(f"{NADS}/n1")
    watch = asyncio.create_task(
        api.watch(NADS, until=3, resourceVersion=created["metadata"]["resourceVersion"])
    )
    await asyncio.sleep(0.05)
    status, _ = await api.patch(f"{NADS}/n1", {"metadata": {"finalizers": None}})
    assert status == 200
    events = await asyncio.wait_for(watch, 5)
    assert [e["type"] for e in events] == ["MODIFIED", "MODIFIED", "DELETED"]
    status, _ = await api.get(f"{NADS}/n1")
    assert status == 404


async def test_no_new_finalizers_while_deleting(api: Api) -> None:
    """Adding a finalizer to an object being deleted is 422."""
    body = nad("n1")
    body["metadata"]["finalizers"] = ["a/f"]
    await api.post(NADS, body)
    await api.delete(f"{NADS}/n1")
    status, _ = await api.patch(f"{NADS}/n1", {"metadata": {"finalizers": ["a/f", "b/f"]}})
    assert status == 422


async def test_delete_precondition_on_resource_version(api: Api) -> None:
    """DeleteOptions preconditions.resourceVersion that is stale gives 409."""
    await api.post(NADS, nad("n1"))
    status, _ = await api.delete(f"{NADS}/n1", {"preconditions": {"resourceVersion": "1"}})
    assert status == 409


async def test_delete_missing_is_404(api: Api) -> None:
    """DELETE of an absent object is 404."""
    status, body = await api.delete(f"{NADS}/absent")
    assert status == 404
    assert body["reason"] == "NotFound"


async def test_delete_namespace_deletes_its_contents(api: Api) -> None:
    """Deleting a namespace deletes the objects in it, then the namespace."""
    await api.post("/api/v1/namespaces", {"metadata": {"name": "team"}})
    await api.post("/api/v1/namespaces/team/pods", pod("p1"))
    status, _ = await api.delete("/api/v1/namespaces/team")
    assert status == 200
    status, _ = await api.get("/api/v1/namespaces/team/pods/p1")
    assert status == 404
    status, _ = await api.get("/api/v1/namespaces/team")
    assert status == 404


async def test_namespace_terminates_while_finalizers_hold_contents(api: Api) -> None:
    """A namespace stays Terminating until its last finalized object goes."""
    await api.post("/api/v1/namespaces", {"metadata": {"name": "team"}})
    held = pod("p1")
    held["metadata"]["finalizers"] = ["x/f"]
    await api.post("/api/v1/namespaces/team/pods", held)
    await api.delete("/api/v1/namespaces/team")
    _, ns = await api.get("/api/v1/namespaces/team")
    assert ns["status"]["phase"] == "Terminating"
    status, _ = await api.post("/api/v1/namespaces/team/pods", pod("p2"))
    assert status == 403
    await api.patch("/api/v1/namespaces/team/pods/p1", {"metadata": {"finalizers": None}})
    status, _ = await api.get("/api/v1/namespaces/team")
    assert status == 404


async def test_delete_collection_with_label_selector(api: Api) -> None:
    """DELETE on a collection deletes only the selected objects."""
    await api.post(PODS, pod("a", app="x"))
    await api.post(PODS, pod("b", app="y"))
    status, body = await api.request("DELETE", PODS, params={"labelSelector": "app=x"})
    assert status == 200
    assert [i["metadata"]["name"] for i in body["items"]] == ["a"]
    _, listed = await api.get(PODS)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["b"]
