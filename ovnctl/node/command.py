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
    show_envvar=True,
    required=True,
    help="This node's name: only pods with spec.nodeName equal to it are watched.",
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
    "--datapath",
    type=click.Choice(["auto", "ovs", "linux-bridge"]),
    default="auto",
    show_default=True,
    help="Where pod veths go: OVS br-int bound by ovn-controller, or a Linux bridge per "
    "subnet (nodes without Open vSwitch). auto: ovs when the --ovs-db socket exists.",
)
@click.option(
    "--ovs-db",
    default="unix:/run/openvswitch/db.sock",
    show_default=True,
    help="The Open_vSwitch database (unix:PATH or tcp:IP:PORT).",
)
@click.option(
    "--bridge",
    default="br-int",
    show_default=True,
    help="The integration bridge; created when missing (fail-mode secure).",
)
@click.option(
    "--configure-node/--no-configure-node",
    default=True,
    show_default=True,
    help="Write the chassis settings below into Open_vSwitch external_ids at start.",
)
@click.option(
    "--system-id", default=None, help="The chassis name (external_ids:system-id). [node name]"
)
@click.option(
    "--ovn-remote",
    envvar="OVN_REMOTE",
    show_envvar=True,
    default=None,
    help="The southbound DB for ovn-controller (external_ids:ovn-remote), e.g. "
    "tcp:10.0.0.2:6642. Unset: left as it is.",
)
@click.option(
    "--encap-type",
    type=click.Choice(["geneve", "vxlan", "stt"]),
    default="geneve",
    show_default=True,
    help="Tunnel type between chassis (external_ids:ovn-encap-type).",
)
@click.option(
    "--encap-ip",
    envvar="ENCAP_IP",
    show_envvar=True,
    default=None,
    help="This node's tunnel endpoint (external_ids:ovn-encap-ip). Unset: left as it is.",
)
@click.option(
    "--datapath-type",
    type=click.Choice(["system", "netdev"]),
    default=None,
    help="OVS datapath of the bridge (external_ids:ovn-bridge-datapath-type): system needs "
    "the kernel module, netdev is userspace. Unset: OVS's default (system).",
)
@click.option(
    "--install-timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds an ADD waits for ovn-controller to mark the port ovn-installed.",
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
    datapath: str,
    ovs_db: str,
    bridge: str,
    configure_node: bool,
    system_id: str | None,
    ovn_remote: str | None,
    encap_type: str,
    encap_ip: str | None,
    datapath_type: str | None,
    install_timeout: float,
    log_level: str,
) -> None:
    """Run the per-node agent that wires allocated addresses into pods (see docs/node.md)."""
    from ovnctl.node.daemon import DaemonSettings, NodeDaemon, NodeSetupError

    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = DaemonSettings(
        node_name=node_name,
        socket_path=socket_path,
        state_dir=state_dir,
        allocation_timeout=allocation_timeout,
        default_mtu=mtu,
        kubeconfig=kubeconfig,
        datapath=datapath,
        ovs_db=ovs_db,
        bridge=bridge,
        configure_node=configure_node,
        system_id=system_id,
        ovn_remote=ovn_remote,
        encap_type=encap_type,
        encap_ip=encap_ip,
        datapath_type=datapath_type,
        install_timeout=install_timeout,
    )

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await NodeDaemon(settings).run(stop)

    try:
        asyncio.run(main())
    except NodeSetupError as exc:
        raise click.ClickException(str(exc)) from None
