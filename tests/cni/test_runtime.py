"""The plugin driven exactly as a container runtime drives it: a process, env, stdin, stdout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.cni.schema import ERROR_SCHEMA, VERSION_SCHEMA, result_schema
from tests.node import netns as nstools
from tests.node.conftest import Node, Subnet

REPO = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = Path(sys.executable).with_name("ovnctl")


def _exec(
    argv: list[str], *, command: str, conf: dict[str, Any], env: dict[str, str]
) -> tuple[int, str, str]:
    """Run the plugin as a runtime does: a clean environment plus CNI_*, config on stdin."""
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "CNI_COMMAND": command, **env}
    environ["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        argv,
        input=json.dumps(conf).encode(),
        env=environ,
        capture_output=True,
        timeout=60,
        cwd="/",
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


def _runtime_env(node: Node, *, ns: str, pod: str, container: str) -> dict[str, str]:
    node.containers.append((container, "eth0"))
    return {
        "CNI_CONTAINERID": container,
        "CNI_NETNS": f"/var/run/netns/{ns}",
        "CNI_IFNAME": "eth0",
        "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME={pod}",
        "CNI_PATH": "/opt/cni/bin",
    }


@pytest.mark.parametrize(
    ("argv", "version"),
    [
        ([sys.executable, "-m", "ovnctl", "cni"], "1.0.0"),
        ([sys.executable, "-m", "ovnctl.cni"], "0.4.0"),
    ],
    ids=["ovnctl-cni-1.0.0", "python-m-ovnctl.cni-0.4.0"],
)
def test_add_check_del_as_a_runtime(node: Node, argv: list[str], version: str) -> None:
    """ADD prints only a schema-valid result; CHECK and DEL exit 0 with empty stdout."""
    subnet = Subnet()
    node.allocated_pod("rt", subnet, 10)
    ns = node.netns()
    env = _runtime_env(node, ns=ns, pod="rt", container="runtime-1")
    conf = node.conf(cniVersion=version, dns={"nameservers": ["10.96.0.10"], "search": ["svc"]})

    status, stdout, stderr = _exec(argv, command="ADD", conf=conf, env=env)
    assert status == 0, stderr
    result = json.loads(stdout)  # the whole of stdout is one JSON document
    jsonschema.validate(result, result_schema(version))
    assert result["ips"][0]["address"] == f"{subnet.ip(10)}/24"
    assert result["interfaces"][result["ips"][0]["interface"]]["sandbox"] == env["CNI_NETNS"]
    assert result["dns"] == {"nameservers": ["10.96.0.10"], "search": ["svc"]}
    assert nstools.addresses(ns, "eth0") == {f"{subnet.ip(10)}/24"}

    assert _exec(argv, command="CHECK", conf=conf, env=env)[:2] == (0, "")
    assert _exec(argv, command="DEL", conf=conf, env=env)[:2] == (0, "")
    assert not nstools.link_exists("eth0", netns=ns)


def test_error_object_and_exit_status(node: Node) -> None:
    """A failing ADD exits 1 with only the spec's error object on stdout."""
    ns = node.netns()
    env = _runtime_env(node, ns=ns, pod="nobody", container="runtime-2")
    status, stdout, _ = _exec(
        [sys.executable, "-m", "ovnctl.cni"], command="ADD", conf=node.conf(), env=env
    )
    assert status == 1
    error = json.loads(stdout)
    jsonschema.validate(error, ERROR_SCHEMA)
    assert error["code"] == 101


def test_version_from_the_console_script() -> None:
    """`ovnctl cni` with CNI_COMMAND=VERSION prints the supported versions and nothing else."""
    argv = (
        [str(CONSOLE_SCRIPT), "cni"]
        if CONSOLE_SCRIPT.exists()
        else [sys.executable, "-m", "ovnctl", "cni"]
    )
    status, stdout, _ = _exec(argv, command="VERSION", conf={"cniVersion": "1.0.0"}, env={})
    assert status == 0
    jsonschema.validate(json.loads(stdout), VERSION_SCHEMA)


def test_unreachable_daemon_from_a_process(tmp_path: Path) -> None:
    """No daemon listening: exit 1 and error code 11, as a runtime sees it."""
    conf = {
        "cniVersion": "1.0.0",
        "name": "ovnctl",
        "type": "kube-ovn",
        "server_socket": str(tmp_path / "absent.sock"),
    }
    env = {
        "CNI_CONTAINERID": "c0",
        "CNI_NETNS": "/var/run/netns/x",
        "CNI_IFNAME": "eth0",
        "CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=p",
    }
    status, stdout, _ = _exec(
        [sys.executable, "-m", "ovnctl.cni"], command="ADD", conf=conf, env=env
    )
    assert status == 1
    error = json.loads(stdout)
    jsonschema.validate(error, ERROR_SCHEMA)
    assert error["code"] == 11


@pytest.mark.parametrize(
    "argv", [["-m", "ovnctl", "cni"], ["-m", "ovnctl.cni"]], ids=["ovnctl-cni", "ovnctl.cni"]
)
def test_plugin_imports_nothing_heavy(argv: list[str]) -> None:
    """The plugin path loads no Kopf, Kubernetes client, pyroute2 or embedded server."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        input=b'{"cniVersion": "1.0.0"}',
        env={"CNI_COMMAND": "VERSION", "PYTHONPATH": str(REPO), "PATH": os.environ["PATH"]},
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.decode().splitlines()}
    for heavy in ("kopf", "kubernetes", "pyroute2", "aiohttp", "ovnctl.sim", "ovnctl.node"):
        assert heavy not in imported
