"""``ovnctl bench`` at a tiny size: a table, JSON with every field, and a PNG.

Only the shape of the output is checked, never speed: timings belong to the
benchmark's own report (docs/bench.md), not to assertions.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ovnctl.bench.runner import PROFILE_DIR_ENV, profiled

TINY = (
    "--subnets", "10",
    "--resident-pods", "3",
    "--pods", "20",
    "--ips", "200",
    "--memory-pods", "500",
    "--memory-nads", "20",
)  # fmt: skip


@pytest.mark.timeout(90)
def test_bench_tiny_run_writes_table_json_and_plot(tmp_path: Path) -> None:
    """Every scenario runs and reports its numbers in all three forms."""
    out_json, out_png = tmp_path / "bench.json", tmp_path / "bench.png"
    result = subprocess.run(
        [sys.executable, "-m", "ovnctl", "bench", *TINY,
         "--json", str(out_json), "--plot", str(out_png)],
        capture_output=True,
        text=True,
        timeout=80,
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr

    table = result.stdout
    for heading in ("== nad-cache", "== alloc", "== restart", "== memory"):
        assert heading in table
    assert "live/cache" in table
    assert "walk-live/-cache" in table
    assert "target: NAD GETs in the cache modes" in table
    # Progress goes to stderr, results to stdout.
    assert "nad-cache: [live]" in result.stderr
    assert "nad-cache: [live]" not in table

    document = json.loads(out_json.read_text())
    assert document["run"]["latency_ms"] == 1.0
    assert document["machine"]["cores"] >= 1
    scenarios = document["scenarios"]
    assert set(scenarios) == {"nad-cache", "alloc", "restart", "memory"}

    nad = scenarios["nad-cache"]["metrics"]
    for mode in ("cache", "live", "walk-cache", "walk-live"):
        m = nad[mode]
        for field in (
            "ready_p50_ms", "ready_p99_ms", "requests_by_verb", "requests_total",
            "nad_gets", "queue_depth", "controller_cpu_s", "server_cpu_s",
        ):  # fmt: skip
            assert field in m, (mode, field)
        assert m["creations_timed"] == 10 + 2  # every subnet, and the re-created quarter
        assert m["queue_depth"], "queue depth was scraped"
        assert m["resident_pods"] == 3
    assert nad["cache"]["nad_gets"] == nad["walk-cache"]["nad_gets"] == 0
    assert nad["live"]["nad_gets"] > 0
    # Each of the 10 subnets is reconciled at least once: its own NAD, and (Kube-OVN's
    # walk) both NADs of each of the 3 resident pods.
    assert nad["walk-live"]["nad_gets"] >= (1 + 6) * 10
    assert {"request_ratio", "p99_ratio", "own_request_ratio", "own_p99_ratio"} <= set(nad)

    alloc = scenarios["alloc"]["metrics"]
    assert (alloc["pods"], alloc["attachments"], alloc["nics"]) == (20, 2, 40)
    assert alloc["ip_creates"] == 40
    assert alloc["pod_patches"] == 20
    assert alloc["p50_ms"] <= alloc["p99_ms"]
    for field in ("cpu_per_nic_ms", "process_cpu_s", "scrape_cpu_ms", "ms_per_pod"):
        assert field in alloc, field
    assert alloc["startup_cpu_s"] > 0
    assert alloc["floor_s"] > 0
    assert alloc["floor_ratio"] > 0
    assert "controller CPU per NIC ms" in table
    assert "start-up CPU s" in table

    restart = scenarios["restart"]["metrics"]
    assert restart["ips"] == 200
    assert restart["caches"]["nics"] == 200
    assert restart["ready_s"] > 0

    memory = scenarios["memory"]["metrics"]
    assert memory["caches"]["pods"] == 500
    assert memory["caches"]["network-attachment-definitions"] == 20
    assert memory["loaded_rss_kib"] > 0
    assert memory["empty_rss_kib"] > 0
    assert "per_object_bytes" in memory

    for scenario in scenarios.values():
        for check in scenario["checks"]:
            assert set(check) == {"name", "target", "measured", "met"}

    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.timeout(90)
def test_alloc_size_sweep_reports_each_size_and_growth(tmp_path: Path) -> None:
    """`--pods 10 20`: one run per size, a sweep line each, growth checked between them."""
    out_json = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "ovnctl", "bench", "--scenario", "alloc",
         "--pods", "10", "20", "--json", str(out_json)],
        capture_output=True,
        text=True,
        timeout=80,
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    table = result.stdout
    assert "sweep 10 pods" in table
    assert "sweep 20 pods" in table
    assert "[20] controller CPU per NIC ms" in table
    assert "time per pod at 20 over 10 pods" in table
    assert "CPU per NIC at 20 over 10 pods" in table
    alloc = json.loads(out_json.read_text())["scenarios"]["alloc"]
    assert alloc["params"]["pods"] == [10, 20]
    assert [m["pods"] for m in alloc["metrics"]["sweep"]] == [10, 20]
    assert all(m["pod_patches"] == m["pods"] for m in alloc["metrics"]["sweep"])


def test_sizes_without_pods_are_refused() -> None:
    """A bare number is not taken as a size unless it follows --pods."""
    result = subprocess.run(
        [sys.executable, "-m", "ovnctl", "bench", "--scenario", "alloc", "5000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "sizes follow --pods" in result.stderr


def test_no_profile_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without OVNCTL_BENCH_PROFILE_DIR the profile hook starts nothing."""
    monkeypatch.delenv(PROFILE_DIR_ENV, raising=False)
    with profiled(1, "never") as out:
        assert out is None


@pytest.mark.timeout(90)
@pytest.mark.skipif(
    not (Path(sys.executable).with_name("py-spy").exists() or shutil.which("py-spy")),
    reason="py-spy not installed",
)
def test_alloc_profile_written_when_asked(tmp_path: Path) -> None:
    """OVNCTL_BENCH_PROFILE_DIR: one py-spy profile (collapsed stacks) per alloc burst."""
    result = subprocess.run(
        [sys.executable, "-m", "ovnctl", "bench", "--scenario", "alloc", "--pods", "10"],
        capture_output=True,
        text=True,
        timeout=80,
        cwd=tmp_path,
        env={**os.environ, PROFILE_DIR_ENV: str(tmp_path / "prof")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    profile = tmp_path / "prof" / "alloc-vm-10x2.txt"
    assert profile.exists(), sorted(p.name for p in tmp_path.rglob("*"))
