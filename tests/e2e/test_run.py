"""``ovnctl run`` as a process: probes, metrics, allocation and a graceful SIGTERM."""

from __future__ import annotations

import asyncio

from ovnctl.k8s.resources import LEASES, PODS
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, pod, subnet


async def test_run_allocates_serves_probes_and_stops_gracefully(controllers, kube) -> None:
    """Ready when leading, allocates, exports metrics, exits 0 on SIGTERM and frees the Lease."""
    await create_all(kube, subnet("ovn-default", "10.16.0.0/16", default=True))
    proc = controllers("r1")
    assert (await proc.wait_probe("/readyz", text="leading")).strip() == "leading"
    assert proc.probe("/healthz")[0] == 200
    await create_all(kube, pod("p1"))
    await eventually(
        lambda: kube.get(PODS, name="p1", namespace="default"),
        until=lambda p: (
            p["metadata"].get("annotations", {}).get("ovn.kubernetes.io/allocated") == "true"
        ),
    )
    _, metrics = proc.probe("/metrics")
    assert "ovnctl_allocations_total 1.0" in metrics
    assert 'ovnctl_subnet_addresses{family="v4",state="used",subnet="ovn-default"} 1.0' in metrics
    assert 'ovnctl_workqueue_adds_total{name="pods"}' in metrics
    assert 'ovnctl_api_requests_total{resource="pods",verb="patch"} 1.0' in metrics
    assert "ovnctl_leader 1.0" in metrics

    assert await asyncio.to_thread(proc.stop) == 0
    lease = await kube.get(LEASES, name="ovnctl-controller", namespace="default")
    assert lease["spec"]["holderIdentity"] == ""


async def test_run_without_a_cluster_fails_clearly(tmp_path) -> None:
    """A kubeconfig path that does not exist is a clear error and exit code 2, not a traceback."""
    import subprocess
    import sys

    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "ovnctl", "run", "--kubeconfig", str(tmp_path / "missing"),
         "--health-port", "0", "--metrics-port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "missing' does not exist" in result.stderr
    assert "Traceback" not in result.stderr
