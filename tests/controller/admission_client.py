"""Sends AdmissionReviews to a controller's webhook server, as an API server would."""

from __future__ import annotations

import socket
import uuid
from typing import Any

import aiohttp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Webhook:
    """Sends AdmissionReviews to the controller's webhook server, as an API server would."""

    def __init__(
        self,
        url: str,
        session: aiohttp.ClientSession,
        *,
        kind: str = "Subnet",
        resource: str = "subnets",
    ) -> None:
        self.url = url
        self._session = session
        self._kind = kind
        self._resource = resource

    async def review(
        self, obj: dict[str, Any], *, old: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        operation = "UPDATE" if old is not None else "CREATE"
        uid = str(uuid.uuid4())
        body: dict[str, Any] = {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": uid,
                "kind": {"group": "kubeovn.io", "version": "v1", "kind": self._kind},
                "resource": {"group": "kubeovn.io", "version": "v1", "resource": self._resource},
                "name": obj["metadata"]["name"],
                "operation": operation,
                "userInfo": {"username": "tester"},
                "object": obj,
                "oldObject": old,
                "dryRun": False,
            },
        }
        async with self._session.post(self.url, json=body) as response:
            assert response.status == 200, await response.text()
            review = await response.json()
        assert review["response"]["uid"] == uid
        return dict(review["response"])

    async def denial(self, obj: dict[str, Any], *, old: dict[str, Any] | None = None) -> str:
        response = await self.review(obj, old=old)
        assert response["allowed"] is False, response
        return str(response["status"]["message"])
