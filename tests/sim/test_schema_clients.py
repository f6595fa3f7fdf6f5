"""Real clients see schema enforcement: kubectl's "is invalid" message, the Python client's
422 ApiException with its causes, and a Kopf operator handed pruned, defaulted objects."""

# The official client types custom objects as `object` and is itself untyped.
# mypy: disable-error-code="index, no-untyped-call"

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kopf
import pytest
from kubernetes import client, config

from ovnctl.sim import SimProcess, SimServer, ThreadedSimServer
from tests.sim.conftest import CRDS, REPO, WIDGETS, Api, widget_crd
from tests.sim.kopf_operator import registry_for, running
from tests.sim.test_kubectl import KUBECTL

EXAMPLES = Path(__file__).parent / "data" / "kube_ovn_examples.yaml"
KUBE_OVN_CRDS = [REPO / "crds" / "subnet.yaml", REPO / "crds" / "ip.yaml"]
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "integer", "default": 3},
                "mode": {"type": "string", "enum": ["fast", "slow"]},
            },
        }
    },
}

pytestmark = pytest.mark.slow


def run_kubectl(
    sim: SimProcess, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(sim.kubeconfig_path), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture(scope="module")
def kube_ovn_process() -> Iterator[SimProcess]:
    with SimProcess(manifests=KUBE_OVN_CRDS) as process:
        yield process


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_applies_kube_ovn_examples_and_names_a_wrong_field(
    kube_ovn_process: SimProcess,
) -> None:
    """kubectl apply creates the examples; a wrong type prints kubectl's "is invalid" line."""
    result = run_kubectl(kube_ovn_process, "apply", "-f", str(EXAMPLES))
    assert result.returncode == 0, result.stderr
    assert "subnet.kubeovn.io/subnet-gateway created" in result.stdout
    assert "ip.kubeovn.io/static-ip.default created" in result.stdout
    bad = EXAMPLES.read_text().split("---")[0].replace("natOutgoing: true", "natOutgoing: yes!")
    bad = bad.replace("name: subnet-gateway", "name: bad-gateway")
    result = run_kubectl(kube_ovn_process, "apply", "-f", "-", stdin=bad)
    assert result.returncode != 0
    assert (
        'The Subnet "bad-gateway" is invalid: spec.natOutgoing: Invalid value: "string": '
        'spec.natOutgoing in body must be of type boolean: "string"'
    ) in result.stderr


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
def test_kubectl_sees_pruned_and_defaulted_objects(kube_ovn_process: SimProcess) -> None:
    """kubectl apply: unknown field refused (Strict) unless warned; read back pruned, defaulted."""
    result = run_kubectl(kube_ovn_process, "apply", "-f", "-", stdin=json.dumps(widget_crd(SCHEMA)))
    assert result.returncode == 0, result.stderr
    widget: dict[str, Any] = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "k1"},
        "spec": {"mode": "fast", "bogus": 1},
    }
    for _ in range(50):  # discovery of the new kind may lag one request behind
        result = run_kubectl(kube_ovn_process, "apply", "-f", "-", stdin=json.dumps(widget))
        if "strict decoding error" in result.stderr or result.returncode == 0:
            break
    assert result.returncode == 1
    assert result.stderr.strip() == (
        'Error from server (BadRequest): error when creating "STDIN": Widget in version "v1" '
        'cannot be handled as a Widget: strict decoding error: unknown field "spec.bogus"'
    )
    result = run_kubectl(
        kube_ovn_process, "apply", "--validate=warn", "-f", "-", stdin=json.dumps(widget)
    )
    assert result.returncode == 0, result.stderr
    assert 'Warning: unknown field "spec.bogus"' in result.stderr
    spec = json.loads(run_kubectl(kube_ovn_process, "get", "widget", "k1", "-o", "json").stdout)[
        "spec"
    ]
    assert spec == {"mode": "fast", "size": 3}
    # Re-applying goes through a merge patch: refused on "patch" under Strict, as upstream.
    result = run_kubectl(kube_ovn_process, "apply", "-f", "-", stdin=json.dumps(widget))
    assert result.returncode == 1
    assert result.stderr.startswith("The request is invalid: patch: Invalid value: ")
    assert result.stderr.strip().endswith('strict decoding error: unknown field "spec.bogus"')
    # kubectl patch sends no fieldValidation: the server's default, Warn.
    result = run_kubectl(
        kube_ovn_process, "patch", "widget", "k1", "--type", "merge", "-p", '{"spec":{"x":1}}'
    )
    assert result.returncode == 0, result.stderr
    assert 'Warning: unknown field "spec.x"' in result.stderr
    widget["metadata"]["name"] = "k2"
    widget["spec"] = {"mode": "medium"}
    result = run_kubectl(kube_ovn_process, "apply", "-f", "-", stdin=json.dumps(widget))
    assert 'The Widget "k2" is invalid: spec.mode: Unsupported value: "medium"' in result.stderr


@pytest.fixture
def api_client(threaded_sim: ThreadedSimServer) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(threaded_sim.kubeconfig_path))
    yield api
    api.close()


def test_python_client_field_validation(api_client: client.ApiClient) -> None:
    """The Python client's ``field_validation``: Strict raises 400, the default warns in headers."""
    objects = client.CustomObjectsApi(api_client)
    objects.create_cluster_custom_object(
        "apiextensions.k8s.io", "v1", "customresourcedefinitions", widget_crd(SCHEMA)
    )
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "f1"}}
    body["spec"] = {"bogus": True}
    with pytest.raises(client.ApiException) as caught:
        objects.create_cluster_custom_object(
            "example.com", "v1", "widgets", body, field_validation="Strict"
        )
    assert caught.value.status == 400
    assert json.loads(caught.value.body or "{}")["message"].endswith(
        'strict decoding error: unknown field "spec.bogus"'
    )
    _, status, headers = objects.create_cluster_custom_object_with_http_info(
        "example.com", "v1", "widgets", body
    )
    assert status == 201
    assert headers["Warning"] == '299 - "unknown field \\"spec.bogus\\""'


def test_python_client_gets_422_with_causes(api_client: client.ApiClient) -> None:
    """CustomObjectsApi raises ApiException 422; its body's causes name the field."""
    objects = client.CustomObjectsApi(api_client)
    objects.create_cluster_custom_object(
        "apiextensions.k8s.io", "v1", "customresourcedefinitions", widget_crd(SCHEMA)
    )
    body = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "p1"}}
    created = objects.create_cluster_custom_object(
        "example.com", "v1", "widgets", {**body, "spec": {"bogus": True}}
    )
    assert created["spec"] == {"size": 3}
    with pytest.raises(client.ApiException) as caught:
        objects.patch_cluster_custom_object(
            "example.com", "v1", "widgets", "p1", {"spec": {"size": "big"}}
        )
    assert caught.value.status == 422
    answer = json.loads(str(caught.value.body))
    assert answer["reason"] == "Invalid"
    assert answer["details"]["causes"][0]["field"] == "spec.size"


async def test_kopf_handler_sees_defaults_and_no_unknown_fields(sim: SimServer, api: Api) -> None:
    """A Kopf event handler receives the object as stored: defaulted, pruned."""
    await api.post(CRDS, widget_crd(SCHEMA))
    registry = registry_for(sim)
    seen: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

    @kopf.on.event("example.com", "v1", "widgets", registry=registry)
    def on_event(spec: Any, name: str, **_: Any) -> None:
        if name == "k" and not seen.done():
            seen.set_result(dict(spec))

    async with running(registry):
        await api.post(WIDGETS, {"metadata": {"name": "k"}, "spec": {"mode": "slow", "x": 1}})
        spec = await asyncio.wait_for(seen, 20)
    assert spec == {"mode": "slow", "size": 3}
