"""OVN Northbound: subnets become logical switches, NICs become logical switch ports.

What makes ovnctl Kube-OVN-style rather than only an IPAM. Reconcilers hold a
:class:`Northbound` (an :class:`OvnNorthbound` when ``--ovn-nb`` is given, a
:class:`NullNorthbound` in pure-IPAM mode) and call its verbs with frozen
desired-state values; every verb is one idempotent NB transaction and never
blocks the event loop. See ``docs/ovn.md``.

Modules, bottom up: ``specs`` (desired state and naming) → ``remote``
(``--ovn-nb``) and ``tls`` (files for ``ssl:``) → ``errors`` → ``api`` (the
port, results) → ``metrics`` → ``commands`` (decisions inside a
transaction) → ``drift`` (row events on ovnctl's rows) → ``client``
(ovsdbapp connection, threads, timeouts) and ``null`` (pure IPAM).
``sandbox`` and ``stack`` run private OVN daemons for tests, benchmarks and
the demo.

Imports nothing of Kopf, Kubernetes or the controller; only the queue's error
classes, the models and the IPAM's result types.
"""

from typing import TYPE_CHECKING, Any

from ovnctl.ovn.api import Change, ConvergeReport, Drift, Northbound
from ovnctl.ovn.errors import (
    ForeignObjectError,
    MissingSwitchError,
    NorthboundError,
    NorthboundTransactionError,
    NorthboundUnavailable,
)
from ovnctl.ovn.metrics import (
    METRIC_NAMES,
    NoopNorthboundMetrics,
    NorthboundMetrics,
    PrometheusNorthboundMetrics,
)
from ovnctl.ovn.null import NullNorthbound
from ovnctl.ovn.remote import parse_remotes
from ovnctl.ovn.specs import (
    CLUSTER_ROUTER,
    VENDOR,
    OwnerKind,
    PortSpec,
    SwitchSpec,
    router_port_name,
    switch_router_port_name,
)
from ovnctl.ovn.tls import NbTls

if TYPE_CHECKING:
    from ovnctl.ovn.client import OvnNorthbound

__all__ = [
    "CLUSTER_ROUTER",
    "METRIC_NAMES",
    "VENDOR",
    "Change",
    "ConvergeReport",
    "Drift",
    "ForeignObjectError",
    "MissingSwitchError",
    "NbTls",
    "NoopNorthboundMetrics",
    "Northbound",
    "NorthboundError",
    "NorthboundMetrics",
    "NorthboundTransactionError",
    "NorthboundUnavailable",
    "NullNorthbound",
    "OvnNorthbound",
    "OwnerKind",
    "PortSpec",
    "PrometheusNorthboundMetrics",
    "SwitchSpec",
    "build_northbound",
    "parse_remotes",
    "router_port_name",
    "switch_router_port_name",
]


def __getattr__(name: str) -> Any:
    # OvnNorthbound pulls in ovsdbapp and python-ovs: imported when first asked for,
    # so a controller without --ovn-nb does not pay for them at start-up.
    if name == "OvnNorthbound":
        from ovnctl.ovn.client import OvnNorthbound

        return OvnNorthbound
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_northbound(
    remote: str | None,
    *,
    tls: NbTls | None = None,
    metrics: NorthboundMetrics | None = None,
    timeout: float = 10.0,
) -> Northbound:
    """The composition root's helper: an OvnNorthbound for ``--ovn-nb``, else NullNorthbound.

    Nothing connects until ``await northbound.start()``.
    """
    if not remote:
        if tls is not None:
            raise ValueError("TLS files for the OVN northbound are given, but no --ovn-nb")
        return NullNorthbound()
    from ovnctl.ovn.client import OvnNorthbound

    return OvnNorthbound(remote=remote, tls=tls, metrics=metrics, timeout=timeout)
