"""How fast pods get their addresses: end to end, through a real API server process.

Three processes, as in a cluster: the embedded API server
(:class:`ovnctl.sim.SimProcess`, ``--latency-ms 1`` added to every request),
the controller (``ovnctl run`` in its own process, talking HTTP through a
kubeconfig), and this driver, which creates the pods and watches them. Time
starts when the first pod create is sent and ends when the watch shows the
last pod annotated; per pod, latency runs from its create request to the
watch event that shows it allocated.

The measurement lives in :mod:`ovnctl.bench.alloc` (``ovnctl bench
--scenario alloc`` runs the same code); this module keeps issue 6's two
scenarios and their targets:

* ``vm``: 1,000 KubeVirt virt-launcher pods (with their VMs) x 2 Multus
  attachments on two subnets (issue 6's target: at most 20 s on 2 cores);
* ``whereabouts``: 128 pods x 16 attachments on 16 subnets, the scenario that
  took Whereabouts about 4 minutes (its issue #313; target: at most 10 s).

Run::

    python -m benchmarks.bench_alloc [--scenario vm|whereabouts|all] [--latency-ms 1] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ovnctl.bench.alloc import AllocOutcome, measure


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

SUMMARY_FIELDS = (
    "scenario", "pods", "attachments", "nics", "total_s", "creates_s", "p50_ms", "p99_ms",
    "max_ms", "nics_per_s", "target_s", "met", "ip_creates", "pod_patches", "nad_gets",
)  # fmt: skip


def run(scenario: Scenario, *, latency_ms: float) -> AllocOutcome:
    with tempfile.TemporaryDirectory(prefix="bench-alloc-") as logs:
        return measure(
            name=scenario.name,
            pods=scenario.pods,
            attachments=scenario.attachments,
            vms=scenario.vms,
            latency_ms=latency_ms,
            log_dir=Path(logs),
            target_s=scenario.target_s,
            floor=False,  # issue 6's numbers; the write floor is `ovnctl bench --scenario alloc`'s
        )


def _table(outcomes: list[AllocOutcome]) -> str:
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
        summaries = [
            {k: v for k, v in dataclasses.asdict(o).items() if k in SUMMARY_FIELDS}
            for o in outcomes
        ]
        json.dump(summaries, sys.stdout, indent=2)
        print()
    else:
        print(f"API server latency {args.latency_ms} ms per request; cores: {_cores()}")
        print(_table(outcomes))


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    main()
