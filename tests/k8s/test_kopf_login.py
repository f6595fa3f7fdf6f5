"""Kopf logs in with ovnctl's connection: same server, credentials and TLS, its own User-Agent."""

from __future__ import annotations

import kubernetes.client

from ovnctl.k8s.kopf_subnets import _connection, kopf_user_agent


def test_bearer_token_and_tls_files_are_carried_over() -> None:
    """A kubeconfig's token, CA and client certificate reach Kopf unchanged."""
    configuration = kubernetes.client.Configuration()
    configuration.host = "https://api.example:6443"
    configuration.api_key = {"authorization": "Bearer s3cret"}
    configuration.ssl_ca_cert = "/tmp/ca.crt"
    configuration.cert_file = "/tmp/client.crt"
    configuration.key_file = "/tmp/client.key"
    info = _connection(configuration, user_agent=kopf_user_agent("replica-1"))
    assert info.server == "https://api.example:6443"
    assert (info.scheme, info.token) == ("Bearer", "s3cret")
    assert info.ca_path == "/tmp/ca.crt"
    assert (info.certificate_path, info.private_key_path) == ("/tmp/client.crt", "/tmp/client.key")
    assert info.insecure is False
    headers = info.as_http_headers()
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["User-Agent"].startswith("kopf/")
    assert headers["User-Agent"].endswith("(replica-1)")


def test_in_cluster_token_is_refreshed_before_each_login() -> None:
    """The service account's token is re-read (the client's refresh hook) at every login."""
    configuration = kubernetes.client.Configuration()
    configuration.host = "https://10.96.0.1:443"
    tokens = iter(["bearer first", "bearer second"])

    def refresh(config: kubernetes.client.Configuration) -> None:
        config.api_key = {"authorization": next(tokens)}

    configuration.refresh_api_key_hook = refresh  # type: ignore[assignment]
    assert _connection(configuration).token == "first"
    assert _connection(configuration).token == "second"
