"""The ``ovnctl`` command line: the composition root.

Every subcommand is assembled here from the layers below; nothing below imports
this module. Subcommands are imported only when invoked: the container runtime
execs ``ovnctl cni`` once per pod, which must not pay for importing Kopf, the
controller and the embedded API server, and ``ovnctl --help`` stays instant.
"""

from __future__ import annotations

import importlib
import importlib.util

import click

from ovnctl import __version__

_SIM_EXTRA = ("kmock", "yaml", "jsonpatch")
_NEEDS: dict[str, tuple[tuple[str, ...], str]] = {
    # Checked before the command is imported: demo and bench import these only once
    # they run (bench's plot at the very end), which would fail after the work is done.
    "sim": (_SIM_EXTRA, "sim"),
    "demo": (_SIM_EXTRA, "sim"),
    "bench": ((*_SIM_EXTRA, "matplotlib"), "sim,bench"),
}
"""Command -> (modules it needs from an optional extra, the extras that provide them)."""

# name -> (module:attribute, one-line help shown by ``ovnctl --help`` without importing it)
_COMMANDS: dict[str, tuple[str, str]] = {
    "bench": (
        "ovnctl.bench.command:bench",
        "Measure ovnctl end to end: API server, controller and driver in three processes.",
    ),
    "cni": (
        "ovnctl.cni.command:cni",
        "The CNI plugin (ADD, DEL, CHECK, VERSION); run by the container runtime.",
    ),
    "daemon": (
        "ovnctl.node.command:daemon",
        "Run the per-node agent that wires allocated addresses into pods.",
    ),
    "demo": (
        "ovnctl.demo.command:demo",
        "Show ovnctl at work on the embedded API server, no cluster needed.",
    ),
    "ipam": (
        "ovnctl.ipamtool.command:ipam",
        "Check a cluster's addresses (duplicates, leaks, drift) and release leaked ones.",
    ),
    "run": (
        "ovnctl.controller.command:run",
        "Run the controller: allocate addresses for pods, attachments and VMs.",
    ),
    "sim": (
        "ovnctl.sim.command:sim",
        "The embedded Kubernetes API server (for tests, the demo and benchmarks).",
    ),
}


class _LazyGroup(click.Group):
    """A group whose subcommands are imported when used, not when listed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        modules, extras = _NEEDS.get(cmd_name, ((), ""))
        missing = [m for m in modules if importlib.util.find_spec(m) is None]
        if missing:
            raise click.ClickException(
                f"'ovnctl {cmd_name}' needs {', '.join(map(repr, missing))}, which is not "
                f"installed: pip install 'ovnctl[{extras}]'"
            )
        module, _, attribute = target[0].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, text) in sorted(_COMMANDS.items())])


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ovnctl")
def main() -> None:
    """ovnctl: a Kube-OVN-style network controller for Kubernetes.

    It allocates addresses for pods, Multus attachments and KubeVirt VMs from
    kubeovn.io/v1 Subnets and records them where the CNI plugins read them.
    """
