"""A StatefulSet's pods with an ``ip_pool`` list beside the plain-subnet case (issue 16).

Three processes, as in :mod:`benchmarks.bench_alloc`: the embedded API server
(``--latency-ms`` on every request), ``ovnctl run`` and this driver. One
StatefulSet ``db`` with ``--pods`` replicas; the driver creates its pods
(``db-0`` ...) as the StatefulSet controller would, each with an
ownerReference to it, on the default subnet ``10.16.0.0/16``. Two cases, each
on a fresh server and controller, run one after the other:

* ``plain``: no annotation, addresses from the subnet;
* ``ip_pool``: every pod carries ``ovn.kubernetes.io/ip_pool`` listing all
  1,024 addresses of ``10.16.4.0/22`` (a StatefulSet template's annotation,
  so every pod has the whole list).

Time runs from the first pod create to the watch event showing the last pod
annotated. The run also checks that every pooled address lies in the /22 and
that no address was given twice.

``--statefulset-memory N`` instead measures, in this process with
:mod:`tracemalloc`, what the controller's StatefulSet informer keeps per
StatefulSet: N realistic StatefulSet bodies are reduced and applied as one
snapshot through the real :class:`~ovnctl.k8s.informers.Informer` (its
known-objects map, fingerprints and index entries). Allocation counts do not
depend on machine load, so this number can be taken anywhere.

Run (the real numbers; the machine must not be busy)::

    python -m benchmarks.bench_pinned --pods 1000
    python -m benchmarks.bench_pinned --pods 20 --json     # a quick proof that it works
    python -m benchmarks.bench_pinned --statefulset-memory 10000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import ipaddress
import json
import tempfile
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ovnctl.bench import objects
from ovnctl.bench.runner import ControllerProcess, Driver, Progress, sim_process
from ovnctl.caches import index_statefulset
from ovnctl.demo.objects import subnet
from ovnctl.k8s.informers import STATEFULSETS_BY_KEY, Informer, build_indexes
from ovnctl.k8s.resources import STATEFULSETS

PODS_PATH = f"/api/v1/namespaces/{objects.NAMESPACE}/pods"
STS_PATH = f"/apis/apps/v1/namespaces/{objects.NAMESPACE}/statefulsets"
POOL = ipaddress.ip_network("10.16.4.0/22")
ALLOCATED = "ovn.kubernetes.io/allocated"
IP = "ovn.kubernetes.io/ip_address"


@dataclass(frozen=True)
class Outcome:
    case: str
    pods: int
    total_s: float
    creates_s: float
    distinct: bool
    inside_pool: bool


def _statefulset(replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": objects.NAMESPACE},
        "spec": {
            "replicas": replicas,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": []}},
        },
    }


def _replica(i: int, uid: str, pool: str | None) -> dict[str, Any]:
    body = objects.pod(f"db-{i}", annotations={"ovn.kubernetes.io/ip_pool": pool} if pool else None)
    body["metadata"]["labels"] = {"app": "db"}
    body["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": "db",
            "uid": uid,
            "controller": True,
        }
    ]
    return body


async def _watch(
    driver: Driver, rv: str, expected: int, seen: dict[str, tuple[float, str]]
) -> None:
    async for event in driver.watch(PODS_PATH, resource_version=rv):
        meta = (event.get("object") or {}).get("metadata") or {}
        annotations = meta.get("annotations") or {}
        name = meta.get("name")
        if name and name not in seen and annotations.get(ALLOCATED) == "true":
            seen[name] = (time.perf_counter(), annotations.get(IP, ""))
            if len(seen) >= expected:
                return


async def _case(
    case: str, pods: int, latency_ms: float, log_dir: Path, progress: Progress
) -> Outcome:
    pool = ",".join(str(a) for a in POOL) if case == "ip_pool" else None
    with sim_process(latency_ms=latency_ms) as sim:
        async with Driver(sim.url) as driver:
            await driver.create(subnet("ovn-default", "10.16.0.0/16", default=True))
            await driver.create(_statefulset(pods))
            uid = (await driver.list(STS_PATH))["items"][0]["metadata"]["uid"]
            with ControllerProcess(
                kubeconfig=sim.kubeconfig_path, log_dir=log_dir, name=f"controller-{case}"
            ) as controller:
                await controller.wait_ready()
                rv = await driver.resource_version(PODS_PATH)
                seen: dict[str, tuple[float, str]] = {}
                watcher = asyncio.create_task(_watch(driver, rv, pods, seen))
                await asyncio.sleep(0.05)  # the watch is open before the first create
                progress(f"{case}: creating {pods} StatefulSet pods")
                t0 = time.perf_counter()
                await driver.create_all(_replica(i, uid, pool) for i in range(pods))
                creates = time.perf_counter() - t0
                await asyncio.wait_for(watcher, timeout=900)
                total = max(t for t, _ in seen.values()) - t0
    ips = [ip for _, ip in seen.values()]
    progress(f"{case}: all {pods} pods annotated after {total:.2f} s")
    return Outcome(
        case=case,
        pods=pods,
        total_s=round(total, 2),
        creates_s=round(creates, 2),
        distinct=len(set(ips)) == len(ips),
        inside_pool=case != "ip_pool" or all(ipaddress.ip_address(ip) in POOL for ip in ips),
    )


def _realistic_statefulset(i: int) -> dict[str, Any]:
    body = _statefulset(3)
    body["metadata"].update(
        name=f"app{i}",
        namespace=f"ns{i % 50}",
        uid=f"{i:08x}-0000-4000-8000-000000000000",
        resourceVersion=str(1000 + i),
        labels={"app": f"app{i}", "team": f"t{i % 7}"},
    )
    body["spec"]["template"]["spec"]["containers"] = [
        {"name": "app", "image": "registry.example/app:1.2.3", "ports": [{"containerPort": 8080}]}
    ]
    body["status"] = {"replicas": 3, "readyReplicas": 3, "currentRevision": f"app{i}-5d9f"}
    return body


def statefulset_memory(count: int) -> float:
    """Bytes the StatefulSet informer keeps per StatefulSet (tracemalloc, in process)."""
    import kubernetes.client

    indexes = build_indexes()
    informer = Informer(
        configuration=kubernetes.client.Configuration(),
        resource=STATEFULSETS,
        indexers=[(indexes[STATEFULSETS_BY_KEY], index_statefulset)],
        on_change=lambda kind, key, extra: None,
    )
    bodies = [_realistic_statefulset(i) for i in range(count)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    informer.apply_snapshot([informer.reduce(body) for body in bodies])
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(informer) == count
    return (after - before) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pods", type=int, default=1000, help="StatefulSet replicas (<= 1024)")
    parser.add_argument("--latency-ms", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--statefulset-memory",
        type=int,
        metavar="N",
        help="measure the StatefulSet cache's bytes per object over N objects, and exit",
    )
    args = parser.parse_args()
    if args.statefulset_memory:
        per = statefulset_memory(args.statefulset_memory)
        print(json.dumps({"statefulsets": args.statefulset_memory, "bytes_per_object": round(per)}))
        return
    if not 0 < args.pods <= POOL.num_addresses:
        parser.error(f"--pods must be 1..{POOL.num_addresses} (the /22 list)")
    progress = Progress(quiet=args.json)
    with tempfile.TemporaryDirectory(prefix="bench-pinned-") as logs:
        outcomes = [
            asyncio.run(_case(case, args.pods, args.latency_ms, Path(logs), progress))
            for case in ("plain", "ip_pool")
        ]
    if args.json:
        print(json.dumps([asdict(o) for o in outcomes], indent=2))
        return
    print(
        f"{'case':<10} {'pods':>6} {'total s':>8} {'creates s':>10} {'distinct':>9} {'in pool':>8}"
    )
    for o in outcomes:
        print(
            f"{o.case:<10} {o.pods:>6} {o.total_s:>8} {o.creates_s:>10} "
            f"{o.distinct!s:>9} {o.inside_pool!s:>8}"
        )


if __name__ == "__main__":
    main()
