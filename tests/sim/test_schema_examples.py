"""Kube-OVN's own Subnet and IP YAML apply against crds/ unchanged; a wrong type names its field."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from ovnctl.sim import SimServer
from tests.sim.conftest import REPO, Api

EXAMPLES = Path(__file__).parent / "data" / "kube_ovn_examples.yaml"
DOCS: dict[str, dict[str, Any]] = {
    d["metadata"]["name"]: d for d in yaml.safe_load_all(EXAMPLES.read_text())
}
PATHS = {"Subnet": "/apis/kubeovn.io/v1/subnets", "IP": "/apis/kubeovn.io/v1/ips"}


@pytest.fixture
async def kube_ovn() -> AsyncIterator[Api]:
    """A server with ovnctl's real kubeovn.io CRDs."""
    async with (
        SimServer(manifests=[REPO / "crds" / "subnet.yaml", REPO / "crds" / "ip.yaml"]) as sim,
        aiohttp.ClientSession() as session,
    ):
        yield Api(session, sim.url)


@pytest.mark.parametrize("name", sorted(DOCS))
async def test_example_applies_unchanged(kube_ovn: Api, name: str) -> None:
    """Each example is accepted and reads back with every field it was written with."""
    doc = DOCS[name]
    status, created = await kube_ovn.post(PATHS[doc["kind"]], doc)
    assert status == 201, created
    assert created["spec"] == doc["spec"]
    assert created["metadata"].get("labels") == doc["metadata"].get("labels")


@pytest.mark.parametrize(
    ("name", "path", "value", "message"),
    [
        (
            "subnet-gateway",
            ("natOutgoing",),
            "yes",
            'spec.natOutgoing: Invalid value: "string": spec.natOutgoing in body must be of '
            'type boolean: "string"',
        ),
        (
            "ovn-default",
            ("excludeIps",),
            "10.16.0.1",
            'spec.excludeIps: Invalid value: "string": spec.excludeIps in body must be of '
            'type array: "string"',
        ),
        (
            "team-a",
            ("cidrBlock",),
            10,
            'spec.cidrBlock: Invalid value: "integer": spec.cidrBlock in body must be of '
            'type string: "integer"',
        ),
        (
            "dual",
            ("protocol",),
            "dual",
            'spec.protocol: Unsupported value: "dual": supported values: "IPv4", "IPv6", "Dual"',
        ),
        (
            "underlay",
            ("mtu",),
            "1400",
            'spec.mtu: Invalid value: "string": spec.mtu in body must be of type integer: "string"',
        ),
        (
            "underlay",
            ("acls", 0, "priority"),
            99999,
            "spec.acls[0].priority: Invalid value: 99999: spec.acls[0].priority in body "
            "should be less than or equal to 32767",
        ),
        (
            "static-ip.default",
            ("ipAddress",),
            ["10.16.0.15"],
            'spec.ipAddress: Invalid value: "array": spec.ipAddress in body must be of type '
            'string: "array"',
        ),
    ],
)
async def test_example_with_a_wrong_type_is_refused(
    kube_ovn: Api, name: str, path: tuple[str | int, ...], value: Any, message: str
) -> None:
    """The same YAML with one bad field: 422, the message names the field and the problem."""
    doc = copy.deepcopy(DOCS[name])
    target = doc["spec"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    status, body = await kube_ovn.post(PATHS[doc["kind"]], doc)
    assert status == 422, body
    assert body["message"] == f'{doc["kind"]}.kubeovn.io "{name}" is invalid: {message}'
