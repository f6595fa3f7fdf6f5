"""Start-up time against the number of existing pods or subnets: is it linear?

The controller's informers LIST every bulk kind and Kopf lists the Subnets
(``@kopf.on.event`` handlers, no index: see ``benchmarks.bench_kopf_index``);
the IPAM is rebuilt and every subnet reconciled once before any work starts.
This creates N objects on the embedded API server, starts a controller (in a
thread of this process) and reports the time until it is ready, for each N
given, so the growth with N is visible in one run. The server runs in its own
process by default, so its CPU (schema checks, watch fan-out) is not charged
to the controller; ``--server thread`` runs it in this process, as the
figures recorded before the server checked CRD schemas were taken. For subnets it also
reports who read them (one LIST and one WATCH, Kopf's) and, last, the time per
subnet at the largest N over that at the smallest (linear: about 1).

    python -m benchmarks.bench_startup 500 1000 2000 8000
    python -m benchmarks.bench_startup --kind subnets 250 500 1000 2000
    python -m benchmarks.bench_startup --kind subnets --server thread 2000

The pod informers' predecessor (Kopf indexes on pods) can be measured the same
way by checking out the commit before "Informers of our own instead of Kopf".
"""

from __future__ import annotations

import argparse
import asyncio
import time

from ovnctl.controller import ControllerSettings
from ovnctl.k8s.connection import connect
from ovnctl.k8s.resources import PODS, SUBNETS
from ovnctl.sim import SimProcess, ThreadedSimServer
from tests.conftest import crd_manifests
from tests.controller.conftest import ControllerThread
from tests.controller.objects import pod, subnet


async def measure(count: int, *, kind: str = "pods", server: str = "process") -> tuple[float, str]:
    """Seconds from controller start to ready with ``count`` existing pods or subnets, and
    the Subnet reads the start made (``list+watch by kopf/...``)."""
    runner = SimProcess if server == "process" else ThreadedSimServer
    with runner(manifests=crd_manifests()) as sim:
        kube = connect(kubeconfig=str(sim.kubeconfig_path), max_concurrency=32)
        semaphore = asyncio.Semaphore(32)

        async def create(i: int) -> None:
            async with semaphore:
                if kind == "pods":
                    await kube.create(PODS, pod(f"p{i}"), namespace="default")
                else:  # disjoint /24s, all of the primary provider
                    await kube.create(SUBNETS, subnet(f"s{i}", f"10.{i // 256}.{i % 256}.0/24"))

        await asyncio.gather(*(create(i) for i in range(count)))
        kube.close()
        sim.reset_request_log()
        started = time.monotonic()
        thread = ControllerThread(
            ControllerSettings(kubeconfig=str(sim.kubeconfig_path), primary_network=False)
        )
        await thread.start(within=3600)
        elapsed = time.monotonic() - started
        thread.stop()
        log = sim.request_log() if isinstance(sim, SimProcess) else sim.request_log
        reads = [
            f"{e.verb} by {e.user_agent}"
            for e in log.entries
            if e.resource == "subnets" and e.verb in ("get", "list", "watch")
        ]
        return elapsed, ", ".join(reads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", nargs="*", type=int, default=[500, 1000, 2000, 8000])
    parser.add_argument("--kind", choices=["pods", "subnets"], default="pods")
    parser.add_argument(
        "--server",
        choices=["process", "thread"],
        default="process",
        help="where the embedded API server runs (default: its own process)",
    )
    args = parser.parse_args()
    print(f"{args.kind:>8}  {'ready after s':>13}  {'ms per object':>13}  subnet reads")
    per_object: list[float] = []
    for n in args.counts:
        seconds, reads = asyncio.run(measure(n, kind=args.kind, server=args.server))
        per_object.append(seconds / n)
        print(f"{n:>8}  {seconds:>13.2f}  {seconds / n * 1000:>13.3f}  {reads}")
    if len(per_object) > 1:
        ratio = per_object[-1] / per_object[0]
        print(f"time per object at {args.counts[-1]} / at {args.counts[0]}: {ratio:.2f}")


if __name__ == "__main__":
    main()
