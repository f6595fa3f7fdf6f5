"""HTTPS calls to admission webhooks: service resolution, ``caBundle`` trust, timeouts.

kube-apiserver POSTs an ``AdmissionReview`` to ``clientConfig.url``, or to
``https://<name>.<namespace>.svc:<port><path>`` for ``clientConfig.service``,
and checks the server certificate against ``caBundle`` with the URL's host
name (for a service, the DNS name ``<name>.<namespace>.svc``). There are no
cluster Services here, so each service is mapped to a loopback address given
by the user (:attr:`WebhookClient.service_endpoints`); the request still goes
to ``https://<name>.<namespace>.svc:<port>/...``, with that SNI, ``Host``
header and certificate check, through a resolver that answers with the
mapped address. A service without a mapping fails like a missing Service.

One aiohttp session serves every call (keep-alive, like client-go's
transport); one ``ssl.SSLContext`` is built per distinct ``caBundle``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from ovnctl.sim.admission_review import CallError
from ovnctl.sim.errors import ApiError
from ovnctl.sim.webhooks import Webhook

__all__ = ["ServiceEndpoints", "WebhookClient"]

ServiceEndpoints = dict[tuple[str, str], tuple[str, int]]
"""``(namespace, name)`` of a Service -> ``(host, port)`` where its webhook server listens."""


class _ServiceResolver(AbstractResolver):
    """Resolves ``<name>.<namespace>.svc`` to the mapped address; anything else normally."""

    def __init__(self, endpoints: ServiceEndpoints) -> None:
        self._endpoints = endpoints
        self._default = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        parts = host.split(".")
        if len(parts) == 3 and parts[2] == "svc":
            target = self._endpoints.get((parts[1], parts[0]))
            if target is None:
                raise OSError(f'service "{parts[0]}" not found')
            address, mapped_port = target
            infos = await self._default.resolve(address, mapped_port, family)
            return [{**info, "hostname": host} for info in infos]
        return await self._default.resolve(host, port, family)

    async def close(self) -> None:
        await self._default.close()


class WebhookClient:
    """Posts AdmissionReviews to webhooks; owns the HTTP session and TLS contexts."""

    def __init__(self, service_endpoints: ServiceEndpoints | None = None) -> None:
        self.service_endpoints: ServiceEndpoints = dict(service_endpoints or {})
        self._session: aiohttp.ClientSession | None = None
        self._contexts: dict[bytes | None, ssl.SSLContext] = {}
        self._closing: set[asyncio.Task[None]] = set()  # old sessions being closed

    def set_service_endpoint(self, namespace: str, name: str, host: str, port: int) -> None:
        """Map the Service ``namespace/name`` to ``host:port`` (replacing any earlier mapping)."""
        self.service_endpoints[(namespace, name)] = (host, int(port))
        self._drop_session()  # pooled connections may point at the old address

    def set_service_endpoint_json(self, body: Mapping[str, Any]) -> None:
        """``POST /_sim/service-endpoints`` with ``{namespace, name, host, port}``."""
        try:
            namespace, name = str(body["namespace"]), str(body["name"])
            host, port = str(body["host"]), int(body["port"])
        except (KeyError, TypeError, ValueError):
            raise ApiError.bad_request(
                "a service endpoint needs namespace, name, host and port (an integer), "
                f"got {dict(body)!r}"
            ) from None
        self.set_service_endpoint(namespace, name, host, port)

    def endpoints_json(self) -> dict[str, Any]:
        """The mappings, as ``GET /_sim/service-endpoints`` lists them."""
        return {
            "endpoints": [
                {"namespace": ns, "name": name, "host": host, "port": port}
                for (ns, name), (host, port) in sorted(self.service_endpoints.items())
            ]
        }

    def _drop_session(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            task = asyncio.get_running_loop().create_task(session.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def close(self) -> None:
        if self._closing:
            await asyncio.gather(*self._closing)
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(resolver=_ServiceResolver(self.service_endpoints))
            self._session = aiohttp.ClientSession(connector=connector)
        return self._session

    def _context(self, hook: Webhook) -> ssl.SSLContext:
        """The TLS context trusting the hook's ``caBundle`` (system roots without one)."""
        context = self._contexts.get(hook.ca_bundle)
        if context is None:
            try:
                if hook.ca_bundle is None:
                    context = ssl.create_default_context()
                else:
                    context = ssl.create_default_context(cadata=hook.ca_bundle.decode("ascii"))
            except (ssl.SSLError, ValueError, UnicodeDecodeError) as exc:
                raise CallError(
                    hook.name,
                    f"could not get REST client: unable to load root certificates: {exc}",
                ) from None
            self._contexts[hook.ca_bundle] = context
        return context

    def url(self, hook: Webhook) -> str:
        """The URL kube-apiserver would POST to, with its ``?timeout=`` parameter."""
        if hook.service is not None:
            namespace, name, port, path = hook.service
            base = f"https://{name}.{namespace}.svc:{port}{path}"
        else:
            assert hook.url is not None  # validation requires exactly one of the two
            base = hook.url
        separator = "&" if "?" in base else "?"
        return f"{base}{separator}timeout={hook.timeout_s}s"

    async def post(self, hook: Webhook, review: dict[str, Any]) -> Any:
        """POST the review and return the decoded answer; :class:`CallError` on any failure."""
        context = self._context(hook)
        url = self.url(hook)
        if hook.service is not None and hook.service[:2] not in self.service_endpoints:
            namespace, name = hook.service[:2]
            raise CallError(
                hook.name,
                f'failed to call webhook: Post "{url}": service "{name}" not found '
                f"(the embedded API server has no Services: map {namespace}/{name} to an "
                "address with service_endpoints or --webhook-service)",
            )
        body = json.dumps(review, separators=(",", ":")).encode()
        try:
            async with self._get_session().post(
                url,
                data=body,
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                ssl=context,
                timeout=aiohttp.ClientTimeout(total=hook.timeout_s),
                allow_redirects=False,
            ) as response:
                text = await response.text()
                status = response.status
        except TimeoutError:
            raise CallError(
                hook.name, f'failed to call webhook: Post "{url}": context deadline exceeded'
            ) from None
        except aiohttp.ClientError as exc:
            raise CallError(hook.name, f'failed to call webhook: Post "{url}": {exc}') from None
        if not 200 <= status < 300:
            raise CallError(
                hook.name,
                f"failed to call webhook: the server responded with the status code {status}: "
                f"{text[:512]}",
            )
        try:
            return json.loads(text)
        except ValueError as exc:
            raise CallError(
                hook.name, f"failed to call webhook: the response is not JSON: {exc}"
            ) from None
