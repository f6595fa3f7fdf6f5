"""Start-up time against the number of existing pods or subnets: is it linear?

The controller's informers LIST every watched kind, the IPAM is rebuilt and
every subnet reconciled once before any work starts. This creates N objects
on the embedded API server (in a thread), starts a controller (in another
thread) and reports the time until it is ready, for each N given, so the
growth with N is visible in one run.

    python -m benchmarks.bench_startup 500 1000 2000 8000
    python -m benchmarks.bench_startup --kind subnets 250 500 1000 2000

The Kopf-based controller this replaced can be measured the same way by
checking out the commit before "Informers of our own instead of Kopf" and
running this file there (its controller fixture is the same).
"""

from __future__ import annotations

import argparse
import asyncio
import time

from ovnctl.controller import ControllerSettings
from ovnctl.k8s.connection import connect
from ovnctl.k8s.resources import PODS, SUBNETS
from ovnctl.sim import ThreadedSimServer
from tests.conftest import crd_manifests
from tests.controller.conftest import ControllerThread
from tests.controller.objects import pod, subnet


async def measure(count: int, *, kind: str = "pods") -> float:
    """Seconds from controller start to ready with ``count`` existing pods or subnets."""
    with ThreadedSimServer(manifests=crd_manifests()) as sim:
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
        started = time.monotonic()
        thread = ControllerThread(
            ControllerSettings(kubeconfig=str(sim.kubeconfig_path), primary_network=False)
        )
        await thread.start(within=3600)
        elapsed = time.monotonic() - started
        thread.stop()
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("counts", nargs="*", type=int, default=[500, 1000, 2000, 8000])
    parser.add_argument("--kind", choices=["pods", "subnets"], default="pods")
    args = parser.parse_args()
    print(f"{args.kind:>8}  {'ready after s':>13}  {'ms per object':>13}")
    for n in args.counts:
        seconds = asyncio.run(measure(n, kind=args.kind))
        print(f"{n:>8}  {seconds:>13.2f}  {seconds / n * 1000:>13.3f}")


if __name__ == "__main__":
    main()
