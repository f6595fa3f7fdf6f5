"""How fast the embedded API server is: writes/s and watch events/s it sustains.

The server runs in its own process (:class:`ovnctl.sim.SimProcess`, one
asyncio loop, so one core); this process drives it with concurrent aiohttp
clients. The client side can be the limit on a small machine, so the numbers
are lower bounds for the server. Run::

    python -m benchmarks.bench_sim [--writes 5000] [--concurrency 32] [--watchers 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import aiohttp

from ovnctl.sim import SimProcess

PATH = "/api/v1/namespaces/default/configmaps"


async def _writes(url: str, *, count: int, concurrency: int, prefix: str) -> float:
    """Create then patch ``count`` configmaps from ``concurrency`` clients; return writes/s."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    headers = {"Content-Type": "application/json"}
    patch_headers = {"Content-Type": "application/merge-patch+json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            body = {
                "metadata": {"name": f"{prefix}{i}", "labels": {"i": str(i)}},
                "data": {"k": "v"},
            }
            async with session.post(url + PATH, data=json.dumps(body), headers=headers) as r:
                assert r.status == 201, await r.text()
            patch = {"metadata": {"annotations": {"done": "true"}}}
            async with session.patch(
                f"{url}{PATH}/{prefix}{i}", data=json.dumps(patch), headers=patch_headers
            ) as r:
                assert r.status == 200, await r.text()

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    return 2 * count / elapsed


async def _watch_events(
    url: str, *, count: int, concurrency: int, watchers: int
) -> tuple[float, float]:
    """Writes with ``watchers`` open watches; return (writes/s, delivered events/s)."""
    async with aiohttp.ClientSession() as session, session.get(url + PATH) as r:
        rv = (await r.json())["metadata"]["resourceVersion"]
    expected = 2 * count
    received = [0] * watchers
    done = asyncio.Event()

    async def watch(index: int) -> None:
        params = {"watch": "true", "resourceVersion": rv}
        async with aiohttp.ClientSession() as session, session.get(url + PATH, params=params) as r:
            async for line in r.content:
                if line.strip():
                    received[index] += 1
                    if received[index] >= expected:
                        break
        if all(n >= expected for n in received):
            done.set()

    tasks = [asyncio.create_task(watch(i)) for i in range(watchers)]
    await asyncio.sleep(0.5)
    start = time.perf_counter()
    writes_per_s = await _writes(url, count=count, concurrency=concurrency, prefix="w")
    await asyncio.wait_for(asyncio.gather(*tasks), 300)
    elapsed = time.perf_counter() - start
    return writes_per_s, sum(received) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--writes", type=int, default=5000, help="objects to create (each also patched)"
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--watchers", type=int, default=8)
    args = parser.parse_args()
    with SimProcess(history_limit=4 * args.writes) as sim:
        writes = asyncio.run(
            _writes(sim.url, count=args.writes, concurrency=args.concurrency, prefix="c")
        )
        print(f"writes (create+patch), no watchers: {writes:8.0f} writes/s")
        writes_w, events = asyncio.run(
            _watch_events(
                sim.url, count=args.writes, concurrency=args.concurrency, watchers=args.watchers
            )
        )
        print(f"writes with {args.watchers} watchers:         {writes_w:8.0f} writes/s")
        print(f"watch events delivered:            {events:8.0f} events/s")
        stats = sim.stats()
        print(f"server: {stats['requests']} requests, resourceVersion {stats['resourceVersion']}")


if __name__ == "__main__":
    main()
