"""How fast the embedded API server is: writes/s and watch events/s it sustains.

The server runs in its own process (:class:`ovnctl.sim.SimProcess`, one
asyncio loop, so one core); this process drives it with concurrent aiohttp
clients. The client side can be the limit on a small machine, so the numbers
are lower bounds for the server.

The last phase measures what CRD schema enforcement costs: the same writes of
``kubeovn.io/v1`` IP objects (crds/ip.yaml, as ovnctl writes them) against a
server with the checks on and one with them off (``--no-schema-checks``),
alternated over a few rounds, and prints the ratios of the best rates and of the
server's CPU per write. Run::

    python -m benchmarks.bench_sim [--writes 5000] [--concurrency 32] [--watchers 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from ovnctl.bench.runner import cpu_seconds
from ovnctl.sim import SimProcess

PATH = "/api/v1/namespaces/default/configmaps"
IPS_PATH = "/apis/kubeovn.io/v1/ips"
IP_CRD = Path(__file__).resolve().parents[1] / "crds" / "ip.yaml"


def _configmap(name: str, i: int) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"i": str(i)}}, "data": {"k": "v"}}


def _ip(name: str, i: int) -> dict[str, Any]:
    """An IP object as ovnctl writes one for a pod's primary NIC."""
    address = f"10.{16 + i // 65536}.{i // 256 % 256}.{i % 256}"
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "IP",
        "metadata": {"name": name, "labels": {"ovn.kubernetes.io/subnet": "ovn-default"}},
        "spec": {
            "podName": name,
            "namespace": "default",
            "subnet": "ovn-default",
            "nodeName": "node1",
            "ipAddress": address,
            "v4IpAddress": address,
            "v6IpAddress": "",
            "macAddress": f"0e:00:00:00:{i // 256 % 256:02x}:{i % 256:02x}",
            "attachIps": [],
            "attachMacs": [],
            "attachSubnets": [],
            "containerID": "",
            "podType": "",
        },
    }


async def _writes(
    url: str,
    *,
    count: int,
    concurrency: int,
    prefix: str,
    path: str = PATH,
    make: Callable[[str, int], dict[str, Any]] = _configmap,
) -> float:
    """Create then patch ``count`` objects from ``concurrency`` clients; return writes/s."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)
    headers = {"Content-Type": "application/json"}
    patch_headers = {"Content-Type": "application/merge-patch+json"}

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            body = make(f"{prefix}{i}", i)
            async with session.post(url + path, data=json.dumps(body), headers=headers) as r:
                assert r.status == 201, await r.text()
            patch = {"metadata": {"annotations": {"done": "true"}}}
            async with session.patch(
                f"{url}{path}/{prefix}{i}", data=json.dumps(patch), headers=patch_headers
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
    parser.add_argument(
        "--rounds", type=int, default=3, help="on/off rounds for the schema-check cost"
    )
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
    _schema_cost(args)


def _schema_cost(args: argparse.Namespace) -> None:
    """The same IP-object writes with schema checks on and off, alternated ``--rounds`` times.

    Each round starts fresh servers. Two figures per setting: the best rate over the
    rounds (a load spike on a shared machine only lowers a round), and the server's own
    CPU per write from ``/proc``, which other processes do not inflate.
    """
    rates: dict[bool, list[float]] = {True: [], False: []}
    cpu_us: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for checks in (True, False):
            with SimProcess(
                history_limit=4 * args.writes, manifests=[IP_CRD], schema_checks=checks
            ) as sim:
                assert sim.process is not None
                before = cpu_seconds(sim.process.pid)
                rate = asyncio.run(
                    _writes(
                        sim.url,
                        count=args.writes,
                        concurrency=args.concurrency,
                        prefix="ip",
                        path=IPS_PATH,
                        make=_ip,
                    )
                )
                spent = cpu_seconds(sim.process.pid) - before
            rates[checks].append(rate)
            cpu_us[checks].append(spent / (2 * args.writes) * 1e6)
    for checks in (True, False):
        state = "on " if checks else "off"
        print(
            f"IP objects (create+patch), schema checks {state}: {max(rates[checks]):8.0f} writes/s"
            f" (best of {args.rounds}), server CPU {min(cpu_us[checks]):6.1f} us per write"
        )
    ratio = max(rates[False]) / max(rates[True])
    cpu_ratio = min(cpu_us[True]) / min(cpu_us[False])
    print(
        f"schema checks cost: off/on writes/s = {ratio:.2f}x, on/off server CPU per write = "
        f"{cpu_ratio:.2f}x (acceptance: <= 1.5x)"
    )


if __name__ == "__main__":
    main()
