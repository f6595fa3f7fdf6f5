"""Bad input gets a Kubernetes Status with the right code, never a 500."""

from __future__ import annotations

from ovnctl.sim import SimServer
from tests.sim.conftest import NADS, PODS, Api, nad, pod


async def test_malformed_json_is_400(api: Api) -> None:
    """A body that is not JSON is 400 BadRequest."""
    status, body = await api.request("POST", PODS, raw=b"{not json")
    assert status == 400
    assert body["kind"] == "Status"
    assert body["reason"] == "BadRequest"


async def test_body_that_is_not_an_object_is_400(api: Api) -> None:
    """A JSON array as an object body is 400."""
    status, _ = await api.post(PODS, [1, 2])
    assert status == 400


async def test_empty_body_is_400(api: Api) -> None:
    """Create without a body is 400."""
    status, _ = await api.request("POST", PODS, raw=b"")
    assert status == 400


async def test_unknown_resource_is_404(api: Api) -> None:
    """An unknown resource is 404 Status."""
    status, body = await api.get("/apis/k8s.cni.cncf.io/v1/namespaces/default/nothings")
    assert status == 404
    assert body["kind"] == "Status"


async def test_kind_mismatch_is_400(api: Api) -> None:
    """A body whose kind disagrees with the URL is 400."""
    body = pod("p")
    body["kind"] = "Service"
    status, answer = await api.post(PODS, body)
    assert status == 400
    assert "kind" in answer["message"]


async def test_api_version_mismatch_is_400(api: Api) -> None:
    """A body whose apiVersion disagrees with the URL is 400."""
    body = nad("n")
    body["apiVersion"] = "k8s.cni.cncf.io/v2"
    status, _ = await api.post(NADS, body)
    assert status == 400


async def test_namespace_mismatch_is_400(api: Api) -> None:
    """A body naming another namespace than the URL is 400."""
    body = pod("p")
    body["metadata"]["namespace"] = "kube-system"
    status, _ = await api.post(PODS, body)
    assert status == 400


async def test_name_mismatch_on_update_is_400(api: Api) -> None:
    """PUT whose body names another object than the URL is 400."""
    _, created = await api.post(PODS, pod("p"))
    created["metadata"]["name"] = "q"
    status, _ = await api.put(f"{PODS}/p", created)
    assert status == 400


async def test_missing_name_is_422(api: Api) -> None:
    """Create without name or generateName is 422 Invalid."""
    status, body = await api.post(PODS, {"metadata": {}, "spec": {}})
    assert status == 422
    assert body["reason"] == "Invalid"


async def test_invalid_name_is_422(api: Api) -> None:
    """A name that is not a DNS subdomain is 422."""
    status, _ = await api.post(PODS, pod("Not_Valid"))
    assert status == 422


async def test_non_string_label_value_is_422(api: Api) -> None:
    """Label values must be strings."""
    body = pod("p")
    body["metadata"]["labels"] = {"a": 1}
    status, _ = await api.post(PODS, body)
    assert status == 422


async def test_unsupported_method_is_405(api: Api) -> None:
    """POST to a named object is 405."""
    await api.post(PODS, pod("p"))
    status, body = await api.post(f"{PODS}/p", pod("p"))
    assert status == 405
    assert body["kind"] == "Status"


async def test_create_without_namespace_for_namespaced_kind_is_405(api: Api) -> None:
    """POST /api/v1/pods (no namespace) is not allowed."""
    status, _ = await api.post("/api/v1/pods", pod("p"))
    assert status == 405


async def test_invalid_crd_is_422(api: Api) -> None:
    """A CRD whose name is not plural.group is 422."""
    crd = {
        "metadata": {"name": "wrong"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "things", "kind": "Thing"},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }
    status, _ = await api.post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    assert status == 422


async def test_bad_query_parameters_are_400(api: Api) -> None:
    """Non-numeric limit, resourceVersion or timeoutSeconds are 400."""
    status, _ = await api.get(PODS, limit="many")
    assert status == 400
    status, _ = await api.get(PODS, watch="true", resourceVersion="abc")
    assert status == 400


async def test_unknown_non_api_path_is_404_from_kmock(api: Api) -> None:
    """Paths outside the Kubernetes API fall through to kmock, which answers 404."""
    status, _ = await api.get("/nothing/here")
    assert status == 404


async def test_kmock_dsl_serves_non_api_paths(sim: SimServer, api: Api) -> None:
    """kmock reactions still answer paths outside the Kubernetes API."""
    sim.emulator["get /hello"] << b'{"hi": true}'
    status, body = await api.get("/hello")
    assert status == 200
    assert body == {"hi": True}
