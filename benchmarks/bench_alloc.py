"""How fast pods get their addresses: end to end, through a real API server process.

Three processes, as in a cluster: the embedded API server
(:class:`ovnctl.sim.SimProcess`, ``--latency-ms 1`` added to every request),
the controller (:class:`ovnctl.controller.Controller` in a child process,
talking HTTP through a kubeconfig), and this driver, which creates the pods
and watches them. Time starts when the first pod create is sent and ends when
the watch shows the last pod annotated; per pod, latency runs from its create
request to the watch event that shows it allocated.

Scenarios:

* ``vm``: 1,000 KubeVirt virt-launcher pods (with their VMs) x 2 Multus
  attachments on two subnets (issue 6's target: at most 20 s on 2 cores);
* ``whereabouts``: 128 pods x 16 attachments on 16 subnets, the scenario that
  took Whereabouts about 4 minutes (its issue #313; target: at most 10 s).

Run::

    python -m benchmarks.bench_alloc [--scenario vm|whereabouts|all] [--latency-ms 1] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp

from ovnctl.sim import SimProcess

REPO = Path(__file__).resolve().parents[1]
MANIFESTS = [
    *(
        path
        for path in sorted((REPO / "crds").glob("*.yaml"))
        if "kind: CustomResourceDefinition" in path.read_text()  # not the kustomization
    ),
    REPO / "crds" / "test",
]
NAMESPACE = "default"
CREATE_CONCURRENCY = 32


@dataclass(frozen=True)
class Scenario:
    name: str
    pods: int
    attachments: int
    vms: bool
    target_s: float


SCENARIOS = {
    "vm": Scenario("vm", pods=1000, attachments=2, vms=True, target_s=20.0),
    "whereabouts": Scenario("whereabouts", pods=128, attachments=16, vms=False, target_s=10.0),
}


@dataclass(frozen=True)
class Outcome:
    scenario: str
    pods: int
    attachments: int
    nics: int
    total_s: float
    creates_s: float
    """How long sending the creates took (the driver and server's share of the total)."""
    p50_ms: float
    p99_ms: float
    max_ms: float
    nics_per_s: float
    target_s: float
    met: bool
    ip_creates: int
    pod_patches: int
    nad_gets: int


# -- the controller, in its own process ------------------------------------------------------


def _run_controller(kubeconfig: str) -> None:
    from ovnctl.controller import Controller, ControllerSettings

    controller = Controller(
        settings=ControllerSettings(kubeconfig=kubeconfig, primary_network=False)
    )
    asyncio.run(controller.run())


# -- objects ------------------------------------------------------------------------------------


def _nad(i: int) -> dict[str, Any]:
    config = {"cniVersion": "0.3.1", "type": "kube-ovn", "server_socket": "/run/ovnctl.sock"}
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": f"net{i}", "namespace": NAMESPACE},
        "spec": {"config": json.dumps(config)},
    }


def _subnet(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "Subnet",
        "metadata": {"name": f"sub{i}"},
        "spec": {"cidrBlock": f"10.{100 + i}.0.0/16", "provider": f"net{i}.{NAMESPACE}.ovn"},
    }


def _vm(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"running": True, "template": {"spec": {}}},
    }


def _pod(i: int, scenario: Scenario) -> dict[str, Any]:
    networks = ",".join(f"net{a}" for a in range(scenario.attachments))
    meta: dict[str, Any] = {
        "name": f"virt-launcher-vm{i}-x" if scenario.vms else f"pod{i}",
        "namespace": NAMESPACE,
        "annotations": {"k8s.v1.cni.cncf.io/networks": networks},
    }
    if scenario.vms:
        meta["labels"] = {"vm.kubevirt.io/name": f"vm{i}"}
        meta["ownerReferences"] = [
            {
                "apiVersion": "kubevirt.io/v1",
                "kind": "VirtualMachineInstance",
                "name": f"vm{i}",
                "uid": f"uid-vm{i}",
                "controller": True,
            }
        ]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"nodeName": "node1", "containers": [{"name": "c", "image": "busybox"}]},
    }


def _path(obj: Mapping[str, Any]) -> str:
    kind = obj["kind"]
    if kind == "Subnet":
        return "/apis/kubeovn.io/v1/subnets"
    if kind == "NetworkAttachmentDefinition":
        return f"/apis/k8s.cni.cncf.io/v1/namespaces/{NAMESPACE}/network-attachment-definitions"
    if kind == "VirtualMachine":
        return f"/apis/kubevirt.io/v1/namespaces/{NAMESPACE}/virtualmachines"
    return f"/api/v1/namespaces/{NAMESPACE}/pods"


# -- the driver ------------------------------------------------------------------------------------


async def _create(session: aiohttp.ClientSession, url: str, obj: Mapping[str, Any]) -> None:
    async with session.post(url + _path(obj), json=obj) as response:
        if response.status != 201:
            raise RuntimeError(f"create {obj['metadata']['name']}: {await response.text()}")


async def _create_all(
    session: aiohttp.ClientSession, url: str, objects: list[dict[str, Any]]
) -> dict[str, float]:
    """Create objects with bounded concurrency; the time each create was sent, by name."""
    sent: dict[str, float] = {}
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for obj in objects:
        queue.put_nowait(obj)

    async def worker() -> None:
        while not queue.empty():
            obj = queue.get_nowait()
            sent[obj["metadata"]["name"]] = time.perf_counter()
            await _create(session, url, obj)

    await asyncio.gather(*(worker() for _ in range(CREATE_CONCURRENCY)))
    return sent


async def _wait_ready(session: aiohttp.ClientSession, url: str, count: int) -> None:
    while True:
        async with session.get(url + "/apis/kubeovn.io/v1/subnets") as response:
            items = (await response.json())["items"]
        ready = [
            s
            for s in items
            if any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (s.get("status") or {}).get("conditions", [])
            )
        ]
        if len(ready) == count:
            return
        await asyncio.sleep(0.1)


async def _watch_allocated(
    session: aiohttp.ClientSession,
    url: str,
    resource_version: str,
    providers: list[str],
    expected: int,
    seen: dict[str, float],
    started: asyncio.Event,
) -> None:
    """Record when each pod is first seen with every provider allocated."""
    keys = [f"{p}.kubernetes.io/allocated" for p in providers]
    params = {"watch": "true", "resourceVersion": resource_version}
    path = f"/api/v1/namespaces/{NAMESPACE}/pods"
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    async with session.get(url + path, params=params, timeout=timeout) as response:
        started.set()
        async for line in response.content:
            if not line.strip():
                continue
            event = json.loads(line)
            meta = event.get("object", {}).get("metadata", {})
            annotations = meta.get("annotations") or {}
            name = meta.get("name")
            if name and name not in seen and all(annotations.get(k) == "true" for k in keys):
                seen[name] = time.perf_counter()
                if len(seen) >= expected:
                    return


async def _drive(url: str, scenario: Scenario, sim: SimProcess) -> Outcome:
    connector = aiohttp.TCPConnector(limit=CREATE_CONCURRENCY + 4)
    async with aiohttp.ClientSession(connector=connector) as session:
        await _wait_ready(session, url, scenario.attachments)
        if scenario.vms:
            await _create_all(session, url, [_vm(f"vm{i}") for i in range(scenario.pods)])
        async with session.get(url + f"/api/v1/namespaces/{NAMESPACE}/pods") as response:
            rv = (await response.json())["metadata"]["resourceVersion"]
        sim.reset_request_log()
        providers = [f"net{a}.{NAMESPACE}.ovn" for a in range(scenario.attachments)]
        seen: dict[str, float] = {}
        started = asyncio.Event()
        watcher = asyncio.create_task(
            _watch_allocated(session, url, rv, providers, scenario.pods, seen, started)
        )
        await started.wait()
        t0 = time.perf_counter()
        sent = await _create_all(session, url, [_pod(i, scenario) for i in range(scenario.pods)])
        creates = time.perf_counter() - t0
        await asyncio.wait_for(watcher, timeout=600)
        total = max(seen.values()) - t0
    latencies = sorted((seen[name] - sent[name]) * 1000 for name in sent)
    log = sim.request_log()
    return Outcome(
        scenario=scenario.name,
        pods=scenario.pods,
        attachments=scenario.attachments,
        nics=scenario.pods * scenario.attachments,
        total_s=round(total, 2),
        creates_s=round(creates, 2),
        p50_ms=round(statistics.median(latencies), 1),
        p99_ms=round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 1),
        max_ms=round(latencies[-1], 1),
        nics_per_s=round(scenario.pods * scenario.attachments / total),
        target_s=scenario.target_s,
        met=total <= scenario.target_s,
        ip_creates=log.count(verb="create", resource="ips"),
        pod_patches=log.count(verb="patch", resource="pods"),
        nad_gets=log.count(verb="get", resource="network-attachment-definitions"),
    )


def run(scenario: Scenario, *, latency_ms: float) -> Outcome:
    with SimProcess(manifests=MANIFESTS, latency_ms=latency_ms) as sim:
        url = sim.url

        async def setup() -> None:
            async with aiohttp.ClientSession() as session:
                for i in range(scenario.attachments):
                    await _create(session, url, _nad(i))
                    await _create(session, url, _subnet(i))

        asyncio.run(setup())
        context = multiprocessing.get_context("spawn")
        controller = context.Process(
            target=_run_controller, args=(str(sim.kubeconfig_path),), daemon=True
        )
        controller.start()
        try:
            return asyncio.run(_drive(url, scenario, sim))
        finally:
            controller.terminate()
            controller.join(10)
            if controller.is_alive():
                controller.kill()


def _table(outcomes: list[Outcome]) -> str:
    header = (
        f"{'scenario':<12} {'pods':>5} {'att':>4} {'NICs':>6} {'total s':>8} {'target s':>8} "
        f"{'creates s':>9} "
        f"{'p50 ms':>8} {'p99 ms':>8} {'NICs/s':>7} {'IP creates':>10} {'pod patches':>11} "
        f"{'NAD GETs':>8}"
    )
    rows = [header, "-" * len(header)]
    for o in outcomes:
        rows.append(
            f"{o.scenario:<12} {o.pods:>5} {o.attachments:>4} {o.nics:>6} {o.total_s:>8.2f} "
            f"{o.target_s:>8.1f} {o.creates_s:>9.2f} {o.p50_ms:>8.1f} {o.p99_ms:>8.1f} "
            f"{o.nics_per_s:>7} {o.ip_creates:>10} {o.pod_patches:>11} {o.nad_gets:>8}"
            + ("" if o.met else "   MISSED")
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=[*SCENARIOS, "all"], default="all")
    parser.add_argument("--latency-ms", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    chosen = list(SCENARIOS.values()) if args.scenario == "all" else [SCENARIOS[args.scenario]]
    outcomes = [run(s, latency_ms=args.latency_ms) for s in chosen]
    if args.json:
        json.dump([asdict(o) for o in outcomes], sys.stdout, indent=2)
        print()
    else:
        print(f"API server latency {args.latency_ms} ms per request; cores: {_cores()}")
        print(_table(outcomes))


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    main()
