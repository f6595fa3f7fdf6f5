"""The embedded Kubernetes API server that ovnctl's tests, demo and benchmarks talk to.

Clients reach it over real HTTP with a kubeconfig, exactly as they reach a
cluster; nothing in the client libraries is mocked. It stands apart from the
controller: nothing here imports the controller, and the controller never
imports this package (import-linter contract in ``pyproject.toml``).

Modules: :mod:`~ovnctl.sim.store` (objects, resourceVersions, history,
watchers), :mod:`~ovnctl.sim.objects` (stored versions, events, watch
streams), :mod:`~ovnctl.sim.admission` (checks and defaults of a write),
:mod:`~ovnctl.sim.enforcement`, :mod:`~ovnctl.sim.schema`,
:mod:`~ovnctl.sim.pruning` and :mod:`~ovnctl.sim.structural` (CRD schemas:
validation, pruning, defaulting, structural checks),
:mod:`~ovnctl.sim.server` (HTTP routing on kmock's emulator),
:mod:`~ovnctl.sim.watchstream` (one watch stream's query, initial and live events),
:mod:`~ovnctl.sim.resources`, :mod:`~ovnctl.sim.selectors`,
:mod:`~ovnctl.sim.patching`, :mod:`~ovnctl.sim.discovery`,
:mod:`~ovnctl.sim.requestlog`, :mod:`~ovnctl.sim.faults`, admission webhooks
(:mod:`~ovnctl.sim.webhooks` configurations and matching,
:mod:`~ovnctl.sim.admission_review`, :mod:`~ovnctl.sim.webhook_client`,
:mod:`~ovnctl.sim.webhook_dispatch`),
:mod:`~ovnctl.sim.runner` (start it) and :mod:`~ovnctl.sim.command` (CLI).
"""

from ovnctl.sim.errors import ApiError
from ovnctl.sim.faults import Faults
from ovnctl.sim.requestlog import VERBS, LoggedRequest, RequestLog
from ovnctl.sim.resources import ResourceInfo
from ovnctl.sim.runner import (
    SimProcess,
    SimServer,
    ThreadedSimServer,
    load_manifests,
    write_kubeconfig,
)
from ovnctl.sim.server import SimEmulator
from ovnctl.sim.store import Store

__all__ = [
    "VERBS",
    "ApiError",
    "Faults",
    "LoggedRequest",
    "RequestLog",
    "ResourceInfo",
    "SimEmulator",
    "SimProcess",
    "SimServer",
    "Store",
    "ThreadedSimServer",
    "load_manifests",
    "write_kubeconfig",
]
