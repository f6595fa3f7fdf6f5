"""The OVS datapath end to end: CNI ADD+DEL per second, pod created to first ping, drift repair.

Runs what a node runs, each its own process: a private OVS/OVN stack
(:class:`ovnctl.ovn.stack.OvnStack`: ovsdb-server, ovs-vswitchd with the
userspace datapath, NB, SB, northd, ovn-controller), the embedded API server,
``ovnctl run --ovn-nb`` and ``ovnctl daemon --datapath ovs``, with the CNI
plugin exec'd per call as a runtime does (:mod:`tests.e2e.ovn_cluster`).
Three measurements:

* ``add-del``: ``--pods`` pods are created and allocated first (not timed);
  then ADD followed by DEL per pod, exec'd, one at a time. ADD includes the
  wait for ovn-controller's ``ovn-installed``. Reported: ADD+DEL per second
  and the median ADD and DEL.
* ``first-ping``: for each of ``--ping-pods`` pods: the pod is created
  (t0), a namespace made, ADD exec'd, then one echo request per attempt from
  an already-running pod until a reply (t1). Reported: p50 and p99 of t1-t0.
* ``drift``: ``--drift-rounds`` times a bound port is deleted with
  ``ovn-nbctl lsp-del`` (t0) and ``lsp-list`` is polled until it is back
  (t1). The poll itself costs a few ms per try (an ovn-nbctl process), so
  the figure is an upper bound. Reported: p50 and max.

Needs root and Debian's openvswitch-switch, ovn-central and ovn-host. Run::

    python -m benchmarks.bench_ovs [--pods 50] [--ping-pods 50] [--drift-rounds 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ovnctl.demo.objects import pod, subnet
from ovnctl.ovn.stack import OvnStack, missing_stack
from tests.e2e.ovn_cluster import NODE, OvnCluster
from tests.node import netns as nstools

ALLOCATED = "ovn.kubernetes.io/allocated"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _wait_allocated(cluster: OvnCluster, names: list[str]) -> None:
    def allocated() -> bool:
        for name in names:
            found = cluster.pod(name)
            annotations = (found or {}).get("metadata", {}).get("annotations") or {}
            if annotations.get(ALLOCATED) != "true":
                return False
        return True

    cluster.wait(allocated, what="pods allocated", within=60 + len(names))


def bench_add_del(cluster: OvnCluster, count: int) -> tuple[float, float, float]:
    names = [f"ad-{i}" for i in range(count)]
    for name in names:
        cluster.create(pod(name, node=NODE))
    _wait_allocated(cluster, names)
    spaces = [cluster.netns() for _ in names]
    adds, dels = [], []
    started = time.perf_counter()
    for name, ns in zip(names, spaces, strict=True):
        t0 = time.perf_counter()
        cluster.add(name, ns)
        t1 = time.perf_counter()
        status, out = cluster.cni("DEL", pod=name, netns=ns)
        assert status == 0, out
        adds.append(t1 - t0)
        dels.append(time.perf_counter() - t1)
    elapsed = time.perf_counter() - started
    return count / elapsed, statistics.median(adds) * 1000, statistics.median(dels) * 1000


def bench_first_ping(cluster: OvnCluster, count: int) -> list[float]:
    pinger_ns, _ = cluster.start_pod(pod("pinger", node=NODE))
    latencies = []
    for i in range(count):
        name = f"fp-{i}"
        t0 = time.perf_counter()
        cluster.create(pod(name, node=NODE))
        _, address = cluster.start_pod_sandbox(name)
        deadline = time.monotonic() + 30
        while not nstools.ping(pinger_ns, address):
            assert time.monotonic() < deadline, f"{name} {address}: no reply in 30 s"
        latencies.append(time.perf_counter() - t0)
    return latencies


def bench_drift(cluster: OvnCluster, rounds: int) -> list[float]:
    nb = cluster.stack.nb.nbctl
    cluster.start_pod(pod("drifty", node=NODE))
    latencies = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        nb("lsp-del", "drifty.default")
        deadline = time.monotonic() + 30
        while "drifty.default" not in nb("lsp-list", "ovn-default"):
            assert time.monotonic() < deadline, "port not repaired in 30 s"
        latencies.append(time.perf_counter() - t0)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pods", type=int, default=50, help="pods for add-del")
    parser.add_argument("--ping-pods", type=int, default=50, help="pods for first-ping")
    parser.add_argument("--drift-rounds", type=int, default=20, help="repairs timed")
    args = parser.parse_args()
    reason = missing_stack()
    if reason:
        sys.exit(f"bench_ovs needs a local OVS + OVN stack: {reason}")

    folder = Path(tempfile.mkdtemp(prefix="ovs-"))
    try:
        with OvnStack(folder) as stack, OvnCluster(stack) as cluster:
            cluster.create(subnet("ovn-default", "10.16.0.0/16", default=True))
            rate, add_ms, del_ms = bench_add_del(cluster, args.pods)
            pings = bench_first_ping(cluster, args.ping_pods)
            drift = bench_drift(cluster, args.drift_rounds)
        cpus = os.cpu_count()
        print(f"OVS datapath, one node, userspace datapath ({cpus} CPUs)")
        print(f"add-del     {args.pods} pods exec'd: {rate:.1f} ADD+DEL/s, "
              f"ADD median {add_ms:.0f} ms, DEL median {del_ms:.0f} ms")  # fmt: skip
        print(f"first-ping  {len(pings)} pods: p50 {_percentile(pings, 0.5) * 1000:.0f} ms, "
              f"p99 {_percentile(pings, 0.99) * 1000:.0f} ms")  # fmt: skip
        print(f"drift       {len(drift)} repairs: p50 {_percentile(drift, 0.5) * 1000:.0f} ms, "
              f"max {max(drift) * 1000:.0f} ms")  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
