"""overlays/webhook: the Subnet and IPPool webhooks' Service, configuration and certificate."""

from __future__ import annotations

from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from ovnctl.controller.command import run as run_command
from tests.manifests.rbac import REPO
from tests.manifests.test_manifests import KUBECTL, SCHEMA_VERSIONS, _kubectl, needs_kubectl

OVERLAY = "overlays/webhook/"
CERT_MANAGER = "cert-manager.io/v1"


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    result = _kubectl("kustomize", OVERLAY)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def _one(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (doc,) = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    return doc


def _container(docs: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = _one(docs, "Deployment", "ovnctl-controller")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return dict(container)


@needs_kubectl
@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_overlay_objects_validate(rendered, version: str) -> None:
    """Every Kubernetes object of the overlay is valid (cert-manager's are its CRDs' business)."""
    for doc in rendered:
        if doc["apiVersion"] == CERT_MANAGER:
            continue
        kubernetes_validate.validate(doc, version, strict=True)


def _hooks(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    config = _one(docs, "ValidatingWebhookConfiguration", "ovnctl-subnets")
    return {hook["name"]: hook for hook in config["webhooks"]}


HOOKS = [
    ("subnets.kubeovn.io.ovnctl.io", "/validate-subnet", "subnets"),
    ("ippools.kubeovn.io.ovnctl.io", "/validate-ippool", "ippools"),
]


def test_the_hook_paths_are_the_kopf_handler_ids() -> None:
    """Each path is the id of a @kopf.on.validate handler ovnctl registers."""
    source = (REPO / "ovnctl" / "k8s" / "kopf_subnets.py").read_text()
    for _, path, _ in HOOKS:
        assert f'"{path.removeprefix("/")}"' in source  # the handler id passed to Kopf


@needs_kubectl
@pytest.mark.parametrize(("name", "path", "resource"), HOOKS)
def test_webhook_calls_the_kopf_handler_through_the_service(
    rendered, name: str, path: str, resource: str
) -> None:
    """Service, path and port lead to the controller's webhook server and Kopf's handler id."""
    hooks = _hooks(rendered)
    assert sorted(hooks) == sorted(n for n, _, _ in HOOKS)
    hook = hooks[name]
    service = hook["clientConfig"]["service"]
    assert service["path"] == path  # the @kopf.on.validate id
    svc = _one(rendered, "Service", service["name"])
    assert svc["metadata"]["namespace"] == service["namespace"] == "ovnctl"
    (port,) = svc["spec"]["ports"]
    assert port["port"] == service["port"]
    container = _container(rendered)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert ports[port["targetPort"]] == int(env["OVNCTL_WEBHOOK_PORT"])
    template = _one(rendered, "Deployment", "ovnctl-controller")["spec"]["template"]
    assert svc["spec"]["selector"].items() <= template["metadata"]["labels"].items()
    assert hook["rules"] == [
        {
            "apiGroups": ["kubeovn.io"],
            "apiVersions": ["v1"],
            "resources": [resource],
            "operations": ["CREATE", "UPDATE"],
            "scope": "Cluster",
        }
    ]


@needs_kubectl
def test_failure_policy_and_timeout_are_the_documented_ones(rendered) -> None:
    """Ignore (the reconciler still validates) and 5 s, as docs/architecture.md says."""
    for hook in _hooks(rendered).values():
        assert hook["failurePolicy"] == "Ignore"
        assert hook["timeoutSeconds"] == 5
        assert hook["sideEffects"] == "None"
    docs = (REPO / "docs" / "architecture.md").read_text()
    assert "failurePolicy: Ignore" in docs
    assert "timeoutSeconds: 5" in docs


@needs_kubectl
def test_certificate_serves_the_service_and_is_mounted(rendered) -> None:
    """cert-manager's certificate names the Service, lands in the mounted Secret, and its CA is
    injected into the configuration."""
    certificate = _one(rendered, "Certificate", "ovnctl-webhook")
    assert "ovnctl-webhook.ovnctl.svc" in certificate["spec"]["dnsNames"]
    config = _one(rendered, "ValidatingWebhookConfiguration", "ovnctl-subnets")
    assert config["metadata"]["annotations"]["cert-manager.io/inject-ca-from"] == (
        "ovnctl/ovnctl-webhook"
    )
    pod = _one(rendered, "Deployment", "ovnctl-controller")["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    container = _container(rendered)
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/etc/ovnctl/webhook"]
    assert volumes[mount["name"]]["secret"]["secretName"] == certificate["spec"]["secretName"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["OVNCTL_WEBHOOK_CERT"] == "/etc/ovnctl/webhook/tls.crt"
    assert env["OVNCTL_WEBHOOK_KEY"] == "/etc/ovnctl/webhook/tls.key"
    known = {p.envvar for p in run_command.params if isinstance(p.envvar, str)}
    assert {"OVNCTL_WEBHOOK_PORT", "OVNCTL_WEBHOOK_CERT", "OVNCTL_WEBHOOK_KEY"} <= known
