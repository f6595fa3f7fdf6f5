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


def _env(name: str) -> str:
    return f"OVNCTL_{name}"


def _tls_file_option(flag: str, what: str) -> Callable[[F], F]:
    """One of the three PEM files ssl: northbound remotes need (``OVNCTL_<FLAG>`` too)."""
    return click.option(
        flag,
        envvar=_env(flag.removeprefix("--").replace("-", "_").upper()),
        type=click.Path(dir_okay=False),
        default=None,
        show_envvar=True,
        help=f"ssl: remotes: {what}.",
    )


@click.command(context_settings={"show_default": True})
@click.option(
    "--kubeconfig",
    envvar=_env("KUBECONFIG"),
    type=click.Path(dir_okay=False),
    default=None,
    show_envvar=True,
    help="Kubeconfig file. Default: $KUBECONFIG, ~/.kube/config, else in-cluster.",
)
@click.option(
    "--workers",
    envvar=_env("WORKERS"),
    type=click.IntRange(1),
    default=8,
    show_envvar=True,
    help="Concurrent pod reconciles (allocations and releases).",
)
@click.option(
    "--subnet-workers",
    envvar=_env("SUBNET_WORKERS"),
    type=click.IntRange(1),
    default=4,
    show_envvar=True,
    help="Concurrent Subnet reconciles.",
)
@click.option(
    "--vm-workers",
    envvar=_env("VM_WORKERS"),
    type=click.IntRange(1),
    default=2,
    show_envvar=True,
    help="Concurrent KubeVirt VM release checks.",
)
@click.option(
    "--max-retries",
    envvar=_env("MAX_RETRIES"),
    type=click.IntRange(0),
    default=15,
    show_envvar=True,
    help="Failures of one key before it is dead-lettered (a Warning Event says so).",
)
@click.option(
    "--api-concurrency",
    envvar=_env("API_CONCURRENCY"),
    type=click.IntRange(1),
    default=16,
    show_envvar=True,
    help="API requests in flight at once.",
)
@click.option(
    "--gc-interval",
    envvar=_env("GC_INTERVAL"),
    type=click.FloatRange(1),
    default=300.0,
    show_envvar=True,
    help="Seconds between sweeps for pods and VMs deleted while unobserved.",
)
@click.option(
    "--resync-interval",
    envvar=_env("RESYNC_INTERVAL"),
    type=click.FloatRange(10),
    default=900.0,
    show_envvar=True,
    help="Seconds between full re-LISTs of every watched kind (their diff finds anything "
    "deleted during a watch gap).",
)
@click.option(
    "--primary-network/--no-primary-network",
    envvar=_env("PRIMARY_NETWORK"),
    default=True,
    show_envvar=True,
    help="Allocate the pods' primary (ovn) network; off where another CNI owns it.",
)
@click.option(
    "--ovn-nb",
    envvar=_env("OVN_NB"),
    default=None,
    show_envvar=True,
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
@click.option(
    "--nb-converge-interval",
    envvar=_env("NB_CONVERGE_INTERVAL"),
    type=click.FloatRange(5),
    default=300.0,
    show_envvar=True,
    help="Seconds between comparisons of the northbound with the desired switches and ports.",
)
@click.option(
    "--namespace",
    "namespaces",
    envvar=_env("NAMESPACES"),
    multiple=True,
    show_envvar=True,
    help="Watch only this namespace (repeatable). Default: all.",
)
@click.option(
    "--leader-elect/--no-leader-elect",
    envvar=_env("LEADER_ELECT"),
    default=True,
    show_envvar=True,
    help="Allocate only while holding the leader Lease.",
)
@click.option(
    "--lease-name",
    envvar=_env("LEASE_NAME"),
    default="ovnctl-controller",
    show_envvar=True,
    help="Name of the leader election Lease.",
)
@click.option(
    "--lease-namespace",
    envvar=["POD_NAMESPACE", _env("LEASE_NAMESPACE")],
    default="kube-system",
    show_envvar=True,
    help="Namespace of the Lease (the Deployment passes its own namespace).",
)
@click.option(
    "--lease-duration",
    envvar=_env("LEASE_DURATION"),
    type=click.FloatRange(1),
    default=15.0,
    show_envvar=True,
    help="Seconds a standby waits after the last renew before taking over.",
)
@click.option(
    "--renew-deadline",
    envvar=_env("RENEW_DEADLINE"),
    type=click.FloatRange(0.5),
    default=10.0,
    show_envvar=True,
    help="Seconds without a renew after which a leader stops writing (< lease duration).",
)
@click.option(
    "--retry-period",
    envvar=_env("RETRY_PERIOD"),
    type=click.FloatRange(0.1),
    default=2.0,
    show_envvar=True,
    help="Seconds between lease renews or attempts.",
)
@click.option(
    "--identity",
    envvar=["POD_NAME", _env("IDENTITY")],
    default=None,
    show_envvar=True,
    help="Leader election identity. Default: hostname and a random suffix.",
)
@click.option(
    "--probe-address",
    envvar=_env("PROBE_ADDRESS"),
    default="0.0.0.0",
    show_envvar=True,
    help="Address the health and metrics endpoints and the webhook listen on.",
)
@click.option(
    "--health-port",
    envvar=_env("HEALTH_PORT"),
    type=click.IntRange(0, 65535),
    default=8081,
    show_envvar=True,
    help="Port of /healthz and /readyz (0: off).",
)
@click.option(
    "--metrics-port",
    envvar=_env("METRICS_PORT"),
    type=click.IntRange(0, 65535),
    default=8080,
    show_envvar=True,
    help="Port of /metrics (0: off).",
)
@click.option(
    "--webhook-port",
    envvar=_env("WEBHOOK_PORT"),
    type=click.IntRange(0, 65535),
    default=0,
    show_envvar=True,
    help="Port of the Subnet validating admission webhook, HTTPS (0: off).",
)
@click.option(
    "--webhook-cert",
    envvar=_env("WEBHOOK_CERT"),
    type=click.Path(dir_okay=False),
    default=None,
    show_envvar=True,
    help="The webhook's PEM certificate (cert-manager's tls.crt); re-read when it changes.",
)
@click.option(
    "--webhook-key",
    envvar=_env("WEBHOOK_KEY"),
    type=click.Path(dir_okay=False),
    default=None,
    show_envvar=True,
    help="The webhook's PEM private key (cert-manager's tls.key).",
)
@click.option(
    "--webhook-insecure/--no-webhook-insecure",
    envvar=_env("WEBHOOK_INSECURE"),
    default=False,
    show_envvar=True,
    help="Serve the webhook over plain HTTP (tests and local debugging only).",
)
@click.option(
    "--log-format",
    envvar=_env("LOG_FORMAT"),
    type=click.Choice(["text", "json"]),
    default="text",
    show_envvar=True,
    help="Log lines as text or one JSON object each.",
)
@click.option(
    "--log-level",
    envvar=_env("LOG_LEVEL"),
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_envvar=True,
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
