"""JSON Schemas of the CNI 1.0.0 result, the 0.4.0 result and the error object.

Written from the CNI spec ("Success" and "Error" sections of SPEC.md for
1.0.0, and the 0.4.0 result with ``ips[].version``), so tests can check the
plugin's stdout the way a runtime parses it.
"""

from __future__ import annotations

from typing import Any

_INTERFACE = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "mac": {"type": "string", "pattern": "^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$"},
        "sandbox": {"type": "string"},
    },
}

_ROUTE = {
    "type": "object",
    "required": ["dst"],
    "properties": {"dst": {"type": "string"}, "gw": {"type": "string"}},
    "additionalProperties": False,
}

_DNS = {
    "type": "object",
    "properties": {
        "nameservers": {"type": "array", "items": {"type": "string"}},
        "domain": {"type": "string"},
        "search": {"type": "array", "items": {"type": "string"}},
        "options": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,
}

_CIDR = r"^[0-9a-fA-F:.]+/[0-9]{1,3}$"


def _ip(*, legacy: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "address": {"type": "string", "pattern": _CIDR},
        "gateway": {"type": "string"},
        "interface": {"type": "integer", "minimum": 0},
    }
    if legacy:
        properties["version"] = {"enum": ["4", "6"]}
    return {
        "type": "object",
        "required": ["address", "version"] if legacy else ["address"],
        "properties": properties,
        "additionalProperties": False,
    }


def result_schema(version: str = "1.0.0") -> dict[str, Any]:
    """The ADD result of ``version`` (1.0.0 or 0.4.0)."""
    legacy = version != "1.0.0"
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["cniVersion"],
        "properties": {
            "cniVersion": {"const": version},
            "interfaces": {"type": "array", "items": _INTERFACE},
            "ips": {"type": "array", "items": _ip(legacy=legacy)},
            "routes": {"type": "array", "items": _ROUTE},
            "dns": _DNS,
        },
        "additionalProperties": False,
    }


ERROR_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["cniVersion", "code", "msg"],
    "properties": {
        "cniVersion": {"type": "string"},
        "code": {"type": "integer", "minimum": 1},
        "msg": {"type": "string", "minLength": 1},
        "details": {"type": "string"},
    },
    "additionalProperties": False,
}

VERSION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["cniVersion", "supportedVersions"],
    "properties": {
        "cniVersion": {"type": "string"},
        "supportedVersions": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
    "additionalProperties": False,
}
