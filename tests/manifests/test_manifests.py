"""The install manifests: Kubernetes schemas, wiring between objects, kustomize, kubectl, image."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml

from ovnctl.controller.command import run as run_command
from ovnctl.sim import SimProcess, Store, load_manifests
from tests.manifests.rbac import CRDS, MANIFESTS, REPO, documents, find, kustomization_files
from tests.models.test_crds import test_schema_is_structural as assert_structural

KUBECTL = os.environ.get("KUBECTL") or shutil.which("kubectl")
"""kubectl to test with (``KUBECTL=/path/to/kubectl`` picks another, e.g. Debian's 1.20)."""
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")

SCHEMA_VERSIONS = ("1.32.0", kubernetes_validate.latest_version())
CONTROLLER = "ovnctl-controller"
NAMESPACE = "ovnctl"


def _option(name: str) -> Any:
    """A parameter of ``ovnctl run`` by its Python name."""
    (param,) = (p for p in run_command.params if p.name == name)
    return param


def _container() -> dict[str, Any]:
    containers: list[dict[str, Any]] = find("Deployment", CONTROLLER)["spec"]["template"]["spec"][
        "containers"
    ]
    (container,) = containers
    return container


def _key(doc: dict[str, Any]) -> tuple[str, str, str]:
    meta = doc["metadata"]
    return doc["kind"], meta.get("namespace", ""), meta["name"]


# -- what the kustomization installs --------------------------------------------------------


def test_kustomization_installs_every_manifest_and_the_crds() -> None:
    """Every YAML file in manifests/ is listed; the CRDs come from crds/ as a base, tests not."""
    listed = {path.relative_to(REPO).as_posix() for path in kustomization_files()}
    present = {
        path.relative_to(REPO).as_posix()
        for path in MANIFESTS.glob("*.yaml")
        if path.name != "kustomization.yaml"
    }
    crds = {
        path.relative_to(REPO).as_posix()
        for path in CRDS.glob("*.yaml")
        if path.name != "kustomization.yaml"
    }
    assert listed == present | crds
    assert crds == {
        "crds/subnet.yaml",
        "crds/ip.yaml",
        "crds/ippool.yaml",
        "crds/vip.yaml",
    }
    assert not any("crds/test" in path for path in listed)


def test_every_object_is_named_once_and_namespaced_in_ovnctl() -> None:
    """No duplicates; namespaced objects live in the ovnctl namespace, created by the same apply."""
    docs = documents()
    keys = [_key(d) for d in docs]
    assert len(keys) == len(set(keys))
    assert ("Namespace", "", NAMESPACE) in keys
    cluster_scoped = {"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
    for kind, namespace, name in keys:
        assert namespace == ("" if kind in cluster_scoped else NAMESPACE), (kind, name)


@pytest.mark.parametrize("version", SCHEMA_VERSIONS)
def test_objects_validate_against_kubernetes_schemas(version: str) -> None:
    """Each object is valid for Kubernetes ``version``, strictly (no unknown fields)."""
    for doc in documents():
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            raise AssertionError(f"{_key(doc)} at {list(exc.path)}: {exc.message}") from None


def test_installed_crds_are_structural() -> None:
    """The CRDs the kustomization installs pass tests/models' structural-schema check."""
    crds = [d for d in documents() if d["kind"] == "CustomResourceDefinition"]
    assert {c["metadata"]["name"] for c in crds} == {
        "subnets.kubeovn.io",
        "ips.kubeovn.io",
        "ippools.kubeovn.io",
        "vips.kubeovn.io",
    }
    for crd in crds:
        assert_structural(crd)  # type: ignore[no-untyped-call]


def test_embedded_server_loads_the_crds_folder_despite_its_kustomization() -> None:
    """``ovnctl sim serve --load crds/`` skips kustomization.yaml (not an API object)."""
    store = Store()
    load_manifests(store, [CRDS])
    served = {info.plural for info in store.registry.all() if not info.builtin}
    assert {"subnets", "ips", "virtualmachines", "network-attachment-definitions"} <= served


# -- how the objects refer to each other ------------------------------------------------------


def test_bindings_bind_existing_roles_to_the_service_accounts_that_run() -> None:
    """Each binding names a role and ServiceAccount that exist; the Deployment runs as its SA."""
    docs = documents()
    names = {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]) for d in docs}
    bound: dict[str, set[str]] = {}
    for binding in (d for d in docs if d["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        ref = binding["roleRef"]
        role_ns = binding["metadata"].get("namespace", "") if ref["kind"] == "Role" else ""
        assert (ref["kind"], role_ns, ref["name"]) in names, binding["metadata"]["name"]
        for subject in binding["subjects"]:
            assert subject["kind"] == "ServiceAccount"
            assert ("ServiceAccount", subject["namespace"], subject["name"]) in names
            bound.setdefault(subject["name"], set()).add(f"{ref['kind']}/{ref['name']}")
    pod_spec = find("Deployment", CONTROLLER)["spec"]["template"]["spec"]
    assert pod_spec["serviceAccountName"] == CONTROLLER
    assert bound[CONTROLLER] == {
        "ClusterRole/ovnctl-controller",
        "Role/ovnctl-controller-leader-election",
    }
    assert bound["ovnctl-node"] == {"ClusterRole/ovnctl-node"}
    node_pod_spec = find("DaemonSet", "ovnctl-node")["spec"]["template"]["spec"]
    assert node_pod_spec["serviceAccountName"] == "ovnctl-node"


def test_lease_role_names_the_lease_the_controller_uses() -> None:
    """get/update are limited to the default Lease name; create cannot be limited by name."""
    role = find("Role", "ovnctl-controller-leader-election")
    by_verbs = {tuple(rule["verbs"]): rule.get("resourceNames") for rule in role["rules"]}
    assert by_verbs == {("create",): None, ("get", "update"): [_option("lease_name").default]}
    env = {e["name"] for e in _container().get("env", [])}
    assert "OVNCTL_LEASE_NAME" not in env, "a renamed Lease needs the Role's resourceNames too"


def test_controller_env_names_real_options_and_the_downward_api() -> None:
    """Every variable is one ``ovnctl run`` reads; identity and Lease namespace are the pod's."""
    env = {e["name"]: e for e in _container()["env"]}
    known = {
        var
        for p in run_command.params
        for var in ([p.envvar] if isinstance(p.envvar, str) else p.envvar or [])
    }
    assert set(env) <= known, set(env) - known
    assert "POD_NAME" in _option("identity").envvar
    assert "POD_NAMESPACE" in _option("lease_namespace").envvar
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"


def test_probes_and_metrics_ports_match_what_the_controller_serves() -> None:
    """/healthz and /readyz on the health port, /metrics on the metrics port, Service to it."""
    container = _container()
    env = {e["name"]: e.get("value") for e in container["env"]}
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    health = int(env.get("OVNCTL_HEALTH_PORT") or _option("health_port").default)
    metrics = int(env.get("OVNCTL_METRICS_PORT") or _option("metrics_port").default)
    assert (health, metrics) == (8081, 8080)
    assert ports == {"health": health, "metrics": metrics}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "health"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "health"}
    service = find("Service", "ovnctl-controller-metrics")
    assert [(p["port"], p["targetPort"]) for p in service["spec"]["ports"]] == [(8080, "metrics")]
    template = find("Deployment", CONTROLLER)["spec"]["template"]
    assert service["spec"]["selector"].items() <= template["metadata"]["labels"].items()


def test_deployment_runs_two_spread_replicas_with_resources() -> None:
    """Two replicas, never two on one node, requests and limits for CPU and memory."""
    spec = find("Deployment", CONTROLLER)["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    (term,) = spec["template"]["spec"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    assert term["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]
    resources = _container()["resources"]
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}


def test_controller_runs_unprivileged() -> None:
    """Non-root 65532 (the image's user), read-only root, no escalation, no capabilities."""
    pod_spec = find("Deployment", CONTROLLER)["spec"]["template"]["spec"]
    pod_security = pod_spec["securityContext"]
    security = _container()["securityContext"]
    assert pod_security["runAsNonRoot"] is security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == security["runAsUser"] == 65532
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert (
        pod_security["seccompProfile"] == security["seccompProfile"] == {"type": "RuntimeDefault"}
    )
    assert "privileged" not in security
    assert "command" not in _container(), "the image's entrypoint is `ovnctl run`"


# -- kustomize and kubectl ------------------------------------------------------------------


def _kubectl(*args: str, kubeconfig: Path | None = None) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    command = [KUBECTL, *(["--kubeconfig", str(kubeconfig)] if kubeconfig else []), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=REPO)


@needs_kubectl
def test_kubectl_kustomize_renders_every_object() -> None:
    """``kubectl kustomize manifests/`` renders exactly the objects of the listed files."""
    result = _kubectl("kustomize", "manifests/")
    assert result.returncode == 0, result.stderr
    rendered = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert sorted(map(_key, rendered)) == sorted(map(_key, documents()))


@needs_kubectl
def test_kubectl_apply_dry_run_client_succeeds() -> None:
    """``kubectl apply -k manifests/ --dry-run=client`` against a server with the CRDs."""
    crds = kustomization_files(CRDS)
    with SimProcess(manifests=crds) as sim:
        result = _kubectl(
            "apply", "-k", "manifests/", "--dry-run=client", kubeconfig=sim.kubeconfig_path
        )
    assert result.returncode == 0, result.stderr
    applied = set(re.findall(r"^(\S+)/(\S+) (?:created|configured|unchanged)", result.stdout, re.M))
    assert len(applied) == len(documents()), result.stdout


# -- the image ------------------------------------------------------------------------------


def _final_stage() -> tuple[str, list[tuple[str, str]]]:
    """The last stage of the Dockerfile: its base image and its instructions."""
    lines = (REPO / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    instructions = [
        (word.upper(), rest.strip())
        for word, _, rest in (line.strip().partition(" ") for line in lines)
        if word and not word.startswith("#")
    ]
    starts = [i for i, (word, _) in enumerate(instructions) if word == "FROM"]
    base = instructions[starts[-1]][1].split()[0]
    return base, instructions[starts[-1] + 1 :]


def test_dockerfile_final_stage_is_slim_non_root_with_ovnctl_run() -> None:
    """A slim base, no compilers installed, USER 65532, exec-form ENTRYPOINT ovnctl run."""
    base, instructions = _final_stage()
    assert re.search(r"[-:]slim\b|distroless|alpine", base), base
    users = [rest for word, rest in instructions if word == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert user == str(
        find("Deployment", CONTROLLER)["spec"]["template"]["spec"]["securityContext"]["runAsUser"]
    )
    (entrypoint,) = [rest for word, rest in instructions if word == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["ovnctl", "run"]
    runs = " ".join(rest for word, rest in instructions if word == "RUN")
    assert not re.search(r"build-essential|\bgcc\b|apt-get install", runs), runs
