"""Where a controller replica is in its life, as one closed set of values.

:attr:`ovnctl.controller.runtime.Controller.state` answers with a
:class:`ControllerState`; :mod:`ovnctl.controller.probes` turns it into the
``/readyz`` answer. The values are strings so the probe body, logs and tests
read as words (``leading``, ``standby``) while code compares members.

Readiness is about the Kubernetes side only: a replica whose caches are listed
serves the admission webhook and its metrics whether it leads or not, and
whether the OVN NB answers or not (the NB's health is a metric,
``ovnctl_ovn_nb_connected``, and a line in the ``/readyz`` body). See
docs/deploy.md, "Probes and metrics".
"""

from __future__ import annotations

import enum

__all__ = ["ControllerState"]


class ControllerState(enum.StrEnum):
    """``starting`` → ``standby`` (caches listed) → ``leading`` (IPAM rebuilt, subnets
    reconciled once) → ``stopping``. Without leader election a replica passes through
    ``standby`` while it rebuilds."""

    STARTING = "starting"
    """Caches are being listed: nothing can be answered from them yet."""
    STANDBY = "standby"
    """Caches listed; not (yet) allocating: waiting for the Lease or for the rebuild."""
    LEADING = "leading"
    """The IPAM is rebuilt and every subnet reconciled once; the worker pools start right
    after (after a first NB convergence when an NB is configured and answers)."""
    STOPPING = "stopping"
    """Draining after SIGTERM, a lost Lease or a failed start-up."""

    @property
    def ready(self) -> bool:
        """Whether ``/readyz`` answers 200: the caches are listed and the replica is not
        stopping, so the admission webhook and ``/metrics`` can be served from it."""
        return self in (ControllerState.STANDBY, ControllerState.LEADING)
