"""HTTP to the API server on the event loop: aiohttp, with the official client's settings.

:class:`~ovnctl.k8s.api.KubeApi` used to run the official client's
synchronous ``ApiClient`` (urllib3) on a thread pool. Profiling the
``alloc`` benchmark (docs/bench.md) showed that most of the controller's CPU
per NIC went there: urllib3's request plumbing, a thread hand-off each way
and the GIL contention of 16 threads. Here the same requests go out from the
event loop through one aiohttp session, with no thread.

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
* an HTTP proxy (``proxy``, ``no_proxy``, ``proxy_headers``);
* urllib3's default retries: a request that could not connect is tried up to
  3 more times, one whose connection broke only if its method is idempotent.

A session belongs to one event loop; it is made on first use in the running
loop (and again if a later call runs in another loop, as tests do).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp
import orjson

if TYPE_CHECKING:
    from kubernetes.client import Configuration

__all__ = ["AsyncTransport", "ConnectionFailed", "decode_json", "encode_json"]

AUTH_RECHECK_S = 1.0
"""How long an Authorization header is reused before the refresh hook is asked again."""
CONNECT_RETRIES = 3
"""urllib3's default ``Retry(3)``, which the official client used."""
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


class ConnectionFailed(Exception):
    """No HTTP answer: the connection failed, broke or timed out."""


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
    """One aiohttp session per event loop, at most ``max_connections`` connections."""

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
        self._server_hostname: str | None = configuration.tls_server_name or None
        self._headers = {"User-Agent": user_agent, "Accept": "application/json"}
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
            skip_auto_headers=("Accept-Encoding",),
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
        session = self._session_for_loop()
        headers = {"Content-Type": content_type}
        authorization = self._authorization()
        if authorization:
            headers["Authorization"] = authorization
        url = self._base + path
        attempt = 0
        while True:
            try:
                async with session.request(
                    method,
                    url,
                    params=query,
                    data=body,
                    headers=headers,
                    proxy=self._proxy,
                    proxy_headers=self._proxy_headers,
                    server_hostname=self._server_hostname,
                ) as response:
                    return response.status, await response.read()
            except aiohttp.ClientConnectorError as exc:
                # Never reached the server: safe to send again, whatever the method.
                if attempt >= CONNECT_RETRIES:
                    raise ConnectionFailed(str(exc) or type(exc).__name__) from exc
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                # Perhaps received: only an idempotent request may be sent twice.
                if method not in _IDEMPOTENT or attempt >= CONNECT_RETRIES:
                    raise ConnectionFailed(str(exc) or type(exc).__name__) from exc
            attempt += 1

    def close(self) -> None:
        """Close the session: now if its loop has stopped, else as a task on that loop."""
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
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()
