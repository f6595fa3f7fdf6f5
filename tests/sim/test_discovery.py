"""Discovery: /api, /apis, group and version documents, /version, /openapi."""

from __future__ import annotations

from ovnctl.sim.discovery import version_priority
from tests.sim.conftest import Api


async def test_core_resource_list(api: Api) -> None:
    """/api/v1 lists core kinds with kind, scope, verbs, short names and status subresources."""
    status, body = await api.get("/api/v1")
    assert status == 200
    resources = {r["name"]: r for r in body["resources"]}
    assert resources["pods"]["kind"] == "Pod"
    assert resources["pods"]["namespaced"] is True
    assert "watch" in resources["pods"]["verbs"]
    assert resources["namespaces"]["namespaced"] is False
    assert resources["namespaces"]["shortNames"] == ["ns"]
    assert "pods/status" in resources
    assert "events" in resources


async def test_api_versions(api: Api) -> None:
    """/api says v1."""
    _, body = await api.get("/api")
    assert body["versions"] == ["v1"]


async def test_groups_include_builtin_and_crd_groups(api: Api) -> None:
    """/apis lists built-in groups and groups of applied CRDs."""
    _, body = await api.get("/apis")
    names = {g["name"] for g in body["groups"]}
    assert {"coordination.k8s.io", "events.k8s.io", "apiextensions.k8s.io"} <= names
    assert {"k8s.cni.cncf.io", "kubevirt.io"} <= names


async def test_crd_group_version_resources(api: Api) -> None:
    """A CRD's group/version document carries plural, kind, scope and short names."""
    _, body = await api.get("/apis/k8s.cni.cncf.io/v1")
    nad = next(r for r in body["resources"] if r["name"] == "network-attachment-definitions")
    assert nad["kind"] == "NetworkAttachmentDefinition"
    assert nad["namespaced"] is True
    assert nad["shortNames"] == ["net-attach-def"]
    _, kubevirt = await api.get("/apis/kubevirt.io/v1")
    names = {r["name"] for r in kubevirt["resources"]}
    assert {"virtualmachines", "virtualmachines/status", "virtualmachineinstances"} <= names


async def test_group_document(api: Api) -> None:
    """/apis/<group> names its versions and the preferred one."""
    status, body = await api.get("/apis/coordination.k8s.io")
    assert status == 200
    assert body["preferredVersion"]["groupVersion"] == "coordination.k8s.io/v1"


async def test_unknown_group_is_404(api: Api) -> None:
    """Unknown groups and versions are 404 Status objects."""
    status, body = await api.get("/apis/nope.example.com/v1")
    assert status == 404
    assert body["kind"] == "Status"


async def test_version_endpoint(api: Api) -> None:
    """/version reports a Kubernetes version."""
    _, body = await api.get("/version")
    assert body["major"] == "1"
    assert body["gitVersion"].startswith("v1.")


async def test_openapi_v2_is_served_and_v3_is_not(api: Api) -> None:
    """/openapi/v2 is an (empty) schema; /openapi/v3 is 404, which kubectl tolerates."""
    status, body = await api.get("/openapi/v2")
    assert status == 200
    assert body["swagger"] == "2.0"
    status, _ = await api.get("/openapi/v3")
    assert status == 404


def test_version_priority_orders_like_kubernetes() -> None:
    """v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > non-standard names."""
    versions = ["foo", "v1alpha1", "v1beta1", "v1", "v1beta2", "v2"]
    assert sorted(versions, key=version_priority) == [
        "v2",
        "v1",
        "v1beta2",
        "v1beta1",
        "v1alpha1",
        "foo",
    ]
