"""Admission webhooks as real clients see them: kubectl, the official Python client, Kopf.

The server and the webhook run on the test's event loop; kubectl runs as a
subprocess and the (blocking) Python client in a worker thread, so the loop
keeps serving both while they wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import kopf
import kubernetes
import pytest
import trustme
from kubernetes.client.exceptions import ApiException

from ovnctl.sim import SimServer
from tests.sim.conftest import NADS, Api, nad
from tests.sim.kopf_operator import registry_for, running
from tests.sim.webhook_server import VWC, HookServer, validating_configuration, webhook

KUBECTL = os.environ.get("OVNCTL_SIM_KUBECTL") or shutil.which("kubectl")

pytestmark = pytest.mark.slow

NAD_YAML = """\
apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata:
  name: {name}
  namespace: default
spec:
  config: '{{"type": "kube-ovn"}}'
"""


def _deny_bad(request: dict[str, Any]) -> dict[str, Any]:
    """Refuse NADs named ``bad-*`` (403 Forbidden), warn about every one."""
    name = request["object"]["metadata"]["name"] if request["object"] else request["name"]
    response: dict[str, Any] = {"allowed": not name.startswith("bad"), "warnings": [f"saw {name}"]}
    if name.startswith("bad"):
        response["status"] = {
            "code": 403,
            "reason": "Forbidden",
            "message": "bad names are refused",
        }
    return response


@pytest.fixture
async def guarded(sim: SimServer, api: Api) -> AsyncIterator[HookServer]:
    """A sim whose NAD writes are checked by :func:`_deny_bad` through a Service."""
    async with HookServer() as hooks:
        hooks.handlers["/nads"] = _deny_bad
        sim.set_service_endpoint("default", "hooks", "127.0.0.1", hooks.port)
        config = webhook(
            "nads.ovnctl.test",
            {
                "service": {"namespace": "default", "name": "hooks", "path": "/nads"},
                "caBundle": hooks.ca_bundle,
            },
        )
        status, body = await api.post(VWC, validating_configuration("nads", config))
        assert status == 201, body
        yield hooks


async def _kubectl(sim: SimServer, *args: str, stdin: str) -> tuple[int, str, str]:
    assert KUBECTL is not None
    process = await asyncio.create_subprocess_exec(
        KUBECTL,
        "--kubeconfig",
        str(sim.kubeconfig_path),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
    return process.returncode or 0, out.decode(), err.decode()


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
async def test_kubectl_prints_the_denial_and_the_warnings(
    sim: SimServer, guarded: HookServer
) -> None:
    """kubectl apply shows ``admission webhook ... denied the request`` and ``Warning:`` lines."""
    code, out, err = await _kubectl(sim, "apply", "-f", "-", stdin=NAD_YAML.format(name="good"))
    assert code == 0, err
    assert "created" in out
    assert "Warning: saw good" in err
    code, out, err = await _kubectl(sim, "create", "-f", "-", stdin=NAD_YAML.format(name="bad-one"))
    assert code != 0
    assert "Warning: saw bad-one" in err
    assert (
        'Error from server (Forbidden): error when creating "STDIN": admission webhook '
        '"nads.ovnctl.test" denied the request: bad names are refused'
    ) in err


@pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
async def test_kubectl_dry_run_server_reaches_the_webhook(
    sim: SimServer, guarded: HookServer
) -> None:
    """``kubectl apply --dry-run=server`` is admitted with dryRun true and stores nothing."""
    code, out, err = await _kubectl(
        sim, "apply", "--dry-run=server", "-f", "-", stdin=NAD_YAML.format(name="dry")
    )
    assert code == 0, err
    assert "(server dry run)" in out
    assert [r["dryRun"] for r in guarded.requests()] == [True]
    assert not sim.store.objects(
        sim.store.resource("k8s.cni.cncf.io", "v1", "network-attachment-definitions")
    )


async def test_python_client_gets_the_status_in_an_api_exception(
    sim: SimServer, guarded: HookServer
) -> None:
    """The official client raises ApiException with the webhook's status code and Status body."""
    config = kubernetes.client.Configuration()
    kubernetes.config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=str(sim.kubeconfig_path), client_configuration=config
    )

    def create(name: str) -> Any:
        with kubernetes.client.ApiClient(config) as client:
            api = kubernetes.client.CustomObjectsApi(client)
            return api.create_namespaced_custom_object(
                "k8s.cni.cncf.io",
                "v1",
                "default",
                "network-attachment-definitions",
                nad(name),
            )

    created = await asyncio.to_thread(create, "fine")
    assert created["metadata"]["name"] == "fine"
    with pytest.raises(ApiException) as caught:
        await asyncio.to_thread(create, "bad-client")
    assert caught.value.status == 403
    body = json.loads(str(caught.value.body))
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        'admission webhook "nads.ovnctl.test" denied the request: bad names are refused'
    )
    # The client keeps response headers: the webhook's warning is there too.
    assert caught.value.headers is not None
    assert caught.value.headers.get("Warning") == '299 - "saw bad-client"'


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_kopf_validate_and_mutate_handlers_through_kopfs_webhook_server(
    sim: SimServer, api: Api, tmp_path: Path
) -> None:
    """Kopf registers its own webhook configurations; the sim calls its handlers over HTTPS."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    certfile, pkeyfile, cafile = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    cert.cert_chain_pems[0].write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(pkeyfile))
    ca.cert_pem.write_to_path(str(cafile))

    def serve_webhooks(settings: kopf.OperatorSettings) -> None:
        settings.admission.server = kopf.WebhookServer(
            addr="127.0.0.1",
            host="127.0.0.1",
            port=_free_port(),
            certfile=str(certfile),
            pkeyfile=str(pkeyfile),
            cafile=str(cafile),
        )
        settings.admission.managed = "nads.ovnctl.test"

    registry = registry_for(sim, serve_webhooks)

    @kopf.on.validate(
        "k8s.cni.cncf.io", "v1", "network-attachment-definitions", id="check", registry=registry
    )
    def check(spec: Any, warnings: list[str], **_: Any) -> None:
        warnings.append("checked by kopf")
        if "kube-ovn" not in str(spec.get("config", "")):
            raise kopf.AdmissionError("spec.config must use the kube-ovn plugin", code=422)

    @kopf.on.mutate(
        "k8s.cni.cncf.io", "v1", "network-attachment-definitions", id="label", registry=registry
    )
    def label(patch: kopf.Patch, **_: Any) -> None:
        patch.setdefault("metadata", {}).setdefault("labels", {})["mutated-by"] = "kopf"

    async with running(registry) as operator:
        for _ in range(400):  # until Kopf has written both configurations' webhooks
            status_v, validating = await api.get(f"{VWC}/nads.ovnctl.test")
            status_m, mutating = await api.get(
                "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/nads.ovnctl.test"
            )
            if (
                status_v == status_m == 200
                and validating.get("webhooks")
                and mutating.get("webhooks")
            ):
                break
            assert not operator.done(), operator
            await asyncio.sleep(0.05)
        else:
            pytest.fail("Kopf did not configure its webhooks")
        status, body = await api.post(NADS, nad("refused", config='{"type": "bridge"}'))
        assert status == 422
        assert body["message"] == (
            'admission webhook "check.nads.ovnctl.test" denied the request: '
            "spec.config must use the kube-ovn plugin"
        )
        status, body = await api.post(NADS, nad("accepted"))
        assert status == 201, body
        assert body["metadata"]["labels"]["mutated-by"] == "kopf"
