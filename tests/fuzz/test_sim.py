"""Fuzzed request bodies to the embedded API server: a Status error, never a 500.

Pass condition: whatever the body (any JSON, broken JSON, wrong content type,
objects of the right kind with fields of any type), the server answers 2xx or a
4xx ``v1/Status`` whose message is not empty; a 400/422 about the body names
the field (as the real API server does: ``metadata.name: Required value``).
One server serves the whole module: each example is one HTTP round trip.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from ovnctl.sim import ThreadedSimServer
from tests.conftest import crd_manifests
from tests.fuzz.strategies import FUZZ, JSON, json_text, metadata, shaped

SUBNETS = "/apis/kubeovn.io/v1/subnets"
PODS = "/api/v1/namespaces/default/pods"
IPS = "/apis/kubeovn.io/v1/ips"
CONTENT_TYPES = [
    "application/json",
    "application/merge-patch+json",
    "application/json-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
    "text/plain",
]


@pytest.fixture(scope="module")
def server() -> Iterator[ThreadedSimServer]:
    with ThreadedSimServer(manifests=crd_manifests()) as sim:
        _send(sim, "POST", SUBNETS, _subnet("existing"), "application/json")
        yield sim


def _subnet(name: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "Subnet",
        "metadata": {"name": name},
        "spec": {"cidrBlock": "10.16.0.0/16"},
    }


def _send(
    sim: ThreadedSimServer, method: str, path: str, body: Any, content_type: str
) -> tuple[int, Any]:
    data = body if isinstance(body, bytes) else json.dumps(body, allow_nan=True).encode()
    request = urllib.request.Request(
        sim.url + path, data=data, method=method, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, raw.decode("utf-8", "replace")


OBJECTS = st.one_of(
    st.builds(
        lambda meta, spec, kind: {
            "apiVersion": "kubeovn.io/v1",
            "kind": kind,
            "metadata": meta,
            "spec": spec,
        },
        metadata(st.one_of(st.sampled_from(["a", "existing", "A_B", ""]), JSON)),
        st.one_of(
            shaped(["cidrBlock", "gateway", "excludeIps", "provider", "subnet", "ipAddress"]), JSON
        ),
        st.sampled_from(["Subnet", "IP", "Pod", ""]),
    ),
    shaped(["apiVersion", "kind", "metadata", "spec", "status"]),
    JSON,
)
BODIES = st.one_of(OBJECTS, json_text(OBJECTS).map(str.encode), st.binary(max_size=40))
TARGETS = st.sampled_from(
    [
        ("POST", SUBNETS),
        ("POST", PODS),
        ("POST", IPS),
        ("PUT", SUBNETS + "/existing"),
        ("PATCH", SUBNETS + "/existing"),
        ("PATCH", SUBNETS + "/existing/status"),
        ("DELETE", SUBNETS + "/missing"),
    ]
)


def _check_status(code: int, body: Any) -> None:
    event(f"HTTP {code}")
    assert code < 500, (code, body)
    if code < 400:
        return
    assert isinstance(body, dict), body
    assert body.get("kind") == "Status", body
    assert body.get("message"), body
    if code == 422:
        causes = (body.get("details") or {}).get("causes") or []
        named = [c for c in causes if c.get("field")] or ":" in body["message"]
        assert named, body


@FUZZ
@given(target=TARGETS, body=BODIES, content_type=st.sampled_from(CONTENT_TYPES))
def test_request_bodies(
    server: ThreadedSimServer, target: tuple[str, str], body: Any, content_type: str
) -> None:
    """Writes with any body and content type: 2xx or a named 4xx Status, never a 500."""
    method, path = target
    code, answer = _send(server, method, path, body, content_type)
    _check_status(code, answer)
    if method == "POST" and code < 300 and isinstance(answer, dict):
        name = (answer.get("metadata") or {}).get("name")
        if isinstance(name, str) and name:  # keep the store small and the paths reusable
            _send(server, "DELETE", f"{path}/{name}", b"", "application/json")
