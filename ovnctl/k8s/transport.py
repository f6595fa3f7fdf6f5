"""HTTP to the API server on the event loop, with the official client's settings.

:class:`~ovnctl.k8s.api.KubeApi` used to run the official client's
synchronous ``ApiClient`` (urllib3) on a thread pool. Profiling the
``alloc`` benchmark (docs/bench.md) showed that most of the controller's CPU
per NIC went there: urllib3's request plumbing, a thread hand-off each way
and the GIL contention of 16 threads. Here the same requests go out from the
event loop, with no thread: through :class:`~ovnctl.k8s.http1.Http1Pool`
(a lean keep-alive HTTP/1.1 client; aiohttp, tried first, cost more than
twice its CPU per request), or through an aiohttp session when a proxy is
configured.

What the official client did is kept, from the same
``kubernetes.client.Configuration`` that :mod:`ovnctl.k8s.connection` resolves
as kubectl does:

* authentication: the ``authorization`` API key (bearer token), read through
  ``Configuration.get_api_key_with_prefix``, so the refresh hooks of exec
  plugins, OIDC and in-cluster token files run as before; asked at most once
  a second (those hooks renew minutes before expiry), and client
  certificates (``cert_file``/``key_file``);
* TLS: ``ssl_ca_cert``/``ca_cert_data``, ``verify_ssl``, ``assert_hostname``
  and ``tls_server_name``;
* an HTTP proxy (``proxy``, ``no_proxy``, ``proxy_headers``), through aiohttp;
* retries below the write fence only where nothing can be written twice: a
  request that could not connect is tried up to 3 more times (nothing was
  sent), one whose connection broke only if it is a read. A write that may
  have reached the server, or that was answered 429/503, is never resent here:
  it surfaces to the work queue, whose retry passes the write fence again (a
  replica that lost its Lease in between must not write; the chaos benchmark
  caught urllib3 resending a DELETE after Retry-After, past the fence).

A pool or session belongs to one event loop; it is made on first use in the
running loop (and again if a later call runs in another loop, as tests do).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import orjson
from yarl import URL

from ovnctl.k8s.http1 import ConnectFailed, Http1Pool, ProtocolError, StaleConnection

if TYPE_CHECKING:
    from kubernetes.client import Configuration

__all__ = ["AsyncTransport", "ConnectionFailed", "decode_json", "encode_json"]

AUTH_RECHECK_S = 1.0
"""How long an Authorization header is reused before the refresh hook is asked again."""
CONNECT_RETRIES = 3
"""urllib3's default ``Retry(3)``, which the official client used."""
_RESENDABLE = frozenset({"GET", "HEAD", "OPTIONS"})
"""Reads: sent again after a broken connection. Writes go back through the fence."""


class ConnectionFailed(Exception):
    """No HTTP answer: the connection failed, broke or timed out."""


def _header_value(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"{name} contains a line break; refusing to send it as a header")
    return value


def encode_json(body: Any) -> bytes:
    """A request body as compact JSON bytes (orjson: dates as RFC 3339, as the official
    client's ``sanitize_for_serialization`` wrote them; non-string keys as strings)."""
    return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)


def decode_json(data: bytes | str) -> Any:
    """A response body or watch line; :class:`ValueError` when it is not JSON."""
    return orjson.loads(data)


def _ssl_context(configuration: Configuration) -> ssl.SSLContext | bool:
    """The TLS settings urllib3 got from the official client, as an SSLContext."""
    if not configuration.host.startswith("https"):
        return False
    context = ssl.create_default_context(
        cafile=configuration.ssl_ca_cert or None,
        cadata=getattr(configuration, "ca_cert_data", None) or None,
    )
    if not configuration.verify_ssl:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif configuration.assert_hostname is False:
        context.check_hostname = False
    if configuration.cert_file:
        context.load_cert_chain(configuration.cert_file, configuration.key_file or None)
    return context


def _proxy(configuration: Configuration) -> str | None:
    proxy = configuration.proxy
    if not proxy:
        return None
    from kubernetes.client.rest import should_bypass_proxies

    if should_bypass_proxies(configuration.host, configuration.no_proxy or ""):
        return None
    if not proxy.startswith(("http://", "https://")):
        raise ValueError(f"proxy {proxy!r}: only http:// and https:// proxies are supported")
    return str(proxy)


class AsyncTransport:
    """Requests on the running event loop, at most ``max_connections`` connections.

    Without a proxy, through :class:`~ovnctl.k8s.http1.Http1Pool`; with one,
    through an aiohttp session. Either is made per event loop, on first use.
    """

    def __init__(
        self,
        configuration: Configuration,
        *,
        max_connections: int,
        timeout: float,
        user_agent: str,
    ) -> None:
        self._configuration = configuration
        self._max_connections = max_connections
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._base = configuration.host.rstrip("/")
        self._ssl = _ssl_context(configuration)
        # Resolved now: a bad proxy setting fails at start-up, not on the first write.
        self._proxy = _proxy(configuration)
        self._proxy_headers = configuration.proxy_headers
        # Only what differs from aiohttp's defaults is passed per request: each keyword
        # given costs on every call of a hot path.
        self._extra: dict[str, Any] = {}
        if self._proxy:
            self._extra.update(proxy=self._proxy, proxy_headers=self._proxy_headers)
        if configuration.tls_server_name:
            self._extra["server_hostname"] = configuration.tls_server_name
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
        endpoint = urlsplit(configuration.host)
        if endpoint.scheme not in ("http", "https") or not endpoint.hostname:
            raise ValueError(f"host {configuration.host!r}: expected http(s)://HOST[:PORT]")
        self._endpoint = endpoint
        self._prefix = endpoint.path.rstrip("/")
        self._pool: Http1Pool | None = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        self._head_fixed = (
            f"User-Agent: {_header_value('user agent', user_agent)}\r\nAccept: application/json\r\n"
        )
        self._auth: str | None = None
        self._auth_checked = -AUTH_RECHECK_S
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def user_agent(self) -> str:
        return self._headers["User-Agent"]

    def _authorization(self) -> str | None:
        now = time.monotonic()
        if now - self._auth_checked >= AUTH_RECHECK_S:
            # The refresh hook (exec plugin, OIDC, token file) runs in here when set.
            self._auth = self._configuration.get_api_key_with_prefix(
                "BearerToken", alias="authorization"
            )
            self._auth_checked = now
        return self._auth

    def _session_for_loop(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and not session.closed and self._loop is loop:
            return session
        if session is not None:
            session.detach()  # a session of a loop that has gone: its sockets went with it
        self._loop = loop
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl),
            headers=self._headers,
            timeout=self._timeout,
            # The API server sets no cookies; filtering an empty jar costs on every request.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        return self._session

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, bytes]:
        """Send one request; its status and body. Raises :class:`ConnectionFailed`."""
        if self._proxy:
            return await self._request_aiohttp(method, path, query, body, content_type)
        return await self._request_http1(method, path, query, body, content_type)

    def _pool_for_loop(self) -> Http1Pool:
        loop = asyncio.get_running_loop()
        if self._pool is not None and self._pool_loop is loop:
            return self._pool
        if self._pool is not None and self._pool_loop and not self._pool_loop.is_closed():
            self._pool.close()
        endpoint = self._endpoint
        https = endpoint.scheme == "https"
        assert endpoint.hostname is not None  # checked in __init__
        self._pool = Http1Pool(
            endpoint.hostname,
            endpoint.port or (443 if https else 80),
            ssl_context=self._ssl if isinstance(self._ssl, ssl.SSLContext) else None,
            server_hostname=self._configuration.tls_server_name or None,
            max_idle=self._max_connections,
        )
        self._pool_loop = loop
        return self._pool

    async def _request_http1(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: bytes | None,
        content_type: str,
    ) -> tuple[int, bytes]:
        pool = self._pool_for_loop()
        target = self._prefix + path + (f"?{urlencode(query)}" if query else "")
        lines = [f"{method} {target} HTTP/1.1\r\nHost: {pool.host_header}\r\n", self._head_fixed]
        authorization = self._authorization()
        if authorization:
            lines.append(f"Authorization: {_header_value('authorization', authorization)}\r\n")
        if body is not None:
            lines.append(f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(self._timeout.total):
                    return await pool.request(head, body)
            except ConnectFailed as exc:
                # Never reached the server: safe to send again, whatever the method.
                if attempt >= CONNECT_RETRIES:
                    raise ConnectionFailed(str(exc) or type(exc).__name__) from exc
            except (StaleConnection, ProtocolError, TimeoutError, OSError) as exc:
                # Perhaps received: only a read may be sent again from here.
                if method not in _RESENDABLE or attempt >= CONNECT_RETRIES:
                    raise ConnectionFailed(str(exc) or type(exc).__name__) from exc
            except asyncio.IncompleteReadError as exc:
                if method not in _RESENDABLE or attempt >= CONNECT_RETRIES:
                    raise ConnectionFailed("connection closed mid-answer") from exc
            attempt += 1

    async def _request_aiohttp(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | None,
        body: bytes | None,
        content_type: str,
    ) -> tuple[int, bytes]:
        session = self._session_for_loop()
        headers = {"Content-Type": content_type}
        authorization = self._authorization()
        if authorization:
            headers["Authorization"] = authorization
        # Resource.path quoted the names already: no second parse and quote by yarl.
        url = URL(self._base + path, encoded=True)
        attempt = 0
        while True:
            try:
                async with session.request(
                    method,
                    url,
                    params=query,
                    data=body,
                    headers=headers,
                    **self._extra,
                ) as response:
                    return response.status, await response.read()
            except aiohttp.ClientConnectorError as exc:
                # Never reached the server: safe to send again, whatever the method.
                if attempt >= CONNECT_RETRIES:
                    raise ConnectionFailed(str(exc) or type(exc).__name__) from exc
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                # Perhaps received: only a read may be sent again from here.
                if method not in _RESENDABLE or attempt >= CONNECT_RETRIES:
                    raise ConnectionFailed(str(exc) or type(exc).__name__) from exc
            attempt += 1

    def close(self) -> None:
        """Close the connections: the aiohttp session as a task when its loop still runs."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        session, self._session = self._session, None
        loop = self._loop
        if session is None or session.closed or loop is None:
            return
        if loop.is_closed() or not loop.is_running():
            session.detach()
            return
        task = loop.create_task(session.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def aclose(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()
