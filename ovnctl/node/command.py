"""``ovnctl daemon``: the node agent on the command line.

Registered on the CLI root by :mod:`ovnctl.cli`; the agent's modules (and
with them the Kubernetes client and pyroute2) are imported only when the
command runs.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path

import click

from ovnctl.cni.protocol import DEFAULT_SOCKET

__all__ = ["daemon"]


@click.command("daemon")
@click.option(
    "--node-name",
    envvar="NODE_NAME",
    required=True,
    help="This node's name: only pods with spec.nodeName equal to it are watched. [env NODE_NAME]",
)
@click.option("--kubeconfig", default=None, help="Kubeconfig (default: as kubectl resolves it).")
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_SOCKET,
    show_default=True,
    help="Unix socket the CNI plugin connects to (its config's server_socket).",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default="/run/ovnctl/state",
    show_default=True,
    help="Where what ADD set up is recorded, so DEL works without the API server.",
)
@click.option(
    "--allocation-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds an ADD waits for the pod's P.kubernetes.io/allocated to be 'true'.",
)
@click.option(
    "--mtu",
    type=click.IntRange(68, 65535),
    default=1500,
    show_default=True,
    help="Interface MTU when the CNI config sets none.",
)
@click.option(
    "--log-level",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
    default="INFO",
    show_default=True,
)
def daemon(
    node_name: str,
    kubeconfig: str | None,
    socket_path: Path,
    state_dir: Path,
    allocation_timeout: float,
    mtu: int,
    log_level: str,
) -> None:
    """Run the per-node agent that wires allocated addresses into pods (see docs/node.md)."""
    from ovnctl.node.daemon import DaemonSettings, NodeDaemon

    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = DaemonSettings(
        node_name=node_name,
        socket_path=socket_path,
        state_dir=state_dir,
        allocation_timeout=allocation_timeout,
        default_mtu=mtu,
        kubeconfig=kubeconfig,
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await NodeDaemon(settings).run(stop)

    asyncio.run(main())
