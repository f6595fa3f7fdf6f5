"""``ovnctl sim``: the embedded Kubernetes API server on the command line.

Registered on the CLI root by :mod:`ovnctl.cli`; this module only imports the
server lazily inside the command, so ``ovnctl --help`` stays fast.
"""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import click

__all__ = ["sim"]

_SERVICE_RE = re.compile(
    r"^(?P<namespace>[a-z0-9-]+)/(?P<name>[a-z0-9-]+)=(?P<host>[^:\s]+|\[[^]]+\]):(?P<port>\d{1,5})$"
)


@click.group("sim")
def sim() -> None:
    """The embedded Kubernetes API server (for tests, the demo and benchmarks).

    A small, in-memory API server with real Kubernetes semantics
    (resourceVersions, conflicts, watches, selectors, CRDs, finalizers).
    It is not a cluster: nothing runs pods. See docs/sim.md.
    """


@sim.command("serve")
@click.option(
    "--port", type=int, default=0, show_default=True, help="Port on 127.0.0.1 (0: pick a free one)."
)
@click.option(
    "--kubeconfig",
    "kubeconfig",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a kubeconfig for the server here (default: a file in a temporary directory).",
)
@click.option(
    "--load",
    "manifests",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="YAML file or directory of objects to create at start-up (CRDs first). Repeatable.",
)
@click.option(
    "--latency-ms",
    type=click.FloatRange(0),
    default=0.0,
    show_default=True,
    help="Delay added to every request.",
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Fraction of resource requests answered with --error-code (injected faults).",
)
@click.option(
    "--error-code",
    type=click.Choice(["500", "429", "503"]),
    default="500",
    show_default=True,
    help="Status of injected errors (429 carries Retry-After).",
)
@click.option(
    "--retry-after",
    type=int,
    default=1,
    show_default=True,
    help="Retry-After seconds on injected 429s.",
)
@click.option(
    "--errors-include-watch", is_flag=True, help="Let injected errors hit watch requests too."
)
@click.option(
    "--seed", type=int, default=None, help="Seed for fault injection and generateName suffixes."
)
@click.option(
    "--history-limit",
    type=click.IntRange(1),
    default=10_000,
    show_default=True,
    help="Watch events kept per resource; watching from older versions gets 410 Gone.",
)
@click.option(
    "--bookmark-interval",
    type=click.FloatRange(0.01),
    default=1.0,
    show_default=True,
    help="Seconds between BOOKMARK events on watches that allow them.",
)
@click.option(
    "--webhook-service",
    "webhook_services",
    multiple=True,
    metavar="NAMESPACE/NAME=HOST:PORT",
    help=(
        "Send admission webhook calls for the Service NAMESPACE/NAME to HOST:PORT "
        "(there are no cluster Services; TLS is still checked against NAME.NAMESPACE.svc). "
        "Repeatable."
    ),
)
def serve(
    *,
    port: int,
    kubeconfig: Path | None,
    manifests: tuple[Path, ...],
    latency_ms: float,
    error_rate: float,
    error_code: str,
    retry_after: int,
    errors_include_watch: bool,
    seed: int | None,
    history_limit: int,
    bookmark_interval: float,
    webhook_services: tuple[str, ...],
) -> None:
    """Serve the embedded API server on 127.0.0.1 until interrupted (Ctrl-C or SIGTERM).

    Prints the URL and the kubeconfig path, then serves. Point any client at it:

    \b
        ovnctl sim serve --port 8001 --kubeconfig /tmp/sim.kubeconfig --load crds/
        kubectl --kubeconfig /tmp/sim.kubeconfig get namespaces

    Fault knobs can also be changed at run time with
    POST /_sim/faults (JSON body, e.g. {"latency_ms": 5}).
    """
    from ovnctl.sim.runner import SimServer

    service_endpoints: dict[tuple[str, str], tuple[str, int]] = {}
    for spec in webhook_services:
        match = _SERVICE_RE.match(spec)
        if match is None:
            raise click.BadParameter(
                f"{spec!r} is not NAMESPACE/NAME=HOST:PORT "
                "(e.g. kube-system/ovnctl=127.0.0.1:9443)",
                param_hint="--webhook-service",
            )
        key = (match["namespace"], match["name"])
        service_endpoints[key] = (match["host"], int(match["port"]))

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        server = SimServer(
            port=port,
            kubeconfig_path=kubeconfig,
            latency_ms=latency_ms,
            error_rate=error_rate,
            error_code=int(error_code),
            retry_after_s=retry_after,
            errors_include_watch=errors_include_watch,
            seed=seed,
            history_limit=history_limit,
            bookmark_interval=bookmark_interval,
            manifests=manifests,
            service_endpoints=service_endpoints,
        )
        async with server:
            click.echo(f"ovnctl sim: serving {server.url}")
            click.echo(f"kubeconfig: {server.kubeconfig_path}")
            click.echo(f"try: kubectl --kubeconfig {server.kubeconfig_path} get namespaces")
            await stop.wait()
        click.echo("ovnctl sim: stopped")

    try:
        asyncio.run(main())
    except ValueError as exc:  # bad --load manifests
        raise click.ClickException(str(exc)) from None
