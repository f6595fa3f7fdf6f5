"""Helpers for tests with real network namespaces: create, inspect, ping, clean up.

Every namespace, bridge and veth a test makes has a unique name and is
removed at teardown even when the test fails, so tests can run in any order
and leave the machine as they found it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from typing import Any

import pytest

# One ping for the demo and the tests (IPv4 and IPv6; iputils' ping, or a stdlib echo).
from ovnctl.demo.traffic import ping as ping


def require_netns() -> None:
    """Skip unless we are root and ``ip netns`` works here."""
    if os.geteuid() != 0:
        pytest.skip("needs root: the tests create network namespaces and interfaces")
    if shutil.which("ip") is None:
        pytest.skip("needs iproute2's `ip` command")
    probe = f"ovt-probe-{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"network namespaces are not supported here: {made.stderr.strip()}")
    subprocess.run(["ip", "netns", "del", probe], check=False)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def ip(
    *args: str, netns: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    cmd = ["ip", *(["-n", netns] if netns else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def ip_json(*args: str, netns: str | None = None) -> Any:
    out = ip("-j", *args, netns=netns).stdout
    return json.loads(out) if out.strip() else []


def link_exists(name: str, *, netns: str | None = None) -> bool:
    return ip("link", "show", "dev", name, netns=netns, check=False).returncode == 0


def addresses(netns: str, ifname: str) -> set[str]:
    found: set[str] = set()
    for link in ip_json("addr", "show", "dev", ifname, netns=netns):
        for info in link.get("addr_info", []):
            if info.get("scope") != "link":
                found.add(f"{info['local']}/{info['prefixlen']}")
    return found


def mac(netns: str, ifname: str) -> str:
    return str(ip_json("link", "show", "dev", ifname, netns=netns)[0]["address"])


def routes(netns: str, *, v6: bool = False) -> set[tuple[str, str | None]]:
    family = ["-6"] if v6 else ["-4"]
    return {
        (r["dst"], r.get("gateway"))
        for r in ip_json(*family, "route", "show", "table", "main", netns=netns)
    }


def remove_link(name: str) -> None:
    ip("link", "del", "dev", name, check=False)
