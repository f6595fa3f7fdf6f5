"""A real distributed NB: ``ovnctl run`` on a 3-member Raft cluster whose leader dies mid-burst.

``ovnctl run --ovn-nb`` is given all three members. While it writes the ports
of a burst of pods, the cluster's leader is killed (SIGKILL): the client
follows the newly elected leader, failed transactions are retried by the work
queue, and the NB ends with exactly one correct port per NIC.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ovnctl.demo.objects import pod, subnet
from ovnctl.ovn.sandbox import NbCluster, missing_tools
from ovnctl.sim import SimProcess
from tests.conftest import crd_manifests
from tests.e2e.conftest import ControllerProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

PODS = 500


@pytest.fixture
def nb_cluster(tmp_path: Path) -> Iterator[NbCluster]:
    reason = missing_tools()
    if reason:
        pytest.skip(f"needs Debian's ovn-central: {reason}")
    with NbCluster(tmp_path / "nb") as cluster:
        yield cluster


def _call(sim: SimProcess, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        sim.url + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def _ports(cluster: NbCluster) -> dict[str, list[str]]:
    """NIC port name -> its addresses, read from a running member (router peers left out).

    ``--no-leader-only``: a follower answers reads, also while a new leader is elected.
    """
    out = json.loads(
        cluster.nbctl(
            "--no-leader-only",
            "--format=json",
            "--columns=name,addresses,type",
            "list",
            "Logical_Switch_Port",
        )
    )
    found: dict[str, list[str]] = {}
    for name, addresses, kind in out["data"]:
        if kind == "router":
            continue
        values = (
            addresses[1] if isinstance(addresses, list) and addresses[0] == "set" else [addresses]
        )
        assert name not in found, f"two ports named {name}"
        found[name] = values
    return found


def _wait(check: Any, *, what: str, within: float, proc: ControllerProcess) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert proc.process.poll() is None, f"ovnctl run exited: {proc.logs()}"
        assert time.monotonic() < deadline, f"{what}: not within {within} s\n{proc.logs()}"
        time.sleep(0.5)  # each look LISTs 500 pods or runs ovn-nbctl: not too often


def test_leader_killed_mid_burst_ends_with_one_correct_port_per_nic(
    nb_cluster: NbCluster, tmp_path: Path
) -> None:
    """Kill the NB leader during a 500-pod burst: every pod gets exactly its one port."""
    with SimProcess(manifests=crd_manifests()) as sim:
        proc = ControllerProcess(
            kubeconfig=sim.kubeconfig_path,
            identity="raft",
            log_dir=tmp_path,
            extra=("--ovn-nb", nb_cluster.remote),
        )
        try:
            _wait(
                lambda: proc.probe("/readyz") == (200, "leading; OVN NB connected\n"),
                what="ready and connected to the NB",
                within=60,
                proc=proc,
            )
            _call(sim, "POST", "/apis/kubeovn.io/v1/subnets",
                  subnet("ovn-default", "10.16.0.0/16", default=True))  # fmt: skip
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(
                    lambda i: _call(sim, "POST", "/api/v1/namespaces/default/pods",
                                    pod(f"burst-{i}", node="node-a")),
                    range(PODS),
                ))  # fmt: skip
            _wait(lambda: len(_ports(nb_cluster)) >= PODS // 5, what="first ports",
                  within=120, proc=proc)  # fmt: skip
            old = nb_cluster.leader()
            assert old is not None
            nb_cluster.kill(old)
            written = len(_ports(nb_cluster))
            assert written < PODS, "the burst was over before the leader died"

            def annotated() -> dict[str, str]:
                items = _call(sim, "GET", "/api/v1/namespaces/default/pods")["items"]
                found = {}
                for item in items:
                    notes = item["metadata"].get("annotations") or {}
                    if notes.get("ovn.kubernetes.io/allocated") == "true":
                        address = notes["ovn.kubernetes.io/ip_address"]
                        mac = notes["ovn.kubernetes.io/mac_address"]
                        found[f"{item['metadata']['name']}.default"] = f"{mac} {address}"
                return found

            _wait(lambda: len(annotated()) == PODS, what="all pods allocated", within=180,
                  proc=proc)  # fmt: skip
            expected = annotated()
            _wait(lambda: _ports(nb_cluster).keys() == expected.keys(), what="all ports",
                  within=120, proc=proc)  # fmt: skip
            ports = _ports(nb_cluster)
            assert ports == {name: [value] for name, value in expected.items()}
            new = nb_cluster.leader()
            assert new is not None
            assert new != old
        finally:
            proc.stop()
