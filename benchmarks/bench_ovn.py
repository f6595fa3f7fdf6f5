"""Northbound benchmarks against a private ovsdb-server: port bursts and convergence.

Run ``python -m benchmarks.bench_ovn`` (``--ports`` to change the burst size,
``--json`` for machine-readable output). Needs Debian's ``ovn-central``
(``ovsdb-server``, ``ovsdb-tool``, ``ovn-nbctl``); the server runs in a
temporary folder on a free loopback port and is killed at the end.

Rows, all from one run on one machine (compare them with each other):

* burst: ``--ports`` ``ensure_port`` calls issued at once by 16 concurrent
  callers (a worker pool's shape), then one caller at a time, and, as the
  baseline, one ``ovn-nbctl lsp-add`` process per port (how controllers that
  shell out write ports) on a sample of 50;
* converge: an NB that lost 10% of its ports (deleted with ovn-nbctl) brought
  back by one ``converge`` call, beside a converge with nothing to do and one
  that builds every port from an empty NB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from ovnctl.ovn import OvnNorthbound, OwnerKind, PortSpec, SwitchSpec
from ovnctl.ovn.sandbox import NbSandbox, missing_tools

SWITCH = SwitchSpec(name="bench", cidr_block="10.32.0.0/16", gateway="10.32.0.1")
CONCURRENCY = 16


def make_ports(count: int, *, prefix: str = "pod", first: int = 2) -> list[PortSpec]:
    """``count`` ports with distinct names, MACs and addresses from host number ``first`` on."""
    ports = []
    for i in range(count):
        host = i + first
        ports.append(
            PortSpec(
                name=f"{prefix}-{i}.bench",
                switch=SWITCH.name,
                mac="0e:00:00:" + ":".join(f"{(host >> s) & 0xFF:02x}" for s in (16, 8, 0)),
                ips=(f"10.32.{host >> 8}.{host & 0xFF}",),
                owner_kind=OwnerKind.POD,
                owner_namespace="bench",
                owner_name=f"{prefix}-{i}",
            )
        )
    return ports


async def _client(sandbox: NbSandbox) -> OvnNorthbound:
    client = OvnNorthbound(remote=sandbox.tcp, timeout=30)
    await client.start()
    await client.wait_connected(15)
    await client.ensure_subnet(SWITCH)
    return client


async def bench_burst(sandbox: NbSandbox, ports: list[PortSpec]) -> dict[str, float]:
    client = await _client(sandbox)
    try:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(spec: PortSpec) -> None:
            async with gate:
                await client.ensure_port(spec)

        start = time.perf_counter()
        await asyncio.gather(*(one(spec) for spec in ports))
        concurrent = time.perf_counter() - start

        serial_ports = make_ports(len(ports), prefix="serial", first=20_000)
        start = time.perf_counter()
        for spec in serial_ports:
            await client.ensure_port(spec)
        serial = time.perf_counter() - start

        start = time.perf_counter()
        for spec in ports:  # all present: the idempotent fast path, no write
            await client.ensure_port(spec)
        unchanged = time.perf_counter() - start
    finally:
        await client.close()

    sample = make_ports(50, prefix="nbctl", first=40_000)
    start = time.perf_counter()
    for spec in sample:
        sandbox.nbctl(
            "lsp-add", SWITCH.name, spec.name, "--",
            "lsp-set-addresses", spec.name, spec.addresses, "--",
            "lsp-set-port-security", spec.name, spec.addresses,
        )  # fmt: skip
    nbctl = time.perf_counter() - start
    return {
        "ports": len(ports),
        "concurrent_ports_per_s": len(ports) / concurrent,
        "serial_ports_per_s": len(ports) / serial,
        "unchanged_ensures_per_s": len(ports) / unchanged,
        "nbctl_ports_per_s": len(sample) / nbctl,
    }


async def bench_converge(sandbox: NbSandbox, ports: list[PortSpec]) -> dict[str, float]:
    client = await _client(sandbox)
    try:
        start = time.perf_counter()
        built = await client.converge([SWITCH], ports)
        from_empty = time.perf_counter() - start
        assert len(built.ports_created) == len(ports), built

        start = time.perf_counter()
        idle = await client.converge([SWITCH], ports)
        nothing = time.perf_counter() - start
        assert not idle.changed, idle

        lost = ports[::10]  # 10% of the ports, spread over the switch
        args: list[str] = []
        for spec in lost:
            args += ["--", "lsp-del", spec.name]
        sandbox.nbctl(*args[1:])
        start = time.perf_counter()
        repaired = await client.converge([SWITCH], ports)
        repair = time.perf_counter() - start
        assert len(repaired.ports_created) == len(lost), repaired
    finally:
        await client.close()
    return {
        "ports": len(ports),
        "lost": len(lost),
        "converge_lost_10pct_s": repair,
        "converge_nothing_to_do_s": nothing,
        "converge_from_empty_s": from_empty,
    }


async def run(count: int) -> dict[str, dict[str, float]]:
    results = {}
    for name, bench in (("burst", bench_burst), ("converge", bench_converge)):
        with tempfile.TemporaryDirectory(prefix="bench-ovn-") as tmp, NbSandbox(Path(tmp)) as nb:
            results[name] = await bench(nb, make_ports(count))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ports", type=int, default=1000, help="ports in the burst and the NB")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    reason = missing_tools()
    if reason:
        raise SystemExit(f"bench_ovn needs a local ovsdb-server: {reason}")
    results = asyncio.run(run(args.ports))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    burst, converge = results["burst"], results["converge"]
    print(f"burst of {burst['ports']:.0f} ensure_port calls")
    print(f"  {CONCURRENCY} concurrent callers     {burst['concurrent_ports_per_s']:8.0f} ports/s")
    print(f"  one caller at a time       {burst['serial_ports_per_s']:8.0f} ports/s")
    print(f"  re-ensure, nothing to do   {burst['unchanged_ensures_per_s']:8.0f} calls/s")
    print(f"  ovn-nbctl process per port {burst['nbctl_ports_per_s']:8.0f} ports/s (sample of 50)")
    print(f"converge, NB of {converge['ports']:.0f} ports")
    print(
        f"  lost 10% ({converge['lost']:.0f} ports)      "
        f"{converge['converge_lost_10pct_s'] * 1000:8.1f} ms"
    )
    print(f"  nothing to do              {converge['converge_nothing_to_do_s'] * 1000:8.1f} ms")
    print(f"  from an empty NB           {converge['converge_from_empty_s'] * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
