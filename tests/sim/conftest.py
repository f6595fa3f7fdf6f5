"""Fixtures for the embedded API server's tests: servers, raw HTTP, test CRDs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ovnctl.sim import SimProcess, SimServer, ThreadedSimServer
from tests.sim.webhook_server import HookServer

REPO = Path(__file__).resolve().parents[2]
TEST_CRDS = REPO / "crds" / "test"

NADS = "/apis/k8s.cni.cncf.io/v1/namespaces/default/network-attachment-definitions"
PODS = "/api/v1/namespaces/default/pods"
VMS = "/apis/kubevirt.io/v1/namespaces/default/virtualmachines"


class Api:
    """Raw HTTP to the server: returns ``(status, parsed JSON body)``."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session = session
        self.url = url

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        content_type: str = "application/json",
        raw: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        async with self.session.request(
            method,
            self.url + path,
            data=data,
            params=params,
            headers={"Content-Type": content_type},
        ) as response:
            text = await response.text()
            return response.status, (json.loads(text) if text else None)

    async def get(self, path: str, **params: str) -> tuple[int, Any]:
        return await self.request("GET", path, params=params or None)

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        return await self.request("POST", path, body)

    async def create(self, path: str, body: Any) -> Any:
        """POST that must succeed (201 Created); returns the stored object."""
        status, stored = await self.post(path, body)
        assert status == 201, stored
        return stored

    async def put(self, path: str, body: Any) -> tuple[int, Any]:
        return await self.request("PUT", path, body)

    async def patch(self, path: str, body: Any, kind: str = "merge") -> tuple[int, Any]:
        types = {
            "merge": "application/merge-patch+json",
            "strategic": "application/strategic-merge-patch+json",
            "json": "application/json-patch+json",
        }
        return await self.request("PATCH", path, body, content_type=types[kind])

    async def delete(self, path: str, body: Any = None) -> tuple[int, Any]:
        return await self.request("DELETE", path, body)

    async def watch(self, path: str, *, until: int, **params: str) -> list[dict[str, Any]]:
        """Open a watch and collect ``until`` events (or fewer if the stream ends)."""
        events: list[dict[str, Any]] = []
        # A server-side timeout keeps a wrong expectation from hanging the suite.
        query = {"watch": "true", "timeoutSeconds": "5", **params}
        async with self.session.get(self.url + path, params=query) as response:
            assert response.status == 200
            async for line in response.content:
                if line.strip():
                    events.append(json.loads(line))
                    if len(events) >= until:
                        break
        return events


@pytest.fixture
async def sim() -> AsyncIterator[SimServer]:
    async with SimServer(manifests=[TEST_CRDS], bookmark_interval=0.2) as server:
        yield server


@pytest.fixture
async def api(sim: SimServer) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, sim.url)


@pytest.fixture
async def hooks() -> AsyncIterator[HookServer]:
    """An HTTPS admission webhook server (handlers set by the test)."""
    async with HookServer() as server:
        yield server


@pytest.fixture
def threaded_sim() -> Iterator[ThreadedSimServer]:
    with ThreadedSimServer(manifests=[TEST_CRDS]) as server:
        yield server


@pytest.fixture(scope="module")
def sim_process() -> Iterator[SimProcess]:
    with SimProcess() as process:
        yield process


CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
WIDGETS = "/apis/example.com/v1/widgets"


def widget_crd(
    schema: dict[str, Any] | None = None,
    *,
    versions: tuple[str, ...] = ("v1",),
    status: bool = False,
    scope: str = "Cluster",
) -> dict[str, Any]:
    """An ``example.com`` Widget CRD (cluster-scoped unless ``scope`` says otherwise).

    By default its schema keeps any field; the first of ``versions`` is the storage version.
    """
    schema = schema or {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    subresources: dict[str, Any] = {"subresources": {"status": {}}} if status else {}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": scope,
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": v,
                    "served": True,
                    "storage": i == 0,
                    "schema": {"openAPIV3Schema": schema},
                    **subresources,
                }
                for i, v in enumerate(versions)
            ],
        },
    }


def pod(name: str, **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "c", "image": "x"}]},
    }


def nad(name: str, config: str = '{"type": "kube-ovn"}', **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name, "labels": labels},
        "spec": {"config": config},
    }


def vm(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"name": name},
        "spec": {"running": True, "template": {"spec": {}}},
        "status": {"ready": True},
    }
