"""PATCH dialects: JSON merge, strategic merge (core kinds), JSON patch with test."""

from __future__ import annotations

from ovnctl.sim.patching import json_merge_patch, strategic_merge_patch
from tests.sim.conftest import NADS, PODS, Api, nad, pod


async def test_merge_patch_merges_maps_and_deletes_nulls(api: Api) -> None:
    """JSON merge patch: nested maps merge, null removes a key."""
    await api.post(NADS, nad("n1", a="1", b="2"))
    status, body = await api.patch(f"{NADS}/n1", {"metadata": {"labels": {"a": None, "c": "3"}}})
    assert status == 200
    assert body["metadata"]["labels"] == {"b": "2", "c": "3"}


async def test_merge_patch_with_stale_resource_version_is_409(api: Api) -> None:
    """A resourceVersion in a patch is a precondition: stale means 409 Conflict."""
    _, created = await api.post(NADS, nad("n1"))
    stale = created["metadata"]["resourceVersion"]
    await api.patch(f"{NADS}/n1", {"metadata": {"labels": {"a": "b"}}})
    status, body = await api.patch(
        f"{NADS}/n1", {"metadata": {"resourceVersion": stale, "labels": {}}}
    )
    assert status == 409
    assert body["reason"] == "Conflict"


async def test_patch_carrying_another_uid_is_409(api: Api) -> None:
    """A uid in a patch is a precondition: a recreated namesake is never written to."""
    _, created = await api.post(PODS, pod("p1"))
    uid = created["metadata"]["uid"]
    status, _ = await api.patch(f"{PODS}/p1", {"metadata": {"uid": uid, "labels": {"a": "b"}}})
    assert status == 200
    status, body = await api.patch(
        f"{PODS}/p1", {"metadata": {"uid": "not-" + uid, "labels": {"a": "c"}}}
    )
    assert status == 409
    assert "Precondition failed: UID in precondition" in body["message"]


async def test_strategic_merge_patch_on_pod_labels_and_annotations(api: Api) -> None:
    """Strategic merge patch merges metadata maps on a core kind."""
    await api.post(PODS, pod("p1", a="1"))
    patch = {
        "metadata": {"annotations": {"ovn.kubernetes.io/allocated": "true"}, "labels": {"b": "2"}}
    }
    status, body = await api.patch(f"{PODS}/p1", patch, kind="strategic")
    assert status == 200
    assert body["metadata"]["labels"] == {"a": "1", "b": "2"}
    assert body["metadata"]["annotations"] == {"ovn.kubernetes.io/allocated": "true"}


async def test_strategic_merge_patch_merges_finalizers_as_a_set(api: Api) -> None:
    """Finalizers merge (not replace) and $deleteFromPrimitiveList removes one."""
    body = pod("p1")
    body["metadata"]["finalizers"] = ["a.example/f"]
    await api.post(PODS, body)
    _, merged = await api.patch(
        f"{PODS}/p1", {"metadata": {"finalizers": ["b.example/f"]}}, kind="strategic"
    )
    assert merged["metadata"]["finalizers"] == ["a.example/f", "b.example/f"]
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a.example/f"]}}
    _, removed = await api.patch(f"{PODS}/p1", patch, kind="strategic")
    assert removed["metadata"]["finalizers"] == ["b.example/f"]


async def test_strategic_merge_patch_merges_containers_by_name(api: Api) -> None:
    """Lists with a merge key (containers by name) merge element-wise."""
    await api.post(PODS, pod("p1"))
    patch = {"spec": {"containers": [{"name": "c", "image": "y"}, {"name": "d", "image": "z"}]}}
    _, body = await api.patch(f"{PODS}/p1", patch, kind="strategic")
    assert body["spec"]["containers"] == [{"name": "c", "image": "y"}, {"name": "d", "image": "z"}]


async def test_strategic_merge_patch_is_415_on_custom_resources(api: Api) -> None:
    """Custom resources do not support strategic merge patch (415), as upstream."""
    await api.post(NADS, nad("n1"))
    status, body = await api.patch(
        f"{NADS}/n1", {"metadata": {"labels": {"a": "b"}}}, kind="strategic"
    )
    assert status == 415
    assert body["kind"] == "Status"


async def test_json_patch_applies_operations(api: Api) -> None:
    """JSON patch add/replace/remove operations apply in order."""
    await api.post(NADS, nad("n1", a="1"))
    ops = [
        {"op": "add", "path": "/metadata/labels/b", "value": "2"},
        {"op": "remove", "path": "/metadata/labels/a"},
        {"op": "replace", "path": "/spec/config", "value": "{}"},
    ]
    status, body = await api.patch(f"{NADS}/n1", ops, kind="json")
    assert status == 200
    assert body["metadata"]["labels"] == {"b": "2"}
    assert body["spec"]["config"] == "{}"


async def test_json_patch_failed_test_is_422(api: Api) -> None:
    """A failing JSON patch test op is 422 and changes nothing."""
    _, created = await api.post(NADS, nad("n1"))
    ops = [
        {"op": "test", "path": "/spec/config", "value": "other"},
        {"op": "replace", "path": "/spec/config", "value": "{}"},
    ]
    status, body = await api.patch(f"{NADS}/n1", ops, kind="json")
    assert status == 422
    assert body["reason"] == "Invalid"
    _, after = await api.get(f"{NADS}/n1")
    assert after == created


async def test_json_patch_test_on_resource_version_guards_writes(api: Api) -> None:
    """A test op on resourceVersion gives optimistic concurrency with JSON patch."""
    _, created = await api.post(NADS, nad("n1"))
    rv = created["metadata"]["resourceVersion"]
    ops = [{"op": "test", "path": "/metadata/resourceVersion", "value": rv}]
    ops.append({"op": "add", "path": "/metadata/labels", "value": {"a": "b"}})
    status, _ = await api.patch(f"{NADS}/n1", ops, kind="json")
    assert status == 200
    status, _ = await api.patch(f"{NADS}/n1", ops, kind="json")
    assert status == 422


async def test_unknown_patch_type_is_415(api: Api) -> None:
    """A PATCH with an unknown content type is 415 Unsupported Media Type."""
    await api.post(NADS, nad("n1"))
    status, _ = await api.request("PATCH", f"{NADS}/n1", {}, content_type="text/plain")
    assert status == 415


def test_json_merge_patch_replaces_lists() -> None:
    """Merge patch replaces lists wholesale (RFC 7386)."""
    assert json_merge_patch({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}


def test_strategic_patch_directive_replace() -> None:
    """$patch: replace swaps a map instead of merging it."""
    assert strategic_merge_patch({"m": {"a": 1}}, {"m": {"$patch": "replace", "b": 2}}) == {
        "m": {"b": 2}
    }


def test_strategic_patch_deletes_list_element_by_key() -> None:
    """$patch: delete inside a keyed list removes that element."""
    target = {"conditions": [{"type": "Ready", "status": "True"}, {"type": "X", "status": "False"}]}
    patch = {"conditions": [{"type": "X", "$patch": "delete"}]}
    assert strategic_merge_patch(target, patch) == {
        "conditions": [{"type": "Ready", "status": "True"}]
    }
