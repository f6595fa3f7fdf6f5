"""The status subresource: status writes never touch spec, main writes never touch status."""

from __future__ import annotations

from tests.sim.conftest import NADS, PODS, VMS, Api, nad, pod, vm


async def test_create_drops_status_of_custom_resource_with_status_subresource(api: Api) -> None:
    """Status sent on create is ignored when the CRD declares /status."""
    _, body = await api.post(VMS, vm("v1"))
    assert "status" not in body


async def test_main_write_does_not_change_status(api: Api) -> None:
    """A patch on the main resource cannot change status."""
    await api.post(VMS, vm("v1"))
    await api.patch(f"{VMS}/v1/status", {"status": {"ready": True}})
    _, body = await api.patch(f"{VMS}/v1", {"spec": {"running": False}, "status": {"ready": False}})
    assert body["status"] == {"ready": True}
    assert body["spec"]["running"] is False


async def test_status_write_does_not_change_spec_or_metadata(api: Api) -> None:
    """A patch on /status changes status only."""
    await api.post(VMS, vm("v1"))
    patch = {
        "spec": {"running": False},
        "metadata": {"labels": {"a": "b"}},
        "status": {"ready": True},
    }
    _, body = await api.patch(f"{VMS}/v1/status", patch)
    assert body["status"] == {"ready": True}
    assert body["spec"]["running"] is True
    assert "labels" not in body["metadata"]


async def test_put_status_replaces_status(api: Api) -> None:
    """PUT on /status replaces the status with a resourceVersion precondition."""
    _, created = await api.post(VMS, vm("v1"))
    created["status"] = {"phase": "Running"}
    status, body = await api.put(f"{VMS}/v1/status", created)
    assert status == 200
    assert body["status"] == {"phase": "Running"}
    status, _ = await api.put(f"{VMS}/v1/status", created)
    assert status == 409


async def test_get_status_subresource(api: Api) -> None:
    """GET on /status returns the object."""
    await api.post(VMS, vm("v1"))
    status, body = await api.get(f"{VMS}/v1/status")
    assert status == 200
    assert body["metadata"]["name"] == "v1"


async def test_status_subresource_absent_without_declaration(api: Api) -> None:
    """Without a declared status subresource, /status is 404."""
    await api.post(NADS, nad("n1"))
    status, _ = await api.patch(f"{NADS}/n1/status", {"status": {"a": 1}})
    assert status == 404


async def test_pod_status_subresource(api: Api) -> None:
    """Pods start Pending and take their status through /status only."""
    _, created = await api.post(PODS, pod("p1"))
    assert created["status"] == {"phase": "Pending"}
    _, body = await api.patch(
        f"{PODS}/p1/status", {"status": {"phase": "Running", "podIP": "10.0.0.5"}}
    )
    assert body["status"]["podIP"] == "10.0.0.5"
    _, body = await api.patch(f"{PODS}/p1", {"status": {"phase": "Failed"}})
    assert body["status"]["phase"] == "Running"
