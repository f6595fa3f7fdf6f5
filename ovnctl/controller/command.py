"""``ovnctl run``: the controller as users deploy it.

Every flag has an environment variable (shown in ``--help``) so the
Deployment can configure it either way. The cluster is found as kubectl finds
it: ``--kubeconfig``, else ``$KUBECONFIG`` or ``~/.kube/config``, else the
in-cluster service account.

:func:`run_command_with` is the same command with the controller built by
another factory (a :class:`~ovnctl.controller.runtime.Controller` subclass):
same flags, same probes and metrics, same exit codes.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import os
import socket
import sys
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import click

if TYPE_CHECKING:
    from ovnctl.controller.runtime import Controller, ControllerSettings
    from ovnctl.ovn import NbTls, NorthboundMetrics
    from ovnctl.queue import MetricsSink

__all__ = ["ControllerFactory", "run", "run_command_with"]

logger = logging.getLogger("ovnctl.run")


F = TypeVar("F", bound=Callable[..., Any])


class ControllerFactory(Protocol):
    """How ``ovnctl run`` builds its controller: :class:`Controller` itself by default."""

    def __call__(
        self,
        *,
        settings: ControllerSettings,
        metrics: MetricsSink | None,
        northbound_metrics: NorthboundMetrics | None,
    ) -> Controller: ...


ENV_PREFIX = "OVNCTL"


class _EnvOption(click.Option):
    """An option of ``ovnctl run``: reads ``OVNCTL_<DEST>`` unless ``envvar=`` says otherwise.

    What click's ``auto_envvar_prefix`` does, but fixed on the option: set on the
    CLI root, click would insert the subcommand's name (``OVNCTL_RUN_WORKERS``)
    and rename every variable users set, and ``param.envvar`` would stay None for
    whoever reads it (the manifest tests do). The variable is shown in
    ``--help``. ``tests/test_cli_envvars.py`` pins the names.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("show_envvar", True)
        super().__init__(*args, **kwargs)
        if self.envvar is None and self.name is not None:
            self.envvar = f"{ENV_PREFIX}_{self.name.upper()}"


def _option(*decls: str, **attrs: Any) -> Callable[[F], F]:
    """``click.option`` with :class:`_EnvOption`."""
    return click.option(*decls, cls=_EnvOption, **attrs)


def _tls_file_option(flag: str, what: str) -> Callable[[F], F]:
    """One of the three PEM files ssl: northbound remotes need (``OVNCTL_<FLAG>`` too)."""
    return _option(
        flag,
        type=click.Path(dir_okay=False),
        default=None,
        help=f"ssl: remotes: {what}.",
    )


@click.command(context_settings={"show_default": True})
@_option(
    "--kubeconfig",
    type=click.Path(dir_okay=False),
    default=None,
    help="Kubeconfig file. Default: $KUBECONFIG, ~/.kube/config, else in-cluster.",
)
@_option(
    "--workers",
    type=click.IntRange(1),
    default=8,
    help="Concurrent pod reconciles (allocations and releases).",
)
@_option(
    "--subnet-workers",
    type=click.IntRange(1),
    default=4,
    help="Concurrent Subnet reconciles.",
)
@_option(
    "--vm-workers",
    type=click.IntRange(1),
    default=2,
    help="Concurrent KubeVirt VM release checks.",
)
@_option(
    "--max-retries",
    type=click.IntRange(0),
    default=15,
    help="Failures of one key before it is dead-lettered (a Warning Event says so).",
)
@_option(
    "--api-concurrency",
    type=click.IntRange(1),
    default=16,
    help="API requests in flight at once.",
)
@_option(
    "--gc-interval",
    type=click.FloatRange(1),
    default=300.0,
    help="Seconds between sweeps for pods and VMs deleted while unobserved.",
)
@_option(
    "--resync-interval",
    type=click.FloatRange(10),
    default=900.0,
    help="Seconds between full re-LISTs of every watched kind (their diff finds anything "
    "deleted during a watch gap).",
)
@_option(
    "--primary-network/--no-primary-network",
    default=True,
    help="Allocate the pods' primary (ovn) network; off where another CNI owns it.",
)
@_option(
    "--ovn-nb",
    default=None,
    help="OVN northbound database: tcp:IP:PORT, ssl:IP:PORT, unix:PATH, or a comma list of "
    "cluster members. Without it ovnctl runs as pure IPAM (and says so at start).",
)
@_tls_file_option(
    "--ovn-nb-private-key", "this client's PEM private key (Kube-OVN's kube-ovn-tls Secret: key)"
)
@_tls_file_option("--ovn-nb-certificate", "this client's PEM certificate (kube-ovn-tls: cert)")
@_tls_file_option(
    "--ovn-nb-ca-cert", "the PEM CA that signed the NB's certificate (kube-ovn-tls: cacert)"
)
@_option(
    "--nb-converge-interval",
    type=click.FloatRange(5),
    default=300.0,
    help="Seconds between comparisons of the northbound with the desired switches and ports.",
)
@_option(
    "--namespace",
    "namespaces",
    multiple=True,
    help="Watch only this namespace (repeatable). Default: all.",
)
@_option(
    "--leader-elect/--no-leader-elect",
    default=True,
    help="Allocate only while holding the leader Lease.",
)
@_option(
    "--lease-name",
    default="ovnctl-controller",
    help="Name of the leader election Lease.",
)
@_option(
    "--lease-namespace",
    envvar=["POD_NAMESPACE", f"{ENV_PREFIX}_LEASE_NAMESPACE"],
    default="kube-system",
    help="Namespace of the Lease (the Deployment passes its own namespace).",
)
@_option(
    "--lease-duration",
    type=click.FloatRange(1),
    default=15.0,
    help="Seconds a standby waits after the last renew before taking over.",
)
@_option(
    "--renew-deadline",
    type=click.FloatRange(0.5),
    default=10.0,
    help="Seconds without a renew after which a leader stops writing (< lease duration).",
)
@_option(
    "--retry-period",
    type=click.FloatRange(0.1),
    default=2.0,
    help="Seconds between lease renews or attempts.",
)
@_option(
    "--identity",
    envvar=["POD_NAME", f"{ENV_PREFIX}_IDENTITY"],
    default=None,
    help="Leader election identity. Default: hostname and a random suffix.",
)
@_option(
    "--probe-address",
    default="0.0.0.0",
    help="Address the health and metrics endpoints and the webhook listen on.",
)
@_option(
    "--health-port",
    type=click.IntRange(0, 65535),
    default=8081,
    help="Port of /healthz and /readyz (0: off).",
)
@_option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=8080,
    help="Port of /metrics (0: off).",
)
@_option(
    "--webhook-port",
    type=click.IntRange(0, 65535),
    default=0,
    help="Port of the Subnet and IPPool validating admission webhook, HTTPS (0: off).",
)
@_option(
    "--webhook-cert",
    type=click.Path(dir_okay=False),
    default=None,
    help="The webhook's PEM certificate (cert-manager's tls.crt); re-read when it changes.",
)
@_option(
    "--webhook-key",
    type=click.Path(dir_okay=False),
    default=None,
    help="The webhook's PEM private key (cert-manager's tls.key).",
)
@_option(
    "--webhook-insecure/--no-webhook-insecure",
    default=False,
    help="Serve the webhook over plain HTTP (tests and local debugging only).",
)
@_option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    help="Log lines as text or one JSON object each.",
)
@_option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    help="Least severe level logged.",
)
def run(
    *,
    build: ControllerFactory | None = None,
    kubeconfig: str | None,
    workers: int,
    subnet_workers: int,
    vm_workers: int,
    max_retries: int,
    api_concurrency: int,
    gc_interval: float,
    resync_interval: float,
    primary_network: bool,
    namespaces: tuple[str, ...],
    ovn_nb: str | None,
    ovn_nb_private_key: str | None,
    ovn_nb_certificate: str | None,
    ovn_nb_ca_cert: str | None,
    nb_converge_interval: float,
    leader_elect: bool,
    lease_name: str,
    lease_namespace: str,
    lease_duration: float,
    renew_deadline: float,
    retry_period: float,
    identity: str | None,
    probe_address: str,
    health_port: int,
    metrics_port: int,
    webhook_port: int,
    webhook_cert: str | None,
    webhook_key: str | None,
    webhook_insecure: bool,
    log_format: str,
    log_level: str,
) -> None:
    """Run the controller: allocate addresses for pods, attachments and VMs.

    Exits 0 after SIGTERM or SIGINT (in-flight work finished, Lease released),
    and 1 when leadership is lost or start-up failed, so that the replica restarts.
    """
    from ovnctl.controller.logs import configure_logging
    from ovnctl.controller.runtime import ControllerSettings
    from ovnctl.k8s.kopf_subnets import WebhookSettings
    from ovnctl.k8s.leader import LeaseSettings

    configure_logging(fmt=log_format, level=log_level)
    lease = None
    if leader_elect:
        try:
            lease = LeaseSettings(
                name=lease_name,
                namespace=lease_namespace,
                identity=identity or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}",
                lease_duration=lease_duration,
                renew_deadline=renew_deadline,
                retry_period=retry_period,
            )
        except ValueError as exc:
            raise click.BadParameter(
                str(exc), param_hint="--lease-duration/--renew-deadline"
            ) from None
    webhook = None
    if webhook_port:
        if not webhook_insecure and not (webhook_cert and webhook_key):
            raise click.BadParameter(
                "HTTPS needs both --webhook-cert and --webhook-key (or --webhook-insecure)",
                param_hint="--webhook-port",
            )
        webhook = WebhookSettings(
            port=webhook_port,
            addr=probe_address,
            certfile=webhook_cert,
            pkeyfile=webhook_key,
            insecure=webhook_insecure,
        )
    tls = _nb_tls(
        private_key=ovn_nb_private_key, certificate=ovn_nb_certificate, ca_cert=ovn_nb_ca_cert
    )
    settings = ControllerSettings(
        kubeconfig=kubeconfig,
        pod_workers=workers,
        subnet_workers=subnet_workers,
        vm_workers=vm_workers,
        max_retries=max_retries,
        api_concurrency=api_concurrency,
        gc_interval=gc_interval,
        resync_interval=resync_interval,
        primary_network=primary_network,
        namespaces=tuple(namespaces),
        ovn_nb=ovn_nb or None,
        ovn_nb_tls=tls,
        nb_converge_interval=nb_converge_interval,
        leader_election=lease,
        webhook=webhook,
    )
    code = asyncio.run(
        _serve(
            settings,
            build=build,
            probe_address=probe_address,
            health_port=health_port,
            metrics_port=metrics_port,
        )
    )
    sys.exit(code)


def _nb_tls(
    *, private_key: str | None, certificate: str | None, ca_cert: str | None
) -> NbTls | None:
    """The three TLS files together, or none of them (then ssl: remotes are refused)."""
    from ovnctl.ovn import NbTls

    given = {
        "--ovn-nb-private-key": private_key,
        "--ovn-nb-certificate": certificate,
        "--ovn-nb-ca-cert": ca_cert,
    }
    missing = [flag for flag, value in given.items() if not value]
    if len(missing) == len(given):
        return None
    if missing:
        raise click.UsageError(
            f"{', '.join(missing)} missing: the OVN NB TLS files go together "
            "(private key, certificate, CA certificate)"
        )
    return NbTls(private_key=str(private_key), certificate=str(certificate), ca_cert=str(ca_cert))


def run_command_with(build: ControllerFactory) -> click.Command:
    """``ovnctl run`` with its controller built by ``build``; flags and help unchanged."""
    command = copy.copy(run)
    command.callback = functools.partial(run.callback, build=build) if run.callback else None
    return command


async def _serve(
    settings: ControllerSettings,
    *,
    build: ControllerFactory | None,
    probe_address: str,
    health_port: int,
    metrics_port: int,
) -> int:
    from prometheus_client import CollectorRegistry

    from ovnctl.controller.metrics import ControllerCollector
    from ovnctl.controller.probes import serve_probes
    from ovnctl.controller.runtime import Controller
    from ovnctl.k8s.connection import ClusterNotFoundError
    from ovnctl.ovn import PrometheusNorthboundMetrics
    from ovnctl.queue import PrometheusMetricsSink

    registry = CollectorRegistry()
    try:
        controller = (build or Controller)(
            settings=settings,
            metrics=PrometheusMetricsSink(registry=registry),
            northbound_metrics=PrometheusNorthboundMetrics(registry=registry),
        )
    except ClusterNotFoundError as exc:
        logger.error("cannot connect: %s", exc)
        return 2
    except ValueError as exc:  # a malformed --ovn-nb, or unusable TLS files
        logger.error("%s", exc)
        return 2
    registry.register(ControllerCollector(controller))
    controller.handle_signals()
    runners = []
    if health_port or metrics_port:
        runners = await serve_probes(
            controller=controller,
            registry=registry,
            host=probe_address,
            health_port=health_port or metrics_port,
            metrics_port=metrics_port or health_port,
        )
    logger.info(
        "ovnctl %s: pid %d, %s, leader election %s",
        "controller",
        os.getpid(),
        "cluster-wide"
        if not settings.namespaces
        else f"namespaces {', '.join(settings.namespaces)}",
        f"on (lease {settings.leader_election.namespace}/{settings.leader_election.name}, "
        f"identity {settings.leader_election.identity})"
        if settings.leader_election
        else "off",
    )
    try:
        await controller.run()
    finally:
        for runner in runners:
            await runner.cleanup()
    return 1 if controller.lost_leadership or controller.startup_failed else 0
