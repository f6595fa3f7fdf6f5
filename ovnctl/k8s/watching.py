"""Run Kopf's watches for a controller, and nothing else of Kopf.

The controller composes its parts without importing Kopf: it hands its
:class:`~ovnctl.k8s.handlers.WatchHooks` and the cluster's connection here,
and this runs the operator loop until the stop flag is set.
"""

from __future__ import annotations

import asyncio
import logging

import kopf

from ovnctl.k8s.handlers import WatchHooks, build_registry, operator_settings

__all__ = ["run_watches"]


async def run_watches(
    *,
    hooks: WatchHooks,
    connection: kopf.ConnectionInfo,
    stop_flag: asyncio.Event,
    namespaces: tuple[str, ...] = (),
) -> None:
    """Watch and index until ``stop_flag`` is set (cluster-wide unless ``namespaces``)."""
    # Kopf logs one INFO line per handled watch event; at 100k pods that is a log
    # line per pod update. ovnctl logs what its reconcilers decide instead.
    logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    await kopf.operator(
        registry=build_registry(hooks=hooks, connection=connection),
        settings=operator_settings(),
        clusterwide=not namespaces,
        namespaces=namespaces,
        standalone=True,
        stop_flag=stop_flag,
    )
