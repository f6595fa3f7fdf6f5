"""Create, get, replace: server-set metadata, resourceVersion and generation."""

from __future__ import annotations

from tests.sim.conftest import CRDS, NADS, PODS, VMS, WIDGETS, Api, nad, pod, vm, widget_crd


async def test_create_returns_201_with_server_metadata(api: Api) -> None:
    """Create answers 201 and sets uid, creationTimestamp, generation 1 and a resourceVersion."""
    status, body = await api.post(NADS, nad("n1"))
    assert status == 201
    meta = body["metadata"]
    assert meta["uid"]
    assert meta["creationTimestamp"].endswith("Z")
    assert meta["generation"] == 1
    assert int(meta["resourceVersion"]) > 0
    assert meta["namespace"] == "default"


async def test_create_ignores_client_supplied_server_fields(api: Api) -> None:
    """uid, creationTimestamp and deletionTimestamp from the client are replaced."""
    body = nad("n1")
    body["metadata"].update(uid="mine", deletionTimestamp="2020-01-01T00:00:00Z")
    _, created = await api.post(NADS, body)
    assert created["metadata"]["uid"] != "mine"
    assert "deletionTimestamp" not in created["metadata"]


async def test_resource_version_is_cluster_wide_and_monotonic(api: Api) -> None:
    """Every write to any resource takes a larger resourceVersion than the last."""
    _, a = await api.post(NADS, nad("n1"))
    _, b = await api.post(PODS, pod("p1"))
    _, c = await api.patch(f"{NADS}/n1", {"metadata": {"labels": {"x": "y"}}})
    versions = [int(o["metadata"]["resourceVersion"]) for o in (a, b, c)]
    assert versions == sorted(versions)
    assert len(set(versions)) == 3


async def test_create_twice_is_409_already_exists(api: Api) -> None:
    """A second create of the same name is 409 AlreadyExists."""
    await api.post(NADS, nad("n1"))
    status, body = await api.post(NADS, nad("n1"))
    assert status == 409
    assert body["kind"] == "Status"
    assert body["reason"] == "AlreadyExists"


async def test_get_returns_the_stored_object(api: Api) -> None:
    """GET by name returns what create returned."""
    _, created = await api.post(NADS, nad("n1"))
    status, got = await api.get(f"{NADS}/n1")
    assert status == 200
    assert got == created


async def test_get_missing_is_404(api: Api) -> None:
    """GET of an absent object is a 404 Status with reason NotFound."""
    status, body = await api.get(f"{NADS}/absent")
    assert status == 404
    assert body["reason"] == "NotFound"


async def test_generate_name(api: Api) -> None:
    """generateName gets a random suffix, and two creates get two names."""
    body = {"metadata": {"generateName": "web-"}, "spec": {"containers": []}}
    _, first = await api.post(PODS, body)
    _, second = await api.post(PODS, body)
    assert first["metadata"]["name"].startswith("web-")
    assert len(first["metadata"]["name"]) == len("web-") + 5
    assert first["metadata"]["name"] != second["metadata"]["name"]


async def test_put_replaces_the_object(api: Api) -> None:
    """PUT replaces the whole object: fields absent in the body are gone."""
    body = nad("n1", tier="a")
    body["spec"]["extra"] = "x"
    _, created = await api.post(NADS, body)
    created["spec"] = {"config": "{}"}
    created["metadata"]["labels"] = {"tier": "b"}
    status, replaced = await api.put(f"{NADS}/n1", created)
    assert status == 200
    assert replaced["spec"] == {"config": "{}"}
    assert replaced["metadata"]["labels"] == {"tier": "b"}
    assert replaced["metadata"]["generation"] == 2


async def test_put_with_stale_resource_version_is_409_conflict(api: Api) -> None:
    """PUT carrying an old resourceVersion is 409 Conflict."""
    _, created = await api.post(NADS, nad("n1"))
    await api.patch(f"{NADS}/n1", {"metadata": {"labels": {"a": "b"}}})
    status, body = await api.put(f"{NADS}/n1", created)
    assert status == 409
    assert body["reason"] == "Conflict"


async def test_put_of_custom_object_without_resource_version_is_422(api: Api) -> None:
    """Custom objects need metadata.resourceVersion on update, as upstream."""
    await api.post(NADS, nad("n1"))
    status, body = await api.put(f"{NADS}/n1", nad("n1"))
    assert status == 422
    assert body["reason"] == "Invalid"


async def test_put_of_missing_object_is_404(api: Api) -> None:
    """PUT does not create."""
    status, _ = await api.put(
        f"{NADS}/n1", {**nad("n1"), "metadata": {"name": "n1", "resourceVersion": "1"}}
    )
    assert status == 404


async def test_generation_bumps_only_on_spec_change(api: Api) -> None:
    """Metadata changes keep generation; spec changes bump it."""
    await api.post(NADS, nad("n1"))
    _, labelled = await api.patch(f"{NADS}/n1", {"metadata": {"labels": {"a": "b"}}})
    assert labelled["metadata"]["generation"] == 1
    _, changed = await api.patch(f"{NADS}/n1", {"spec": {"config": "{}"}})
    assert changed["metadata"]["generation"] == 2


async def test_status_change_does_not_bump_generation_with_status_subresource(api: Api) -> None:
    """With a status subresource, a status write leaves generation alone."""
    await api.post(VMS, vm("v1"))
    _, updated = await api.patch(f"{VMS}/v1/status", {"status": {"ready": False}})
    assert updated["metadata"]["generation"] == 1


async def test_status_change_bumps_generation_without_status_subresource(api: Api) -> None:
    """Without a status subresource, status is like spec: generation grows."""
    await api.post(CRDS, widget_crd())
    await api.post(WIDGETS, {"metadata": {"name": "w1"}})
    _, updated = await api.patch(f"{WIDGETS}/w1", {"status": {"x": 1}})
    assert updated["metadata"]["generation"] == 2
    assert updated["status"] == {"x": 1}


async def test_no_op_write_keeps_resource_version(api: Api) -> None:
    """A patch that changes nothing returns the same resourceVersion (no event)."""
    _, created = await api.post(NADS, nad("n1", a="b"))
    _, same = await api.patch(f"{NADS}/n1", {"metadata": {"labels": {"a": "b"}}})
    assert same["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_cluster_scoped_objects_have_no_namespace(api: Api) -> None:
    """A namespace object is cluster-scoped: no metadata.namespace."""
    status, body = await api.post(
        "/api/v1/namespaces", {"metadata": {"name": "team-a", "namespace": "x"}}
    )
    assert status == 201
    assert "namespace" not in body["metadata"]
    assert body["status"] == {"phase": "Active"}


async def test_namespaced_create_needs_an_existing_namespace(api: Api) -> None:
    """Creating in a namespace that does not exist is 404, as upstream."""
    status, body = await api.post("/api/v1/namespaces/nowhere/pods", pod("p"))
    assert status == 404
    assert "nowhere" in body["message"]


async def test_dry_run_stores_nothing(api: Api) -> None:
    """dryRun=All answers as if created but stores nothing."""
    status, _ = await api.request("POST", PODS, pod("p1"), params={"dryRun": "All"})
    assert status == 201
    status, _ = await api.get(f"{PODS}/p1")
    assert status == 404


async def test_multi_version_crd_serves_each_version(api: Api) -> None:
    """A CRD with two served versions serves one storage under both apiVersions."""
    status, _ = await api.post(CRDS, widget_crd(versions=("v1", "v1beta1")))
    assert status == 201
    await api.post("/apis/example.com/v1/widgets", {"metadata": {"name": "w"}})
    _, old = await api.get("/apis/example.com/v1beta1/widgets/w")
    assert old["apiVersion"] == "example.com/v1beta1"
    _, group = await api.get("/apis/example.com")
    assert group["preferredVersion"]["version"] == "v1"
