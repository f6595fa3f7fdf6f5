"""``ovnctl demo`` works from a fresh checkout, as the README's first command runs it."""

from __future__ import annotations

import subprocess
import sys

from ovnctl.ovn.sandbox import missing_tools
from ovnctl.ovn.stack import missing_stack


def test_demo_runs_and_reports(tmp_path) -> None:
    """The demo exits 0 and shows addresses, usage, the bad-input Event and zero NAD GETs."""
    result = subprocess.run(
        [sys.executable, "-m", "ovnctl", "demo", "--kubeconfig", str(tmp_path / "kubeconfig")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "same address" in out
    assert "vm1.demo.attachnet.demo.ovn" in out
    assert "vm2.demo" not in out  # deleted VM: its addresses were released
    assert "db-0.demo.macnet.demo          pod    attach-mac   172.18.0.50" in out
    assert "broken-0: NadNotFound" in out
    assert "GETs of NetworkAttachmentDefinitions: 0" in out
    assert "Traceback" not in result.stderr
    if missing_tools() is None:  # with Debian's ovn-central the NB is shown too
        assert "switch" in out
        assert "(attach-dual)" in out
        assert "(attach-mac)" not in out  # macvlan with kube-ovn IPAM: no logical switch
        assert "port vm1.demo.attachnet.demo.ovn" in out
        assert "vm2.demo" not in out
        if missing_stack() is None:  # root with OVS and ovn-host: real packets through OVN
            assert "web-0 10.16.0.10 -> vm1 10.16.0.13 through OVN: 3/3 replies" in out
            assert "across the ovn-cluster router: 3/3 replies" in out
        else:
            assert f"skipped: {missing_stack()}" in out
    else:
        assert "ovnctl runs as pure IPAM" in out
        assert "skipped: no OVN northbound" in out
