"""ADD plus DEL per second on one node: the CNI plugin, the node agent and netlink.

Sets up what a node sees: the embedded API server in its own process
(:class:`ovnctl.sim.SimProcess`) holding ``--pods`` pods of one subnet whose
allocation annotations are already written (as the controller would), the
node agent (:class:`ovnctl.node.daemon.ThreadedNodeDaemon`) watching them, and
one real network namespace per pod. It then times ADD followed by DEL for
every pod, three ways:

* ``in-process``: the plugin's ``main()`` called directly, one pod at a time
  (agent + netlink cost, no interpreter start);
* ``in-process x4``: four callers at once (the agent serialises netlink work
  on one thread, so this shows the cost of waiting, not a speed-up);
* ``exec``: ``python -m ovnctl.cni`` as a separate process per call, exactly
  as a runtime execs a plugin (adds the interpreter's start-up).

Namespace creation is outside the timings. Needs root. Run::

    python -m benchmarks.bench_cni [--pods 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ovnctl.cni.plugin import main as plugin_main
from ovnctl.models import allocation_annotations
from ovnctl.node.daemon import DaemonSettings, ThreadedNodeDaemon
from ovnctl.node.naming import bridge_name, host_veth_name
from ovnctl.sim import SimProcess

NODE = "bench-node"
SUBNET = "bench-" + uuid.uuid4().hex[:5]
CIDR, GATEWAY = "10.252.0.0/16", "10.252.0.1"


def _post(url: str, path: str, body: dict[str, Any]) -> None:
    import urllib.request

    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def _pods(url: str, count: int) -> list[str]:
    names = []
    for i in range(count):
        name = f"bench-{i}"
        host = i + 10
        annotations = allocation_annotations(
            provider="ovn",
            subnet=SUBNET,
            cidr_block=CIDR,
            gateway=GATEWAY,
            ips=[f"10.252.{host // 256}.{host % 256}"],
            mac=f"00:00:00:fc:{host // 256:02x}:{host % 256:02x}",
        )
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "annotations": annotations},
            "spec": {"nodeName": NODE, "containers": [{"name": "c", "image": "pause"}]},
        }
        _post(url, "/api/v1/namespaces/default/pods", body)
        names.append(name)
    return names


def _environ(command: str, pod: str, netns: str) -> dict[str, str]:
    return {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": f"bench-{pod}",
        "CNI_NETNS": f"/var/run/netns/{netns}",
        "CNI_IFNAME": "eth0",
        "CNI_ARGS": f"K8S_POD_NAMESPACE=default;K8S_POD_NAME={pod}",
        "CNI_PATH": "/opt/cni/bin",
    }


def _in_process(conf: bytes) -> Callable[[str, str, str], None]:
    def call(command: str, pod: str, netns: str) -> None:
        out = io.StringIO()
        status = plugin_main(
            environ=_environ(command, pod, netns), stdin=io.BytesIO(conf), stdout=out
        )
        if status != 0:
            raise RuntimeError(f"{command} {pod}: {out.getvalue()}")

    return call


def _exec(conf: bytes) -> Callable[[str, str, str], None]:
    repo = str(Path(__file__).resolve().parents[1])

    def call(command: str, pod: str, netns: str) -> None:
        env = {"PATH": os.environ["PATH"], "PYTHONPATH": repo, **_environ(command, pod, netns)}
        done = subprocess.run(
            [sys.executable, "-m", "ovnctl.cni"], input=conf, env=env, capture_output=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"{command} {pod}: {done.stdout.decode()}")

    return call


def _cycle(
    call: Callable[[str, str, str], None], pairs: list[tuple[str, str]], workers: int
) -> tuple[float, list[float], list[float]]:
    """ADD then DEL for every pod; (pairs/s, ADD ms list, DEL ms list)."""
    adds: list[float] = []
    dels: list[float] = []

    def one(pair: tuple[str, str]) -> None:
        pod, netns = pair
        t0 = time.perf_counter()
        call("ADD", pod, netns)
        t1 = time.perf_counter()
        call("DEL", pod, netns)
        t2 = time.perf_counter()
        adds.append((t1 - t0) * 1000)
        dels.append((t2 - t1) * 1000)

    start = time.perf_counter()
    if workers == 1:
        for pair in pairs:
            one(pair)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one, pairs))
    return len(pairs) / (time.perf_counter() - start), adds, dels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pods", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="repeats; the median is reported")
    parser.add_argument("--exec-pods", type=int, default=20, help="pods for the exec variant")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_cni needs root: it creates network namespaces and interfaces")

    root = Path(tempfile.mkdtemp(prefix="ovb-"))
    namespaces = [f"ovb-{uuid.uuid4().hex[:6]}" for _ in range(args.pods)]
    try:
        for ns in namespaces:
            subprocess.run(["ip", "netns", "add", ns], check=True)
        with SimProcess() as sim:
            pods = _pods(sim.url, args.pods)
            settings = DaemonSettings(
                node_name=NODE,
                socket_path=root / "daemon.sock",
                state_dir=root / "state",
                kubeconfig=str(sim.kubeconfig_path),
                datapath="linux-bridge",  # bench_ovs measures the OVS datapath
            )
            with ThreadedNodeDaemon(settings) as daemon:
                deadline = time.monotonic() + 10
                while len(daemon.allocations) < args.pods and time.monotonic() < deadline:
                    time.sleep(0.05)
                conf = json.dumps(
                    {
                        "cniVersion": "1.0.0",
                        "name": "ovnctl",
                        "type": "kube-ovn",
                        "server_socket": str(settings.socket_path),
                    }
                ).encode()
                pairs = list(zip(pods, namespaces, strict=True))
                rows = []
                for label, call, chosen, workers in (
                    ("in-process", _in_process(conf), pairs, 1),
                    ("in-process x4", _in_process(conf), pairs, 4),
                    ("exec python -m ovnctl.cni", _exec(conf), pairs[: args.exec_pods], 1),
                ):
                    runs = [_cycle(call, chosen, workers) for _ in range(args.rounds)]
                    rate = statistics.median(r[0] for r in runs)
                    add_ms = statistics.median(x for r in runs for x in r[1])
                    del_ms = statistics.median(x for r in runs for x in r[2])
                    rows.append((label, len(chosen), rate, add_ms, del_ms))
        print(f"ADD+DEL on one node ({args.rounds} rounds, median; {os.cpu_count()} CPUs)")
        print(f"{'variant':<28} {'pods':>5} {'ADD+DEL/s':>10} {'ADD ms':>8} {'DEL ms':>8}")
        for label, count, rate, add_ms, del_ms in rows:
            print(f"{label:<28} {count:>5} {rate:>10.1f} {add_ms:>8.1f} {del_ms:>8.1f}")
    finally:
        for ns in namespaces:
            subprocess.run(["ip", "netns", "del", ns], check=False)
        for pod in (f"bench-{i}" for i in range(args.pods)):
            name = host_veth_name(container_id=f"bench-{pod}", ifname="eth0")
            subprocess.run(["ip", "link", "del", name], check=False, capture_output=True)
        subprocess.run(["ip", "link", "del", bridge_name(SUBNET)], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
