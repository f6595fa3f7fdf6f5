"""A lean HTTP/1.1 keep-alive client for the controller's API requests.

Why not only aiohttp: measured on the embedded API server, one IP object
create cost the client about 120 µs of CPU through aiohttp and about 50 µs
over plain asyncio streams (``docs/bench.md``), and an allocation burst is
three requests per pod. Almost all of aiohttp's share is generality the
controller does not use (cookies, redirects, middlewares, tracing, per-request
header merging, URL re-parsing). This client does only what the API server
needs: one request at a time per connection, JSON bodies with
``Content-Length``, responses framed by ``Content-Length`` or chunked (what
kube-apiserver and the embedded server send), TLS, and a pool of idle
connections reused last-in-first-out.

It sends no ``Accept-Encoding``, so servers answer uncompressed; a ``gzip``
answer is decoded anyway. Proxies are not handled here:
:class:`~ovnctl.k8s.transport.AsyncTransport` uses aiohttp when one is
configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import ssl
import time

__all__ = ["ConnectFailed", "Http1Pool", "ProtocolError", "StaleConnection"]

IDLE_TIMEOUT_S = 15.0
"""Idle connections older than this are closed instead of reused (as aiohttp's default):
servers close idle connections after a while, and a request sent on one that the server
has just closed fails."""
_MAX_HEAD = 64 * 1024


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.1 as expected."""


class ConnectFailed(Exception):
    """The connection could not be opened: nothing was sent."""


class StaleConnection(Exception):
    """A reused connection was closed by the server before any answer arrived."""


class _Connection:
    __slots__ = ("idle_since", "reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.idle_since = 0.0

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already closed: nothing more to release
            self.writer.close()


class Http1Pool:
    """Connections to one ``host:port`` (TLS when ``ssl`` is a context) on one event loop.

    The caller bounds how many requests run at once; the pool keeps up to
    ``max_idle`` connections open between them.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl_context: ssl.SSLContext | None,
        server_hostname: str | None,
        max_idle: int,
    ) -> None:
        self._host = host
        self._port = port
        self._ssl = ssl_context
        self._server_hostname = server_hostname
        self._max_idle = max_idle
        self._idle: list[_Connection] = []
        host_header = host if ":" not in host else f"[{host}]"
        default_port = 443 if ssl_context is not None else 80
        self.host_header = host_header if port == default_port else f"{host_header}:{port}"

    async def _connect(self) -> _Connection:
        try:
            if self._ssl is not None:
                reader, writer = await asyncio.open_connection(
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._server_hostname or self._host,
                    limit=_MAX_HEAD,
                )
            else:
                reader, writer = await asyncio.open_connection(
                    self._host, self._port, limit=_MAX_HEAD
                )
        except ssl.SSLError:
            raise  # a TLS refusal will not change on a retry
        except OSError as exc:
            raise ConnectFailed(f"connect to {self._host}:{self._port}: {exc}") from exc
        return _Connection(reader, writer)

    def _checkout(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            # at_eof: the server already closed it (urllib3 polls for the same before reuse).
            fresh = now - conn.idle_since < IDLE_TIMEOUT_S
            if fresh and not conn.writer.is_closing() and not conn.reader.at_eof():
                return conn
            conn.close()
        return None

    def _checkin(self, conn: _Connection) -> None:
        if len(self._idle) >= self._max_idle:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        self._idle.append(conn)

    async def request(self, head: bytes, body: bytes | None) -> tuple[int, bytes]:
        """Send ``head`` (request line and headers, ending in a blank line) and ``body``.

        Raises :class:`StaleConnection` when a reused connection turned out closed
        before any answer (the server may or may not have read the request),
        :class:`ProtocolError` for a malformed answer, ``OSError`` and
        ``asyncio.IncompleteReadError`` for broken connections.
        """
        conn = self._checkout()
        reused = conn is not None
        if conn is None:
            conn = await self._connect()
        try:
            conn.writer.write(head + body if body else head)
            try:
                status_head = await conn.reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                if reused and not exc.partial:
                    raise StaleConnection("the server closed the idle connection") from None
                raise
            status, data, keep = await _read_response(conn.reader, status_head)
        except BaseException:
            conn.close()
            raise
        if keep:
            self._checkin(conn)
        else:
            conn.close()
        return status, data

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


async def _read_response(reader: asyncio.StreamReader, head: bytes) -> tuple[int, bytes, bool]:
    """The status, the decoded body, and whether the connection may be reused."""
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:100]!r}")
    try:
        status = int(parts[1])
    except ValueError:
        raise ProtocolError(f"bad status in {lines[0][:100]!r}") from None
    headers: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep:
            raise ProtocolError(f"bad header line {line[:100]!r}")
        headers[name.strip().lower()] = value.strip()
    keep = headers.get(b"connection", b"").lower() != b"close" and parts[0] == b"HTTP/1.1"
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        data = await _read_chunked(reader)
    elif (length := headers.get(b"content-length")) is not None:
        try:
            size = int(length)
        except ValueError:
            raise ProtocolError(f"bad Content-Length {length[:40]!r}") from None
        data = await reader.readexactly(size) if size else b""
    elif status in (204, 304) or 100 <= status < 200:
        data = b""
    else:
        data = await reader.read()  # framed by the end of the connection
        keep = False
    if headers.get(b"content-encoding", b"").lower() == b"gzip":
        data = gzip.decompress(data)
    return status, data, keep


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        line = await reader.readuntil(b"\r\n")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise ProtocolError(f"bad chunk size line {line[:40]!r}") from None
        if size == 0:
            # Trailers (rarely any) end with a blank line.
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return b"".join(chunks)
        chunks.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise ProtocolError("chunk not followed by CRLF")
