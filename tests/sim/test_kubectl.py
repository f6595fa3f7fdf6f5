"""kubectl against ``ovnctl sim serve`` in a subprocess: apply, get, -l, patch, delete, watch.

Uses only kubectl features that both Debian's kubectl 1.20 and current
releases support. Set ``OVNCTL_SIM_KUBECTL`` to test another kubectl binary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from ovnctl.sim import SimProcess
from tests.sim.conftest import TEST_CRDS

KUBECTL = os.environ.get("OVNCTL_SIM_KUBECTL") or shutil.which("kubectl")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed"),
]

NAD_YAML = """
apiVersion: k8s.cni.cncf.io/v1
kind: NetworkAttachmentDefinition
metadata:
  name: {name}
  namespace: default
  labels:
    tier: {tier}
spec:
  config: '{{"cniVersion": "0.3.1", "type": "kube-ovn"}}'
"""


def kubectl(sim: SimProcess, *args: str, stdin: str | None = None) -> str:
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(sim.kubeconfig_path), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def crds_applied(sim_process: SimProcess) -> SimProcess:
    out = kubectl(sim_process, "apply", "-f", str(TEST_CRDS))
    assert "network-attachment-definitions.k8s.cni.cncf.io created" in out
    return sim_process


def test_apply_creates_and_reapply_is_unchanged(crds_applied: SimProcess, tmp_path: Path) -> None:
    """kubectl apply -f creates a NAD; applying again reports it unchanged."""
    manifest = tmp_path / "nad.yaml"
    manifest.write_text(NAD_YAML.format(name="apply-me", tier="a"))
    assert "created" in kubectl(crds_applied, "apply", "-f", str(manifest))
    assert "unchanged" in kubectl(crds_applied, "apply", "-f", str(manifest))
    manifest.write_text(NAD_YAML.format(name="apply-me", tier="b"))
    assert "configured" in kubectl(crds_applied, "apply", "-f", str(manifest))
    labels = kubectl(
        crds_applied, "get", "net-attach-def", "apply-me", "-o", "jsonpath={.metadata.labels.tier}"
    )
    assert labels == "b"


def test_get_and_list_with_label_selectors(crds_applied: SimProcess) -> None:
    """kubectl get -l filters on the server, by short name and full name."""
    docs = "---".join(NAD_YAML.format(name=f"sel-{t}", tier=t) for t in ("t1", "t2", "t3"))
    kubectl(crds_applied, "apply", "-f", "-", stdin=docs)
    out = kubectl(crds_applied, "get", "net-attach-def", "-l", "tier in (t1,t2)", "-o", "name")
    assert out.split() == [
        "networkattachmentdefinition.k8s.cni.cncf.io/sel-t1",
        "networkattachmentdefinition.k8s.cni.cncf.io/sel-t2",
    ]
    out = kubectl(
        crds_applied, "get", "network-attachment-definitions", "-l", "tier!=t1,tier", "-o", "name"
    )
    assert "sel-t1" not in out
    assert "sel-t3" in out
    table = kubectl(crds_applied, "get", "net-attach-def", "sel-t3")
    assert "sel-t3" in table


def test_patch_and_get_json(crds_applied: SimProcess) -> None:
    """kubectl patch --type merge and --type json change the object."""
    kubectl(crds_applied, "apply", "-f", "-", stdin=NAD_YAML.format(name="patch-me", tier="a"))
    kubectl(
        crds_applied,
        "patch",
        "net-attach-def",
        "patch-me",
        "--type",
        "merge",
        "-p",
        '{"metadata":{"labels":{"extra":"1"}}}',
    )
    kubectl(
        crds_applied,
        "patch",
        "net-attach-def",
        "patch-me",
        "--type",
        "json",
        "-p",
        '[{"op":"replace","path":"/spec/config","value":"{}"}]',
    )
    obj = json.loads(kubectl(crds_applied, "get", "net-attach-def", "patch-me", "-o", "json"))
    assert obj["metadata"]["labels"] == {"tier": "a", "extra": "1"}
    assert obj["spec"]["config"] == "{}"
    assert obj["metadata"]["generation"] == 2


def test_strategic_patch_on_core_kind(sim_process: SimProcess) -> None:
    """kubectl patch (strategic, the default) works on core kinds."""
    kubectl(sim_process, "create", "configmap", "cm1", "--from-literal=a=b")
    kubectl(
        sim_process, "patch", "configmap", "cm1", "-p", '{"metadata":{"annotations":{"x":"y"}}}'
    )
    obj = json.loads(kubectl(sim_process, "get", "configmap", "cm1", "-o", "json"))
    assert obj["metadata"]["annotations"] == {"x": "y"}
    assert obj["data"] == {"a": "b"}


def test_delete(crds_applied: SimProcess) -> None:
    """kubectl delete removes the object."""
    kubectl(crds_applied, "apply", "-f", "-", stdin=NAD_YAML.format(name="delete-me", tier="a"))
    assert "deleted" in kubectl(crds_applied, "delete", "net-attach-def", "delete-me")
    out = kubectl(crds_applied, "get", "net-attach-def", "--ignore-not-found", "delete-me")
    assert out.strip() == ""


def test_watch_sees_changes(crds_applied: SimProcess) -> None:
    """kubectl get -w prints objects as they change."""
    assert KUBECTL is not None
    kubectl(crds_applied, "apply", "-f", "-", stdin=NAD_YAML.format(name="watch-me", tier="a"))
    watcher = subprocess.Popen(
        [
            KUBECTL,
            "--kubeconfig",
            str(crds_applied.kubeconfig_path),
            "get",
            "net-attach-def",
            "-w",
            "-o",
            "name",
            "--request-timeout=20s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while (
            crds_applied.request_log().count(
                verb="watch", resource="network-attachment-definitions"
            )
            == 0
        ):
            assert time.monotonic() < deadline, "kubectl never opened a watch"
            time.sleep(0.05)
        kubectl(crds_applied, "apply", "-f", "-", stdin=NAD_YAML.format(name="watch-new", tier="a"))
    finally:
        time.sleep(0.5)
        watcher.terminate()
        out, _ = watcher.communicate(timeout=10)
    assert "watch-me" in out
    assert "watch-new" in out


def test_api_resources_lists_crd_kinds(crds_applied: SimProcess) -> None:
    """kubectl api-resources shows CRD kinds with their short names."""
    out = kubectl(crds_applied, "api-resources")
    assert "net-attach-def" in out
    assert "VirtualMachineInstance" in out
