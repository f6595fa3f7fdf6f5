"""Start-up time against the number of existing pods: is it linear?

The controller's informers LIST every watched kind before any work starts.
This creates N pods on the embedded API server (in a thread), starts a
controller (in another thread) and reports the time until it is ready, for
each N given, so the growth with N is visible in one run.

    python -m benchmarks.bench_startup 500 1000 2000 8000

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
from ovnctl.k8s.resources import PODS
from ovnctl.sim import ThreadedSimServer
from tests.conftest import crd_manifests
from tests.controller.conftest import ControllerThread
from tests.controller.objects import pod


async def measure(pods: int) -> float:
    """Seconds from controller start to ready with ``pods`` existing pods."""
    with ThreadedSimServer(manifests=crd_manifests()) as sim:
        kube = connect(kubeconfig=str(sim.kubeconfig_path), max_concurrency=32)
        semaphore = asyncio.Semaphore(32)

        async def create(i: int) -> None:
            async with semaphore:
                await kube.create(PODS, pod(f"p{i}"), namespace="default")

        await asyncio.gather(*(create(i) for i in range(pods)))
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
    parser.add_argument("pods", nargs="*", type=int, default=[500, 1000, 2000, 8000])
    args = parser.parse_args()
    print(f"{'pods':>8}  {'ready after s':>13}  {'s per 1000 pods':>15}")
    for n in args.pods:
        seconds = asyncio.run(measure(n))
        print(f"{n:>8}  {seconds:>13.2f}  {seconds / n * 1000:>15.3f}")


if __name__ == "__main__":
    main()
