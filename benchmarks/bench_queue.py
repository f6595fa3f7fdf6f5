"""Work-queue throughput: keys per second through add, get and done.

Run: ``python -m benchmarks.bench_queue`` (``--keys``, ``--workers``, ``--repeat``).

Three scenarios, each best of ``--repeat`` runs, on the real clock:

* ``queue``: add N distinct keys, then one loop does get + done for each
  (the bare cost of the three sets and the deque);
* ``pool``: add N distinct keys, 8 workers with a no-op reconcile drain them
  (the pool's bookkeeping: result mapping, forget, held-key tracking);
* ``pool+interleaved``: a producer adds keys in batches of 100 while 8 workers
  consume, so workers park on futures and are woken by adds;
* ``pool+prometheus``: as ``pool``, with the Prometheus sink on a fresh registry.

Numbers are ratios measured in one run on one core; nothing here asserts speed.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any

from prometheus_client import CollectorRegistry

from ovnctl.queue import Done, PrometheusMetricsSink, RateLimitingQueue, Result, WorkerPool


async def noop(key: int) -> Result:
    return Done


async def bench_queue(keys: int) -> float:
    queue: RateLimitingQueue[int] = RateLimitingQueue(name="bench")
    start = time.perf_counter()
    for key in range(keys):
        queue.add(key)
    for _ in range(keys):
        queue.done(await queue.get())
    return time.perf_counter() - start


async def bench_pool(keys: int, workers: int, *, prometheus: bool = False) -> float:
    sink = PrometheusMetricsSink(registry=CollectorRegistry()) if prometheus else None
    queue: RateLimitingQueue[int] = RateLimitingQueue(name="bench", metrics=sink)
    pool = WorkerPool(queue=queue, reconcile=noop, workers=workers)
    start = time.perf_counter()
    pool.start()
    for key in range(keys):
        queue.add(key)
    report = await pool.stop(grace=600, drain=True)
    elapsed = time.perf_counter() - start
    assert report.complete, report
    return elapsed


async def bench_interleaved(keys: int, workers: int) -> float:
    queue: RateLimitingQueue[int] = RateLimitingQueue(name="bench")
    pool = WorkerPool(queue=queue, reconcile=noop, workers=workers)
    start = time.perf_counter()
    pool.start()
    for batch in range(0, keys, 100):
        for key in range(batch, min(batch + 100, keys)):
            queue.add(key)
        await asyncio.sleep(0)  # let the workers take the batch, as a watch stream would
    report = await pool.stop(grace=600, drain=True)
    elapsed = time.perf_counter() - start
    assert report.complete, report
    return elapsed


def best_of(repeat: int, run: Callable[[], Coroutine[Any, Any, float]]) -> float:
    return min(asyncio.run(run()) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, w = args.keys, args.workers
    scenarios: list[tuple[str, Callable[[], Coroutine[Any, Any, float]]]] = [
        ("queue (add, get, done)", lambda: bench_queue(n)),
        (f"pool, {w} workers, no-op reconcile", lambda: bench_pool(n, w)),
        (f"pool, {w} workers, interleaved adds", lambda: bench_interleaved(n, w)),
        (f"pool, {w} workers, prometheus sink", lambda: bench_pool(n, w, prometheus=True)),
    ]
    print(f"{n:,} distinct keys, best of {args.repeat}")
    print(f"{'scenario':<40} {'keys/s':>12} {'µs/key':>8}")
    for label, run in scenarios:
        elapsed = best_of(args.repeat, run)
        print(f"{label:<40} {n / elapsed:>12,.0f} {elapsed / n * 1e6:>8.2f}")


if __name__ == "__main__":
    main()
