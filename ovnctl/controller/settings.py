"""What an operator of ovnctl can tune: the CLI's flags map onto :class:`ControllerSettings`.

Apart from :mod:`.runtime` so that the wiring (:mod:`.wiring`) and the
runtime both read it without importing each other.
"""

from __future__ import annotations

import dataclasses

from ovnctl.k8s.kopf_subnets import WebhookSettings
from ovnctl.k8s.leader import LeaseSettings
from ovnctl.ovn import NbTls

__all__ = ["ControllerSettings"]


@dataclasses.dataclass(frozen=True, slots=True)
class ControllerSettings:
    """What an operator of ovnctl can tune; the CLI maps flags onto these."""

    kubeconfig: str | None = None
    subnet_workers: int = 4
    pod_workers: int = 8
    vm_workers: int = 2
    max_retries: int = 15
    api_concurrency: int = 16
    shutdown_grace: float = 10.0
    gc_interval: float = 300.0
    """Seconds between sweeps for owners deleted while the controller was not looking."""
    resync_interval: float = 900.0
    """Seconds between full re-LISTs of every watched kind (the diff finds anything missed)."""
    primary_network: bool = True
    """Allocate the pods' primary (``ovn``) network; off where another CNI owns it."""
    namespaces: tuple[str, ...] = ()
    """Watch only these namespaces (empty: cluster-wide)."""
    ovn_nb: str | None = None
    """OVN northbound remote(s) (``tcp:``/``ssl:IP:PORT``, ``unix:PATH``, comma list).

    None: pure IPAM."""
    ovn_nb_tls: NbTls | None = None
    """Client key, certificate and CA for ``ssl:`` members of ``ovn_nb``."""
    nb_converge_interval: float = 300.0
    """Seconds between comparisons of the NB with the desired switches and ports."""
    leader_election: LeaseSettings | None = None
    """Campaign for this Lease and allocate only while holding it (None: always allocate)."""
    webhook: WebhookSettings | None = None
    """Serve the Subnet validating admission webhook here (None: no webhook server)."""
