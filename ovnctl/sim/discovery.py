"""Discovery documents: ``/api``, ``/apis``, ``/apis/<group>[/<version>]``, ``/version``.

kubectl, Kopf and the Python client find resources (plural, kind, scope,
short names, verbs, subresources) through these documents before they touch
any object, so they are derived from the live :class:`~ovnctl.sim.resources.Registry`
and change as CRDs come and go. Only the legacy (v1) discovery format is
served; newer kubectl asks for aggregated discovery first and falls back to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ovnctl.sim.resources import ResourceInfo

__all__ = [
    "SERVER_VERSION",
    "api_group",
    "api_group_list",
    "api_resource_list",
    "api_versions",
    "version_priority",
]

SERVER_VERSION: dict[str, str] = {
    "major": "1",
    "minor": "30",
    "gitVersion": "v1.30.0+ovnctl-sim",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-01-01T00:00:00Z",
    "goVersion": "go1.22.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}

_VERSION_RE = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_priority(version: str) -> tuple[int, int, int, str]:
    """Sort key for Kubernetes-aware version ordering: v2 > v1 > v1beta2 > v1alpha1 > other."""
    match = _VERSION_RE.match(version)
    if not match:
        return (3, 0, 0, version)
    stability = {None: 0, "beta": 1, "alpha": 2}[match[2]]
    return (stability, -int(match[1]), -int(match[3] or 0), version)


def _group_versions(infos: Iterable[ResourceInfo]) -> dict[str, list[str]]:
    groups: dict[str, set[str]] = {}
    for info in infos:
        if info.group:
            groups.setdefault(info.group, set()).add(info.version)
    return {g: sorted(v, key=version_priority) for g, v in sorted(groups.items())}


def _group_doc(group: str, versions: list[str]) -> dict[str, Any]:
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": entries, "preferredVersion": entries[0]}


def api_versions(*, server_address: str) -> dict[str, Any]:
    """``/api``."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def api_group_list(infos: Iterable[ResourceInfo]) -> dict[str, Any]:
    """``/apis``."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_doc(g, v) for g, v in _group_versions(infos).items()],
    }


def api_group(infos: Iterable[ResourceInfo], group: str) -> dict[str, Any] | None:
    """``/apis/<group>``, or ``None`` if no such group is served."""
    versions = _group_versions(infos).get(group)
    if not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(group, versions)}


def api_resource_list(
    infos: Iterable[ResourceInfo], group: str, version: str
) -> dict[str, Any] | None:
    """``/api/v1`` or ``/apis/<group>/<version>``, or ``None`` if not served."""
    resources: list[dict[str, Any]] = []
    for info in sorted(infos, key=lambda i: i.plural):
        if info.group != group or info.version != version:
            continue
        resources.append(
            {
                "name": info.plural,
                "singularName": info.singular,
                "namespaced": info.namespaced,
                "kind": info.kind,
                "verbs": list(info.verbs),
                **({"shortNames": list(info.short_names)} if info.short_names else {}),
                **({"categories": list(info.categories)} if info.categories else {}),
            }
        )
        if info.status_subresource:
            resources.append(
                {
                    "name": f"{info.plural}/status",
                    "singularName": "",
                    "namespaced": info.namespaced,
                    "kind": info.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
    if not resources and group:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


# --- /openapi/v2 ------------------------------------------------------------------------------
# kubectl (1.20 and current) refuses to apply or create without an OpenAPI
# document ("failed to download openapi"), and it asks for /openapi/v2 as
# gnostic protobuf. An empty document (no definitions) is enough: kubectl then
# finds no schema for any kind, skips client-side validation and falls back to
# its compiled-in types for strategic merge patches, which is what it does for
# CRDs without published schemas on a real cluster.
OPENAPI_V2_PROTOBUF = "application/octet-stream"  # what upstream labels the protobuf body


def _pb_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _pb_field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (strings and nested messages)."""
    return _pb_varint(number << 3 | 2) + _pb_varint(len(payload)) + payload


def openapi_v2_protobuf() -> bytes:
    """An empty OpenAPI v2 document in gnostic's protobuf encoding.

    Fields (gnostic ``openapi_v2.Document``): swagger=1, info=2 (title=1,
    version=2), paths=8, definitions=9.
    """
    info = _pb_field(1, b"ovnctl-sim") + _pb_field(2, SERVER_VERSION["gitVersion"].encode())
    return _pb_field(1, b"2.0") + _pb_field(2, info) + _pb_field(8, b"") + _pb_field(9, b"")


def openapi_v2_json() -> dict[str, Any]:
    return {
        "swagger": "2.0",
        "info": {"title": "ovnctl-sim", "version": SERVER_VERSION["gitVersion"]},
        "paths": {},
        "definitions": {},
    }
