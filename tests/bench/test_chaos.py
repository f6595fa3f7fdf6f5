"""``ovnctl bench --scenario chaos`` at a small size: every fault at once, zero violations.

Two replicas with leader election, the API server and the NB (when installed)
in their own processes; the leader is killed, a replica is frozen past its
Lease, the NB restarts, API requests fail and watches are cut, all while pods,
VMs and subnets churn. The independent checker must report no violation, and
the cluster must converge once the faults stop. About 35 s; the seed is fixed
so a failure replays with the same faults.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ovnctl.ovn.sandbox import missing_tools

SMALL = (
    "--scenario", "chaos",
    "--chaos-seed", "17",
    "--chaos-lifecycles", "40",
    "--chaos-min-seconds", "20",
    "--chaos-max-seconds", "60",
    "--chaos-population", "10",
    "--chaos-fault-scale", "0.3",
    "--chaos-converge-within", "45",
    "--latency-ms", "0",
)  # fmt: skip


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_chaos_small_run_has_no_violations(tmp_path: Path) -> None:
    """Leader kills, SIGSTOP, NB restarts, API errors, cut watches: 0 violations, converged."""
    out = tmp_path / "chaos.json"
    result = subprocess.run(
        [sys.executable, "-m", "ovnctl", "bench", *SMALL, "--json", str(out),
         "--log-dir", str(tmp_path / "logs")],
        capture_output=True,
        text=True,
        timeout=140,
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "seed 17" in result.stderr  # printed, so a failing run can be replayed
    document = json.loads(out.read_text())
    scenario = document["scenarios"]["chaos"]
    report = f"{result.stdout}\n{result.stderr[-2000:]}"  # every failure shows the whole report
    assert document["all_met"] is True, report
    metrics = scenario["metrics"]
    assert metrics["violations"] == 0, report
    assert metrics["converged_after_s"] is not None, report
    assert metrics["lifecycles"] >= 40, report
    assert metrics["vm_lifecycles"] > 0, report
    assert metrics["fence_requests_checked"] > 0, report
    faults = metrics["faults"]
    for kind in ("leader-kill-9", "sigstop-past-lease"):
        assert faults.get(kind, 0) >= 1, report
    assert faults.get("watches-cut", 0) + faults.get("watch-410", 0) >= 1, report
    assert metrics["api_errors_injected"] > 0, report
    if missing_tools() is None:
        assert faults.get("nb-restart", 0) >= 1, report
