"""The ``ovnctl`` command line: the composition root.

Every subcommand is assembled here from the layers below; nothing below imports
this module. Subcommands import their heavy dependencies lazily so that
``ovnctl --help`` stays instant and a node that only runs the CNI plugin never
loads the controller.
"""

from __future__ import annotations

import click

from ovnctl import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ovnctl")
def main() -> None:
    """ovnctl: a Kube-OVN-style network controller for Kubernetes.

    It allocates addresses for pods, Multus attachments and KubeVirt VMs from
    kubeovn.io/v1 Subnets and records them where the CNI plugins read them.
    """


def _register_subcommands() -> None:
    from ovnctl.cni.command import cni, invoked_as_plugin

    main.add_command(cni)
    if invoked_as_plugin():
        return  # the runtime execs `ovnctl cni` per pod: skip the other commands' imports

    from ovnctl.bench.command import bench
    from ovnctl.controller.command import run
    from ovnctl.demo.command import demo
    from ovnctl.node.command import daemon
    from ovnctl.sim.command import sim

    main.add_command(bench)
    main.add_command(daemon)
    main.add_command(demo)
    main.add_command(run)
    main.add_command(sim)


_register_subcommands()
