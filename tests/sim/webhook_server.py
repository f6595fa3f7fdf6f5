"""A small HTTPS admission webhook server for the webhook tests, with a ``trustme`` CA.

:class:`HookServer` listens on 127.0.0.1 with a certificate for ``127.0.0.1``,
``localhost`` and ``hooks.default.svc`` (so both ``clientConfig.url`` and
``clientConfig.service`` {namespace: default, name: hooks} verify), records
every ``AdmissionReview`` it gets, and answers with what the test's handler
for the request path returns (``allowed`` defaults to true). The
``*_configuration`` helpers build webhook configuration objects, to be created
at :data:`VWC` and :data:`MWC`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp.web
import trustme

__all__ = [
    "MWC",
    "VWC",
    "HookServer",
    "jsonpatch_response",
    "mutating_configuration",
    "rule",
    "validating_configuration",
    "webhook",
]

VWC = "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"
MWC = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"

Handler = Callable[[dict[str, Any]], dict[str, Any] | Awaitable[dict[str, Any]]]


class HookServer:
    """HTTPS webhook endpoints: ``handlers[path](request) -> response fields``."""

    def __init__(self, ca: trustme.CA | None = None) -> None:
        self.ca = ca or trustme.CA()
        self.handlers: dict[str, Handler] = {}
        self.reviews: list[tuple[str, dict[str, Any]]] = []  # (path, AdmissionReview)
        self.queries: list[dict[str, str]] = []
        self.hosts: list[str] = []
        self._runner: aiohttp.web.AppRunner | None = None
        self.port = 0

    @property
    def ca_bundle(self) -> str:
        """``clientConfig.caBundle``: the CA's PEM, base64-encoded."""
        return base64.b64encode(self.ca.cert_pem.bytes()).decode()

    def url(self, path: str = "/validate", host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}{path}"

    def client_config(self, path: str) -> dict[str, Any]:
        """A webhook's ``clientConfig`` calling ``path`` here, trusting this server's CA."""
        return {"url": self.url(path), "caBundle": self.ca_bundle}

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The ``request`` of every review received (on ``path``, if given)."""
        return [r["request"] for p, r in self.reviews if path is None or p == path]

    async def _serve(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        review = await request.json()
        self.reviews.append((request.path, review))
        self.queries.append(dict(request.query))
        self.hosts.append(request.host)
        handler = self.handlers.get(request.path)
        fields: dict[str, Any] = {"allowed": True}
        if handler is not None:
            result = handler(review["request"])
            fields = await result if asyncio.iscoroutine(result) else result  # type: ignore[assignment]
        body = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "response": {"uid": review["request"]["uid"], **fields},
        }
        return aiohttp.web.json_response(body)

    async def __aenter__(self) -> HookServer:
        cert = self.ca.issue_cert("127.0.0.1", "localhost", "hooks.default.svc")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        app = aiohttp.web.Application()
        app.router.add_post("/{tail:.*}", self._serve)
        self._runner = aiohttp.web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = aiohttp.web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=context)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def rule(
    *operations: str,
    group: str = "k8s.cni.cncf.io",
    resources: tuple[str, ...] = ("network-attachment-definitions",),
    version: str = "v1",
) -> dict[str, Any]:
    """One webhook rule: ``operations`` on ``resources`` of ``group``/``version`` (NADs)."""
    return {
        "operations": list(operations),
        "apiGroups": [group],
        "apiVersions": [version],
        "resources": list(resources),
    }


def webhook(name: str, client_config: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """One webhook entry; rules default to CREATE/UPDATE of NADs."""
    return {
        "name": name,
        "clientConfig": client_config,
        "rules": [rule("CREATE", "UPDATE")],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        **fields,
    }


def validating_configuration(name: str, *hooks: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": list(hooks),
    }


def mutating_configuration(name: str, *hooks: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": name},
        "webhooks": list(hooks),
    }


def jsonpatch_response(*operations: dict[str, Any]) -> dict[str, Any]:
    """An allowing response that carries a JSONPatch (base64, as the API requires)."""
    return {
        "allowed": True,
        "patchType": "JSONPatch",
        "patch": base64.b64encode(json.dumps(list(operations)).encode()).decode(),
    }
