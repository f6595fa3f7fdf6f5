"""CNI result and error objects, per ``cniVersion``.

Where it sits: the agent answers an ADD with a neutral *wiring* (see
:mod:`ovnctl.cni.protocol`); this module renders it as the result the runtime
asked for. 1.0.0 and 0.4.0/0.3.x differ only in ``ips[].version`` (present
before 1.0, dropped in 1.0), so one function serves all of them.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SUPPORTED_VERSIONS", "error_object", "render_result", "version_info"]

SUPPORTED_VERSIONS = ("0.3.0", "0.3.1", "0.4.0", "1.0.0")
"""What the plugin speaks; CHECK exists only from 0.4.0 on."""

_DNS_KEYS = ("nameservers", "domain", "search", "options")


def render_result(
    *, cni_version: str, wiring: dict[str, Any], dns: dict[str, Any] | None
) -> dict[str, Any]:
    """The ADD result: the host and container interfaces, addresses, routes and DNS.

    The host end of the veth is listed first (no ``sandbox``), the container
    end second; every address points at the container end (index 1), which
    is where the spec's consumers (Multus' network-status, runtimes) look.
    """
    host = wiring.get("host") or {}
    container = wiring.get("container") or {}
    interfaces = [
        {"name": host.get("name", ""), "mac": host.get("mac", "")},
        {
            "name": container.get("name", ""),
            "mac": container.get("mac", ""),
            "sandbox": container.get("sandbox", ""),
        },
    ]
    legacy = cni_version != "1.0.0"
    ips = []
    for entry in wiring.get("ips") or []:
        ip: dict[str, Any] = {"address": entry["address"], "interface": 1}
        if entry.get("gateway"):
            ip["gateway"] = entry["gateway"]
        if legacy:
            ip = {"version": "6" if ":" in entry["address"] else "4", **ip}
        ips.append(ip)
    routes = [
        {k: v for k, v in route.items() if k in ("dst", "gw") and v}
        for route in wiring.get("routes") or []
    ]
    return {
        "cniVersion": cni_version,
        "interfaces": interfaces,
        "ips": ips,
        "routes": routes,
        "dns": {k: dns[k] for k in _DNS_KEYS if dns and dns.get(k)},
    }


def error_object(*, cni_version: str, code: int, msg: str, details: str = "") -> dict[str, Any]:
    """The spec's error object (printed on stdout with exit status 1)."""
    body: dict[str, Any] = {"cniVersion": cni_version, "code": code, "msg": msg}
    if details:
        body["details"] = details
    return body


def version_info(*, cni_version: str) -> dict[str, Any]:
    """The VERSION answer."""
    return {"cniVersion": cni_version, "supportedVersions": list(SUPPORTED_VERSIONS)}
