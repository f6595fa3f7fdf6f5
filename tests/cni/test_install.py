"""Installing the plugin into a node's CNI paths: a zipapp the host's python3 runs alone."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ovnctl.cni.install import CONF_NAME, install, main


def test_install_writes_binaries_and_primary_conflist(tmp_path: Path) -> None:
    """kube-ovn and ovnctl binaries are executable; the conflist names provider ovn."""
    written = install(bin_dir=tmp_path / "bin", conf_dir=tmp_path / "net.d", mtu=1400)
    assert {p.name for p in written} == {"kube-ovn", "ovnctl", CONF_NAME}
    for name in ("kube-ovn", "ovnctl"):
        assert (tmp_path / "bin" / name).stat().st_mode & 0o111
    conf = json.loads((tmp_path / "net.d" / CONF_NAME).read_text())
    assert conf["plugins"] == [
        {
            "type": "kube-ovn",
            "provider": "ovn",
            "server_socket": "/run/ovnctl/daemon.sock",
            "mtu": 1400,
        }
    ]
    assert not list((tmp_path / "bin").glob(".*tmp"))


def test_no_primary_installs_only_binaries(tmp_path: Path) -> None:
    """--no-primary leaves /etc/cni/net.d alone (another CNI owns the primary network)."""
    assert (
        main(
            [
                "--bin-dir",
                str(tmp_path / "bin"),
                "--conf-dir",
                str(tmp_path / "net.d"),
                "--no-primary",
            ]
        )
        == 0
    )
    assert not (tmp_path / "net.d").exists()


def test_installed_binary_runs_without_the_virtualenv(tmp_path: Path) -> None:
    """The zipapp answers VERSION and reports an absent daemon using only the system python3."""
    python3 = shutil.which("python3", path="/usr/bin:/bin")
    if python3 is None:
        pytest.skip("no system python3 to play the host's interpreter")
    install(bin_dir=tmp_path, conf_dir=None)
    env = {"PATH": "/usr/bin:/bin", "CNI_COMMAND": "VERSION"}
    done = subprocess.run(
        [python3, "-I", str(tmp_path / "kube-ovn")],
        input=b'{"cniVersion": "1.0.0"}',
        env=env,
        capture_output=True,
        timeout=30,
        cwd="/",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["supportedVersions"][-1] == "1.0.0"
    env = {
        "PATH": "/usr/bin:/bin",
        "CNI_COMMAND": "ADD",
        "CNI_CONTAINERID": "c1",
        "CNI_NETNS": "/var/run/netns/x",
        "CNI_IFNAME": "eth0",
        "CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=p",
    }
    conf = {
        "cniVersion": "1.0.0",
        "name": "ovnctl",
        "type": "kube-ovn",
        "server_socket": str(tmp_path / "none.sock"),
    }
    done = subprocess.run(
        [python3, "-I", str(tmp_path / "kube-ovn")],
        input=json.dumps(conf).encode(),
        env=env,
        capture_output=True,
        timeout=30,
        cwd="/",
    )
    assert done.returncode == 1
    assert json.loads(done.stdout)["code"] == 11
