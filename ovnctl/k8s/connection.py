"""Where the cluster is: resolved once, the way kubectl resolves it.

The API facade, the informers' reflectors and leader election all use the
official client on this one configuration, so they always reach the same
server with the same credentials.
"""

from __future__ import annotations

import os
from pathlib import Path

import kubernetes.client
import kubernetes.config

from ovnctl.k8s.api import KubeApi

__all__ = ["ClusterNotFoundError", "connect", "load_configuration"]


class ClusterNotFoundError(RuntimeError):
    """No kubeconfig and no in-cluster service account: nowhere to connect."""


def load_configuration(*, kubeconfig: str | None = None) -> kubernetes.client.Configuration:
    """Resolve the cluster as kubectl does.

    Order: an explicit ``kubeconfig`` path; else ``$KUBECONFIG`` or
    ``~/.kube/config`` when present; else the in-cluster service account.
    """
    configuration = kubernetes.client.Configuration()
    if kubeconfig is not None:
        if not Path(kubeconfig).is_file():
            raise ClusterNotFoundError(f"kubeconfig {kubeconfig!r} does not exist")
        kubernetes.config.load_kube_config(
            config_file=kubeconfig, client_configuration=configuration
        )
        return configuration
    env_paths = [p for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    default_path = Path.home() / ".kube" / "config"
    if env_paths or default_path.is_file():
        kubernetes.config.load_kube_config(client_configuration=configuration)
        return configuration
    try:
        kubernetes.config.load_incluster_config(client_configuration=configuration)
    except kubernetes.config.ConfigException as exc:
        raise ClusterNotFoundError(
            "no --kubeconfig, no $KUBECONFIG, no ~/.kube/config and not running in a cluster"
        ) from exc
    return configuration


def connect(
    *, kubeconfig: str | None = None, max_concurrency: int = 16, user_agent: str | None = None
) -> KubeApi:
    """The API facade for the cluster kubectl would reach."""
    configuration = load_configuration(kubeconfig=kubeconfig)
    return KubeApi(
        configuration=configuration, max_concurrency=max_concurrency, user_agent=user_agent
    )
