"""The kubeovn.io CRDs: structural schemas, printer columns, and the objects they accept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ovnctl.models import build_ip_object
from tests.models.conftest import load_examples

CRDS = Path(__file__).resolve().parents[2] / "crds"


def load(name: str) -> dict[str, Any]:
    with (CRDS / name).open() as f:
        crd = yaml.safe_load(f)
    assert isinstance(crd, dict)
    return crd


def version(crd: dict[str, Any]) -> dict[str, Any]:
    versions: list[dict[str, Any]] = crd["spec"]["versions"]
    (v1,) = versions
    return v1


def schema_nodes(node: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every schema node below (and including) ``node``, with its path."""
    found = [(path or ".", node)]
    for key, child in (node.get("properties") or {}).items():
        found += schema_nodes(child, f"{path}.{key}")
    if "items" in node:
        found += schema_nodes(node["items"], f"{path}[]")
    return found


def resolve(schema: dict[str, Any], json_path: str) -> dict[str, Any]:
    """The schema node a simple ``.a.b`` JSONPath points at; KeyError if none."""
    node = schema
    for part in json_path.lstrip(".").split("."):
        node = node["properties"][part]
    return node


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
}


def violations(value: Any, node: dict[str, Any], path: str = "") -> list[str]:
    """A tiny OpenAPI checker: types, enums, bounds, and fields that would be pruned."""
    problems: list[str] = []
    kind = node.get("type")
    if kind is not None:
        ok = isinstance(value, _PY_TYPES[kind]) and not (
            kind in ("integer", "number") and isinstance(value, bool)
        )
        if not ok:
            return [f"{path}: {value!r} is not {kind}"]
    if "enum" in node and value not in node["enum"]:
        problems.append(f"{path}: {value!r} not in {node['enum']}")
    if "minimum" in node and value < node["minimum"]:
        problems.append(f"{path}: {value!r} < {node['minimum']}")
    if "maximum" in node and value > node["maximum"]:
        problems.append(f"{path}: {value!r} > {node['maximum']}")
    if isinstance(value, dict) and "properties" in node:
        for key, child in value.items():
            if key in node["properties"]:
                problems += violations(child, node["properties"][key], f"{path}.{key}")
            elif not node.get("x-kubernetes-preserve-unknown-fields"):
                problems.append(f"{path}.{key}: unknown field would be pruned")
    if isinstance(value, list) and "items" in node:
        for i, item in enumerate(value):
            problems += violations(item, node["items"], f"{path}[{i}]")
    return problems


@pytest.fixture(params=["subnet.yaml", "ip.yaml"])
def crd(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Each CRD ovnctl ships."""
    return load(request.param)


def test_crd_identity(crd):
    """Both are apiextensions v1 CRDs of kubeovn.io/v1, cluster-scoped, served and stored."""
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["kind"] == "CustomResourceDefinition"
    assert crd["spec"]["group"] == "kubeovn.io"
    assert crd["spec"]["scope"] == "Cluster"
    assert crd["metadata"]["name"] == f"{crd['spec']['names']['plural']}.kubeovn.io"
    v1 = version(crd)
    assert (v1["name"], v1["served"], v1["storage"]) == ("v1", True, True)


def test_subnet_names_and_status_subresource():
    """Subnet: plural subnets, short name subnet, with a status subresource."""
    crd = load("subnet.yaml")
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["singular"]) == ("Subnet", "subnets", "subnet")
    assert names["shortNames"] == ["subnet"]
    assert version(crd)["subresources"] == {"status": {}}


def test_ip_names_and_no_status():
    """IP: plural ips, short name ip, no status subresource."""
    crd = load("ip.yaml")
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["singular"]) == ("IP", "ips", "ip")
    assert names["shortNames"] == ["ip"]
    assert "subresources" not in version(crd)


def test_schema_is_structural(crd):
    """Every schema node has a type or preserves unknown fields; arrays have items."""
    schema = version(crd)["schema"]["openAPIV3Schema"]
    for path, node in schema_nodes(schema):
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), path
        if node.get("type") == "array":
            assert "items" in node, path
        # Structural schemas forbid these at any level.
        assert "additionalProperties" not in node or "properties" not in node, path


def test_spec_keeps_unknown_fields(crd):
    """spec preserves fields ovnctl does not know, so newer Kube-OVN YAML is not pruned."""
    spec = version(crd)["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["x-kubernetes-preserve-unknown-fields"] is True


def test_printer_columns_point_at_schema_fields(crd):
    """Every printer column's JSONPath names a typed field of the schema."""
    v1 = version(crd)
    schema = v1["schema"]["openAPIV3Schema"]
    for column in v1["additionalPrinterColumns"]:
        node = resolve(schema, column["jsonPath"])
        assert "type" in node, column


def test_subnet_printer_columns_match_kube_ovn():
    """kubectl get subnets shows Kube-OVN's columns, in Kube-OVN's order."""
    columns = [c["name"] for c in version(load("subnet.yaml"))["additionalPrinterColumns"]]
    assert columns == [
        "Provider",
        "Vpc",
        "Protocol",
        "CIDR",
        "Private",
        "NAT",
        "Default",
        "GatewayType",
        "V4Used",
        "V4Available",
        "V6Used",
        "V6Available",
        "ExcludeIPs",
    ]


def test_ip_printer_columns_match_kube_ovn():
    """kubectl get ips shows V4IP, V6IP, Mac, Node, Subnet."""
    columns = [c["name"] for c in version(load("ip.yaml"))["additionalPrinterColumns"]]
    assert columns == ["V4IP", "V6IP", "Mac", "Node", "Subnet"]


def test_sample_subnets_accepted():
    """Every sample Subnet passes the schema without a field being pruned."""
    schema = version(load("subnet.yaml"))["schema"]["openAPIV3Schema"]
    for body in load_examples("subnets.yaml", kind="Subnet"):
        assert violations(body, schema) == [], body["metadata"]["name"]


def test_subnet_status_ovnctl_writes_accepted():
    """A status as ovnctl writes it (counts, ranges, conditions) passes the schema."""
    schema = version(load("subnet.yaml"))["schema"]["openAPIV3Schema"]
    status = {
        "v4availableIPs": 244,
        "v4usingIPs": 0,
        "v6availableIPs": 0,
        "v6usingIPs": 0,
        "v4availableIPrange": "10.16.0.11-10.16.0.254",
        "v4usingIPrange": "",
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "reason": "NadNotFound",
                "message": "provider 'a.b': NetworkAttachmentDefinition b/a not found",
                "lastUpdateTime": "2024-01-01T00:00:00Z",
                "lastTransitionTime": "2024-01-01T00:00:00Z",
                "observedGeneration": 3,
            }
        ],
    }
    assert violations({"status": status}, schema) == []


def test_subnet_schema_rejects_wrong_types():
    """The schema types ovnctl's fields: a string default or unknown protocol is refused."""
    schema = version(load("subnet.yaml"))["schema"]["openAPIV3Schema"]
    assert violations({"spec": {"default": "true"}}, schema)
    assert violations({"spec": {"protocol": "ipv4"}}, schema)
    assert violations({"spec": {"excludeIps": "10.0.0.1"}}, schema)


def test_built_ip_object_accepted():
    """The IP object ovnctl builds passes the schema without a field being pruned."""
    schema = version(load("ip.yaml"))["schema"]["openAPIV3Schema"]
    body = build_ip_object(
        name="vm1.default.attachnet.default.ovn",
        pod_name="vm1",
        namespace="default",
        subnet="attachnet-subnet",
        ips=["172.17.0.11"],
        mac="00:00:00:ab:cd:ef",
        node_name="n1",
        pod_type="VirtualMachine",
    )
    assert violations(body, schema) == []
