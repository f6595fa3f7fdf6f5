"""Where the cluster is: one resolution shared by Kopf and the API writer.

ovnctl talks to the API server through two clients: Kopf's own (watches) and
the official ``kubernetes`` client (writes, leader election). Both must point at
the same server with the same credentials, so the configuration is resolved
once here, the way kubectl resolves it, and Kopf is handed a
``ConnectionInfo`` derived from that same configuration instead of running its
own discovery.
"""

from __future__ import annotations

import os
from pathlib import Path

import kopf
import kubernetes.client
import kubernetes.config

from ovnctl.k8s.api import KubeApi

__all__ = ["ClusterNotFoundError", "connect", "connection_info", "load_configuration"]


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


def connection_info(configuration: kubernetes.client.Configuration) -> kopf.ConnectionInfo:
    """Kopf's credentials, taken from the official client's configuration."""
    header = configuration.get_api_key_with_prefix(
        "BearerToken"
    ) or configuration.get_api_key_with_prefix("authorization")
    parts = header.split(" ", 1) if header else []
    scheme, token = (
        (None, None) if not parts else (None, parts[0]) if len(parts) == 1 else (parts[0], parts[1])
    )
    return kopf.ConnectionInfo(
        server=configuration.host,
        ca_path=configuration.ssl_ca_cert,
        insecure=not configuration.verify_ssl,
        username=configuration.username or None,
        password=configuration.password or None,
        scheme=scheme,
        token=token,
        certificate_path=configuration.cert_file,
        private_key_path=configuration.key_file,
    )


def connect(
    *, kubeconfig: str | None = None, max_concurrency: int = 16, user_agent: str | None = None
) -> tuple[KubeApi, kopf.ConnectionInfo]:
    """The API facade and Kopf's credentials for the same cluster."""
    configuration = load_configuration(kubeconfig=kubeconfig)
    info = connection_info(configuration)
    api = KubeApi(
        configuration=configuration, max_concurrency=max_concurrency, user_agent=user_agent
    )
    return api, info
