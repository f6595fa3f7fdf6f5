"""The environment variables of `ovnctl run` and `ovnctl daemon` keep the names users set.

The expected tables were taken from the commands before their options were
rewritten onto one shared option class (``OVNCTL_<DEST>`` derived, not
spelled 30 times); manifests/, overlays/ and docs/ set these names, so a
rename is a breaking change, not a refactor.
"""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from ovnctl.cli import main

RUN_ENVVARS: dict[str, tuple[str, ...]] = {
    "--kubeconfig": ("OVNCTL_KUBECONFIG",),
    "--workers": ("OVNCTL_WORKERS",),
    "--subnet-workers": ("OVNCTL_SUBNET_WORKERS",),
    "--vm-workers": ("OVNCTL_VM_WORKERS",),
    "--max-retries": ("OVNCTL_MAX_RETRIES",),
    "--api-concurrency": ("OVNCTL_API_CONCURRENCY",),
    "--gc-interval": ("OVNCTL_GC_INTERVAL",),
    "--resync-interval": ("OVNCTL_RESYNC_INTERVAL",),
    "--primary-network": ("OVNCTL_PRIMARY_NETWORK",),
    "--ovn-nb": ("OVNCTL_OVN_NB",),
    "--ovn-nb-private-key": ("OVNCTL_OVN_NB_PRIVATE_KEY",),
    "--ovn-nb-certificate": ("OVNCTL_OVN_NB_CERTIFICATE",),
    "--ovn-nb-ca-cert": ("OVNCTL_OVN_NB_CA_CERT",),
    "--nb-converge-interval": ("OVNCTL_NB_CONVERGE_INTERVAL",),
    "--namespace": ("OVNCTL_NAMESPACES",),
    "--leader-elect": ("OVNCTL_LEADER_ELECT",),
    "--lease-name": ("OVNCTL_LEASE_NAME",),
    "--lease-namespace": ("POD_NAMESPACE", "OVNCTL_LEASE_NAMESPACE"),
    "--lease-duration": ("OVNCTL_LEASE_DURATION",),
    "--renew-deadline": ("OVNCTL_RENEW_DEADLINE",),
    "--retry-period": ("OVNCTL_RETRY_PERIOD",),
    "--identity": ("POD_NAME", "OVNCTL_IDENTITY"),
    "--probe-address": ("OVNCTL_PROBE_ADDRESS",),
    "--health-port": ("OVNCTL_HEALTH_PORT",),
    "--metrics-port": ("OVNCTL_METRICS_PORT",),
    "--webhook-port": ("OVNCTL_WEBHOOK_PORT",),
    "--webhook-cert": ("OVNCTL_WEBHOOK_CERT",),
    "--webhook-key": ("OVNCTL_WEBHOOK_KEY",),
    "--webhook-insecure": ("OVNCTL_WEBHOOK_INSECURE",),
    "--log-format": ("OVNCTL_LOG_FORMAT",),
    "--log-level": ("OVNCTL_LOG_LEVEL",),
}

DAEMON_ENVVARS: dict[str, tuple[str, ...]] = {
    "--node-name": ("NODE_NAME",),
    "--ovn-remote": ("OVN_REMOTE",),
    "--encap-ip": ("ENCAP_IP",),
}
"""The agent's other options have no environment variable (the DaemonSet passes flags)."""


def _context(name: str) -> tuple[click.Command, click.Context]:
    """The subcommand's context as `ovnctl <name>` builds it, under the CLI root."""
    root = main.make_context("ovnctl", [name], resilient_parsing=True)
    command = main.get_command(root, name)
    assert command is not None
    return command, command.make_context(name, [], parent=root, resilient_parsing=True)


def _envvars(name: str) -> dict[str, tuple[str, ...]]:
    """Option -> the variables click reads for it (explicit, else the auto prefix's)."""
    command, ctx = _context(name)
    found: dict[str, tuple[str, ...]] = {}
    for param in command.params:
        if not isinstance(param, click.Option) or param.name is None or param.hidden:
            continue
        if param.opts == ["--help"]:
            continue
        env = param.envvar
        if env is None and param.allow_from_autoenv and ctx.auto_envvar_prefix:
            env = f"{ctx.auto_envvar_prefix}_{param.name.upper()}"
        names = (env,) if isinstance(env, str) else tuple(env or ())
        if names:
            found[param.opts[0]] = names
    return found


@pytest.mark.parametrize(
    ("command", "expected"), [("run", RUN_ENVVARS), ("daemon", DAEMON_ENVVARS)]
)
def test_every_option_keeps_its_environment_variable(
    command: str, expected: dict[str, tuple[str, ...]]
) -> None:
    """Each option reads exactly the variables it read before (no OVNCTL_RUN_ prefix)."""
    assert _envvars(command) == expected


@pytest.mark.parametrize(
    ("command", "expected"), [("run", RUN_ENVVARS), ("daemon", DAEMON_ENVVARS)]
)
def test_help_shows_every_environment_variable(
    command: str, expected: dict[str, tuple[str, ...]]
) -> None:
    """`ovnctl <command> --help` names every variable, as the deploy docs tell users."""
    result = CliRunner().invoke(main, [command, "--help"], terminal_width=400)
    assert result.exit_code == 0, result.output
    for names in expected.values():
        for name in names:
            assert name in result.output, name


def test_variables_are_read_under_their_old_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting OVNCTL_WORKERS, OVNCTL_NAMESPACES and POD_NAME reaches the options."""
    monkeypatch.setenv("OVNCTL_WORKERS", "3")
    monkeypatch.setenv("OVNCTL_NAMESPACES", "a b")
    monkeypatch.setenv("POD_NAME", "replica-1")
    monkeypatch.setenv("OVNCTL_RUN_WORKERS", "5")  # the name auto_envvar_prefix would invent
    _, ctx = _context("run")
    assert ctx.params["workers"] == 3
    assert ctx.params["namespaces"] == ("a", "b")
    assert ctx.params["identity"] == "replica-1"
