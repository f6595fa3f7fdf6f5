"""The API transport keeps what the official client did: token, client certificate, CA, retries.

A small aiohttp server stands in for the API server, so what arrives (headers,
how many times a request was sent) can be checked, over TLS with a throwaway
CA (trustme) where certificates matter.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web
from kubernetes.client import Configuration

from ovnctl.k8s import transport as transport_module
from ovnctl.k8s.api import KubeApi, Transient
from ovnctl.k8s.resources import IPS
from ovnctl.k8s.transport import AsyncTransport, ConnectionFailed

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Server:
    """An aiohttp app on 127.0.0.1 recording every request it gets."""

    def __init__(self) -> None:
        self.seen: list[web.Request] = []
        self.url = ""

    async def start(self, handler: Handler, *, ssl_context: ssl.SSLContext | None = None) -> None:
        async def record(request: web.Request) -> web.StreamResponse:
            self.seen.append(request)
            return await handler(request)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", record)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"

    async def stop(self) -> None:
        await self._runner.cleanup()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    s = Server()
    yield s
    await s.stop()


def config(url: str, **settings: Any) -> Configuration:
    configuration = Configuration()
    configuration.host = url
    for name, value in settings.items():
        setattr(configuration, name, value)
    return configuration


async def ok(request: web.Request) -> web.Response:
    return web.json_response({"kind": "IP", "path": request.path_qs})


async def test_token_user_agent_and_body_are_sent(server: Server) -> None:
    """The bearer token, User-Agent, Content-Type and JSON body reach the server."""

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(await request.json(), status=201)

    await server.start(echo)
    api = KubeApi(
        configuration=config(server.url, api_key={"authorization": "Bearer t0k"}),
        user_agent="ovnctl-test/1",
    )
    try:
        created = await api.create(IPS, {"metadata": {"name": "a"}})
    finally:
        await api.aclose()
    assert created == {"metadata": {"name": "a"}}
    request = server.seen[0]
    assert request.method == "POST"
    assert request.path == "/apis/kubeovn.io/v1/ips"
    assert request.headers["Authorization"] == "Bearer t0k"
    assert request.headers["User-Agent"] == "ovnctl-test/1"
    assert request.headers["Content-Type"] == "application/json"


async def test_refresh_hook_renews_the_token(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exec/OIDC-style refresh hook is asked again, and its new token is used."""
    monkeypatch.setattr(transport_module, "AUTH_RECHECK_S", 0.0)
    await server.start(ok)
    tokens = iter(["Bearer one", "Bearer two"])

    def refresh(configuration: Configuration) -> None:
        configuration.api_key["authorization"] = next(tokens)

    configuration = config(server.url, api_key={"authorization": "Bearer stale"})
    configuration.refresh_api_key_hook = refresh  # type: ignore[assignment]
    api = KubeApi(configuration=configuration)
    try:
        await api.get(IPS, name="a")
        await api.get(IPS, name="b")
    finally:
        await api.aclose()
    assert [r.headers["Authorization"] for r in server.seen] == ["Bearer one", "Bearer two"]


async def test_query_and_path_prefix_are_kept(server: Server) -> None:
    """A host with a path prefix (a proxying front end) and LIST parameters are honoured."""
    await server.start(ok)
    api = KubeApi(configuration=config(server.url + "/k8s/clusters/c1"))
    try:
        pages = [p async for p in api.list_pages(IPS, label_selector="a=b", limit=7)]
    finally:
        await api.aclose()
    assert pages == [[]]
    assert server.seen[0].path == "/k8s/clusters/c1/apis/kubeovn.io/v1/ips"
    assert server.seen[0].query == {"limit": "7", "labelSelector": "a=b"}


async def test_chunked_answers_are_read(server: Server) -> None:
    """A chunked answer (as kube-apiserver sends large bodies) is read whole."""

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for part in (b'{"items": [', b'"x", ' * 2000 + b'"y"', b"]}"):
            await response.write(part)
        await response.write_eof()
        return response

    await server.start(chunked)
    api = KubeApi(configuration=config(server.url))
    try:
        body = await api.get(IPS, name="big")
    finally:
        await api.aclose()
    assert len(body["items"]) == 2001


async def test_connections_are_reused(server: Server) -> None:
    """Sequential requests share one keep-alive connection."""
    await server.start(ok)
    api = KubeApi(configuration=config(server.url))
    try:
        for name in ("a", "b", "c"):
            await api.get(IPS, name=name)
    finally:
        await api.aclose()
    peers = {r.transport.get_extra_info("peername") for r in server.seen}  # type: ignore[union-attr]
    assert len(peers) == 1


async def test_unreachable_server_is_transient() -> None:
    """Nothing listening: retried, then Transient (ConnectionError), not a crash."""
    api = KubeApi(configuration=config("http://127.0.0.1:9"))
    try:
        with pytest.raises(Transient, match="ConnectionError"):
            await api.get(IPS, name="a")
    finally:
        await api.aclose()


async def test_a_broken_write_is_not_sent_twice(server: Server) -> None:
    """A POST whose connection breaks mid-request is reported, not resent (it may have landed)."""

    async def hang_up(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        raise asyncio.CancelledError

    await server.start(hang_up)
    transport = AsyncTransport(config(server.url), max_connections=2, timeout=5.0, user_agent="t")
    try:
        with pytest.raises(ConnectionFailed):
            await transport.request("POST", "/api/v1/namespaces", body=b"{}")
        assert len(server.seen) == 1
        with pytest.raises(ConnectionFailed):
            await transport.request("GET", "/api/v1/namespaces")
        assert len(server.seen) == 1 + 1 + transport_module.CONNECT_RETRIES
    finally:
        await transport.aclose()


def _tls(tmp_path: Path) -> tuple[ssl.SSLContext, dict[str, Any]]:
    """A server context requiring client certificates, and the client's settings."""
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1")
    client_cert = ca.issue_cert("ovnctl@example")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_cert.configure_cert(server_ctx)
    ca.configure_trust(server_ctx)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    ca_path, cert_path, key_path = tmp_path / "ca.crt", tmp_path / "c.crt", tmp_path / "c.key"
    ca.cert_pem.write_to_path(str(ca_path))
    client_cert.cert_chain_pems[0].write_to_path(str(cert_path))
    client_cert.private_key_pem.write_to_path(str(key_path))
    return server_ctx, {
        "ssl_ca_cert": str(ca_path),
        "cert_file": str(cert_path),
        "key_file": str(key_path),
    }


async def test_tls_with_a_client_certificate(server: Server, tmp_path: Path) -> None:
    """The CA verifies the server and the client certificate is presented (mTLS)."""
    server_ctx, settings = _tls(tmp_path)
    await server.start(ok, ssl_context=server_ctx)
    api = KubeApi(configuration=config(server.url, **settings))
    try:
        assert (await api.get(IPS, name="a"))["kind"] == "IP"
    finally:
        await api.aclose()
    peer = server.seen[0].transport.get_extra_info("peercert")  # type: ignore[union-attr]
    assert peer is not None


async def test_tls_without_the_ca_is_refused(server: Server, tmp_path: Path) -> None:
    """A server the configured CA did not sign is not talked to."""
    server_ctx, settings = _tls(tmp_path)
    await server.start(ok, ssl_context=server_ctx)
    other = trustme.CA()
    other_ca = tmp_path / "other.crt"
    other.cert_pem.write_to_path(str(other_ca))
    settings["ssl_ca_cert"] = str(other_ca)
    api = KubeApi(configuration=config(server.url, **settings))
    try:
        with pytest.raises(Transient):
            await api.get(IPS, name="a")
    finally:
        await api.aclose()
    assert server.seen == []


def test_a_socks_proxy_is_refused_at_start() -> None:
    """A proxy scheme the transport cannot speak fails at construction, naming it."""
    with pytest.raises(ValueError, match="socks5://p:1080"):
        AsyncTransport(
            config("http://10.0.0.1:6443", proxy="socks5://p:1080"),
            max_connections=1,
            timeout=1.0,
            user_agent="t",
        )


async def test_a_connection_the_server_closed_is_not_reused(server: Server) -> None:
    """After the server hangs up an idle keep-alive connection, a POST still goes through."""

    async def close_after(request: web.Request) -> web.Response:
        return web.json_response({}, headers={"Connection": "keep-alive"})

    await server.start(close_after)
    transport = AsyncTransport(config(server.url), max_connections=2, timeout=5.0, user_agent="t")
    try:
        await transport.request("GET", "/api/v1/namespaces")
        for request in server.seen:
            assert request.transport is not None
            request.transport.close()  # the server side of the idle connection goes away
        await asyncio.sleep(0.05)
        status, _ = await transport.request("POST", "/api/v1/namespaces", body=b"{}")
    finally:
        await transport.aclose()
    assert status == 200
    assert [r.method for r in server.seen] == ["GET", "POST"]
