"""``ovnctl bench``: run the scenarios, show progress on stderr, results on stdout."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

if TYPE_CHECKING:
    from ovnctl.bench.chaos import ChaosSettings

__all__ = ["bench"]

SCENARIOS = ("nad-cache", "alloc", "restart", "memory")
EXPLICIT_ONLY = ("chaos",)
"""Scenarios ``all`` leaves out: chaos runs for minutes and is asked for by name."""


@click.command(context_settings={"show_default": True})
@click.option(
    "--scenario",
    "scenarios",
    type=click.Choice([*SCENARIOS, *EXPLICIT_ONLY, "all"]),
    multiple=True,
    default=("all",),
    help="Scenario to run (repeatable).",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(0),
    default=1.0,
    help="Delay the API server adds to every request.",
)
@click.option(
    "--subnets", type=click.IntRange(1), default=200, help="nad-cache: subnets (one NAD each)."
)
@click.option(
    "--churn",
    type=click.FloatRange(0.01, 0.5),
    default=0.25,
    help="nad-cache: fraction of subnets deleted and re-created (and of NADs).",
)
@click.option(
    "--resident-pods",
    type=click.IntRange(0),
    default=50,
    help="nad-cache: multi-homed pods (2 attachments) running through the churn.",
)
@click.option(
    "--pods",
    type=click.IntRange(1),
    multiple=True,
    default=(1000,),
    help="alloc: VM pods. Several sizes (--pods 1000 5000 10000) run a sweep.",
)
@click.option(
    "--attachments", type=click.IntRange(1), default=2, help="alloc: attachments per pod."
)
@click.option(
    "--ips", type=click.IntRange(1), default=10_000, help="restart: existing IP objects (and pods)."
)
@click.option(
    "--memory-pods", type=click.IntRange(1), default=50_000, help="memory: pods in the cluster."
)
@click.option(
    "--memory-nads", type=click.IntRange(1), default=5_000, help="memory: NADs in the cluster."
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write every result (with time series) as JSON here.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a PNG plot (one panel per scenario) here.",
)
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the controller logs here (default: a temporary directory).",
)
@click.option(
    "--chaos-lifecycles",
    type=click.IntRange(1),
    default=5000,
    help="chaos: pod and VM lifecycles to complete (and --chaos-min-seconds to pass).",
)
@click.option(
    "--chaos-min-seconds",
    type=click.FloatRange(0),
    default=300.0,
    help="chaos: churn at least this long.",
)
@click.option(
    "--chaos-max-seconds",
    type=click.FloatRange(1),
    default=1800.0,
    help="chaos: stop churning after this long.",
)
@click.option(
    "--chaos-seed", type=int, default=None, help="chaos: seed of the faults and churn (printed)."
)
@click.option(
    "--chaos-population", type=click.IntRange(2), default=40, help="chaos: pods kept alive at once."
)
@click.option(
    "--chaos-fault-scale",
    type=click.FloatRange(0.05),
    default=1.0,
    help="chaos: multiply every fault interval (leader kill every 15-30 s at 1.0).",
)
@click.option(
    "--chaos-converge-within",
    type=click.FloatRange(1),
    default=120.0,
    help="chaos: seconds allowed to converge after the faults stop.",
)
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
# `--pods 1000 5000 10000`: click options take one value each, so the sizes after the
# first arrive as arguments (the command has no other arguments).
@click.argument("more_pods", nargs=-1, type=click.IntRange(1), metavar="")
def bench(
    *,
    scenarios: tuple[str, ...],
    latency_ms: float,
    subnets: int,
    churn: float,
    resident_pods: int,
    pods: tuple[int, ...],
    more_pods: tuple[int, ...],
    attachments: int,
    ips: int,
    memory_pods: int,
    memory_nads: int,
    json_path: Path | None,
    plot_path: Path | None,
    log_dir: Path | None,
    chaos_lifecycles: int,
    chaos_min_seconds: float,
    chaos_max_seconds: float,
    chaos_seed: int | None,
    chaos_population: int,
    chaos_fault_scale: float,
    chaos_converge_within: float,
    quiet: bool,
) -> None:
    """Measure ovnctl end to end: API server, controller and driver in three processes.

    \b
    nad-cache  NAD read cache vs a live GET per lookup, subnets under churn, with and
               without Kube-OVN 1.13's per-pod NAD reads in each reconcile (#5353)
    alloc      N VM pods x M Multus attachments: time until all are annotated
    restart    start to ready with existing IP objects and their pods
    memory     controller RSS with pods and NADs cached, per object
    chaos      (only by name) two replicas under leader kills, API errors, cut
               watches, NB restarts and SIGSTOP while pods, VMs and subnets
               churn; an independent checker counts invariant violations

    The API server is `ovnctl sim serve` with --latency-ms added to every
    request; the controller is `ovnctl run --no-leader-elect`, observed through
    /readyz, /metrics and /proc. See docs/bench.md.
    """
    import logging
    import tempfile

    sizes = [*pods, *more_pods]
    context = click.get_current_context()
    if more_pods and context.get_parameter_source("pods") is ParameterSource.DEFAULT:
        raise click.UsageError(
            f"unexpected arguments {list(more_pods)}: sizes follow --pods (--pods 1000 5000)"
        )

    from ovnctl.bench import report
    from ovnctl.bench.chaos import ChaosSettings
    from ovnctl.bench.runner import Progress

    logging.basicConfig(level=logging.WARNING)
    every = (*SCENARIOS, *EXPLICIT_ONLY)
    chosen = [s for s in every if s in scenarios or (s in SCENARIOS and "all" in scenarios)]
    chaos = ChaosSettings(
        lifecycles=chaos_lifecycles,
        seed=chaos_seed,
        population=chaos_population,
        min_seconds=chaos_min_seconds,
        max_seconds=chaos_max_seconds,
        converge_within=chaos_converge_within,
        fault_scale=chaos_fault_scale,
    )
    progress = Progress(quiet=quiet)
    command = "ovnctl bench " + shlex.join(sys.argv[2:]) if len(sys.argv) > 1 else "ovnctl bench"
    with tempfile.TemporaryDirectory(prefix="ovnctl-bench-") as scratch:
        logs = log_dir or Path(scratch)
        logs.mkdir(parents=True, exist_ok=True)
        results: list[report.ScenarioResult] = []
        started = time.monotonic()
        for name in chosen:
            progress.scenario = name
            progress("starting")
            t0 = time.monotonic()
            results.append(
                _run_one(
                    name,
                    latency_ms=latency_ms,
                    subnets=subnets,
                    churn=churn,
                    resident_pods=resident_pods,
                    pods=sizes,
                    attachments=attachments,
                    ips=ips,
                    memory_pods=memory_pods,
                    memory_nads=memory_nads,
                    log_dir=logs,
                    progress=progress,
                    chaos=chaos,
                )
            )
            progress(f"finished in {time.monotonic() - t0:.1f} s")
        progress.scenario = ""
        progress(f"all done in {time.monotonic() - started:.1f} s")
    machine = report.machine()
    header = (
        f"ovnctl bench: API server latency {latency_ms:g} ms per request; "
        f"{machine['cores']} cores; Python {machine['python']}"
    )
    click.echo(report.table(results, header=header))
    run_info: dict[str, Any] = {
        "command": command,
        "latency_ms": latency_ms,
        "scenarios": chosen,
        "seconds": round(time.monotonic() - started, 1),
    }
    if json_path is not None:
        report.write_json(json_path, report.to_json(results, run=run_info))
        progress(f"JSON written to {json_path}")
    if plot_path is not None:
        report.plot(results, plot_path, title=header)
        progress(f"plot written to {plot_path}")


def _run_one(
    name: str,
    *,
    latency_ms: float,
    subnets: int,
    churn: float,
    resident_pods: int,
    pods: list[int],
    attachments: int,
    ips: int,
    memory_pods: int,
    memory_nads: int,
    log_dir: Path,
    progress: Any,
    chaos: ChaosSettings,
) -> Any:
    if name == "chaos":
        from ovnctl.bench import chaos as chaos_scenario

        return chaos_scenario.run(chaos, latency_ms=latency_ms, log_dir=log_dir, progress=progress)
    if name == "nad-cache":
        from ovnctl.bench import nadcache

        return nadcache.run(
            subnets=subnets,
            churn=churn,
            residents=resident_pods,
            latency_ms=latency_ms,
            log_dir=log_dir,
            progress=progress,
        )
    if name == "alloc":
        from ovnctl.bench import alloc

        return alloc.run(
            pods=pods,
            attachments=attachments,
            latency_ms=latency_ms,
            log_dir=log_dir,
            progress=progress,
        )
    if name == "restart":
        from ovnctl.bench import restart

        return restart.run(ips=ips, latency_ms=latency_ms, log_dir=log_dir, progress=progress)
    from ovnctl.bench import memory

    return memory.run(
        pods=memory_pods,
        nads=memory_nads,
        latency_ms=latency_ms,
        log_dir=log_dir,
        progress=progress,
    )
