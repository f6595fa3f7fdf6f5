"""``ovnctl cni``: the CNI plugin as a CLI subcommand.

The runtime's contract is stdin, ``CNI_*`` variables, stdout and the exit
status, so the command takes no options of its own and prints nothing but
the plugin's JSON. Nodes exec ``python -m ovnctl.cni`` instead (see
``manifests/daemonset.yaml``), which skips the CLI's imports altogether.
"""

from __future__ import annotations

import sys

import click

__all__ = ["cni"]


@click.command(
    "cni",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
def cni() -> None:
    """The CNI plugin (ADD, DEL, CHECK, VERSION); run by the container runtime."""
    from ovnctl.cni.plugin import main

    sys.exit(main())
