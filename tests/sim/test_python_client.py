"""The official kubernetes Python client gets typed results from the server."""

# The client's models type every field Optional and custom objects as `object`;
# these tests assert the values are there, so narrowing each access adds noise.
# mypy: disable-error-code="union-attr, index, arg-type, no-untyped-call"

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from ovnctl.sim import ThreadedSimServer


@pytest.fixture
def api_client(threaded_sim: ThreadedSimServer) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(threaded_sim.kubeconfig_path))
    yield api
    api.close()


def test_core_pods_crud_is_typed(api_client: client.ApiClient) -> None:
    """CoreV1Api create/get/list/patch/replace/delete return V1 objects, never None."""
    core = client.CoreV1Api(api_client)
    body = client.V1Pod(
        metadata=client.V1ObjectMeta(name="p1", labels={"app": "a"}),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="x")]),
    )
    created = core.create_namespaced_pod("default", body)
    assert isinstance(created, client.V1Pod)
    assert created.metadata.uid
    got = core.read_namespaced_pod("p1", "default")
    assert got.spec.containers[0].image == "x"
    listed = core.list_namespaced_pod("default", label_selector="app=a")
    assert isinstance(listed, client.V1PodList)
    assert [p.metadata.name for p in listed.items] == ["p1"]
    patched = core.patch_namespaced_pod("p1", "default", {"metadata": {"annotations": {"k": "v"}}})
    assert patched.metadata.annotations == {"k": "v"}
    patched.metadata.labels["app"] = "b"
    replaced = core.replace_namespaced_pod("p1", "default", patched)
    assert replaced.metadata.labels == {"app": "b"}
    deleted = core.delete_namespaced_pod("p1", "default")
    assert isinstance(deleted, client.V1Pod)
    assert deleted.metadata.name == "p1"
    with pytest.raises(ApiException) as info:
        core.read_namespaced_pod("p1", "default")
    assert info.value.status == 404


def test_namespaces_are_typed(api_client: client.ApiClient) -> None:
    """Namespaces round-trip as V1Namespace objects."""
    core = client.CoreV1Api(api_client)
    created = core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="team")))
    assert created.status.phase == "Active"
    names = [n.metadata.name for n in core.list_namespace().items]
    assert "team" in names
    assert "default" in names
    # Client 37 types most deletes as plain objects; upstream sends the Terminating namespace.
    deleted = core.delete_namespace("team")
    assert deleted["kind"] == "Namespace"


def test_conflict_is_an_api_exception_409(api_client: client.ApiClient) -> None:
    """A stale replace raises ApiException with status 409."""
    core = client.CoreV1Api(api_client)
    cm = core.create_namespaced_config_map(
        "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="c"))
    )
    core.patch_namespaced_config_map("c", "default", {"data": {"a": "b"}})
    with pytest.raises(ApiException) as info:
        core.replace_namespaced_config_map("c", "default", cm)
    assert info.value.status == 409


def test_leases_are_typed(api_client: client.ApiClient) -> None:
    """CoordinationV1Api leases: create, get, list, patch, replace, delete."""
    coord = client.CoordinationV1Api(api_client)
    lease = client.V1Lease(
        metadata=client.V1ObjectMeta(name="ovnctl-leader"),
        spec=client.V1LeaseSpec(holder_identity="a", lease_duration_seconds=15),
    )
    created = coord.create_namespaced_lease("kube-system", lease)
    assert isinstance(created, client.V1Lease)
    got = coord.read_namespaced_lease("ovnctl-leader", "kube-system")
    assert got.spec.holder_identity == "a"
    assert len(coord.list_namespaced_lease("kube-system").items) == 1
    patched = coord.patch_namespaced_lease(
        "ovnctl-leader", "kube-system", {"spec": {"holderIdentity": "b"}}
    )
    assert patched.spec.holder_identity == "b"
    patched.spec.holder_identity = "c"
    replaced = coord.replace_namespaced_lease("ovnctl-leader", "kube-system", patched)
    assert replaced.spec.holder_identity == "c"
    deleted = coord.delete_namespaced_lease("ovnctl-leader", "kube-system")
    assert deleted["kind"] == "Status"
    assert deleted["status"] == "Success"
    assert deleted["details"]["name"] == "ovnctl-leader"


def test_custom_objects_crud(api_client: client.ApiClient) -> None:
    """CustomObjectsApi on NetworkAttachmentDefinitions returns dicts, never None."""
    custom = client.CustomObjectsApi(api_client)
    args = ("k8s.cni.cncf.io", "v1", "default", "network-attachment-definitions")
    body = {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": "attachnet"},
        "spec": {"config": '{"type": "kube-ovn"}'},
    }
    created = custom.create_namespaced_custom_object(*args, body)
    assert created["metadata"]["generation"] == 1
    assert custom.get_namespaced_custom_object(*args, "attachnet")["spec"] == body["spec"]
    listed = custom.list_namespaced_custom_object(*args)
    assert [i["metadata"]["name"] for i in listed["items"]] == ["attachnet"]
    patched = custom.patch_namespaced_custom_object(
        *args, "attachnet", {"metadata": {"labels": {"a": "b"}}}
    )
    assert patched["metadata"]["labels"] == {"a": "b"}
    patched["spec"]["config"] = "{}"
    replaced = custom.replace_namespaced_custom_object(*args, "attachnet", patched)
    assert replaced["metadata"]["generation"] == 2
    deleted = custom.delete_namespaced_custom_object(*args, "attachnet")
    assert deleted["metadata"]["name"] == "attachnet"


def test_custom_object_status_subresource(api_client: client.ApiClient) -> None:
    """patch_namespaced_custom_object_status writes status of a KubeVirt VM."""
    custom = client.CustomObjectsApi(api_client)
    args = ("kubevirt.io", "v1", "default", "virtualmachines")
    custom.create_namespaced_custom_object(
        *args, {"metadata": {"name": "vm1"}, "spec": {"running": True}}
    )
    updated = custom.patch_namespaced_custom_object_status(
        *args, "vm1", {"status": {"ready": True}}
    )
    assert updated["status"] == {"ready": True}


def test_watch_stream(api_client: client.ApiClient, threaded_sim: ThreadedSimServer) -> None:
    """kubernetes.watch.Watch streams typed events from a list's resourceVersion."""
    core = client.CoreV1Api(api_client)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    core.create_namespaced_config_map(
        "default", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="w"))
    )
    stream = watch.Watch().stream(
        core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=5
    )
    event = next(iter(stream))
    assert event["type"] == "ADDED"
    assert isinstance(event["object"], client.V1ConfigMap)
    assert event["object"].metadata.name == "w"
    assert threaded_sim.request_log.count(verb="watch", resource="configmaps") == 1
