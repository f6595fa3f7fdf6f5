"""The plugin's input: CNI_* variables and the network configuration, with the spec's codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from ovnctl.cni import errors
from ovnctl.cni.plugin import _socket_path
from ovnctl.cni.protocol import DEFAULT_SOCKET
from tests.cni.conftest import FakeDaemon, run_plugin
from tests.cni.schema import ERROR_SCHEMA, VERSION_SCHEMA


def _env(command: str = "ADD", **overrides: str) -> dict[str, str]:
    env = {
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": "0123abcd",
        "CNI_NETNS": "/var/run/netns/x",
        "CNI_IFNAME": "eth0",
        "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1",
        "CNI_PATH": "/opt/cni/bin",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v != "<unset>"}


def _conf(daemon: FakeDaemon | None = None, **extra: Any) -> dict[str, Any]:
    conf: dict[str, Any] = {"cniVersion": "1.0.0", "name": "ovnctl", "type": "kube-ovn"}
    conf["server_socket"] = str(daemon.path) if daemon else "/nonexistent/ovnctl.sock"
    conf.update(extra)
    return {k: v for k, v in conf.items() if v != "<unset>"}


def _error(status: int, out: dict[str, Any] | None, code: int) -> str:
    assert status == 1
    assert out is not None
    jsonschema.validate(out, ERROR_SCHEMA)
    assert out["code"] == code, out
    return str(out["msg"])


@pytest.mark.parametrize(
    ("env", "code", "named"),
    [
        (_env(CNI_COMMAND="<unset>"), errors.INVALID_ENV, "CNI_COMMAND"),
        (_env(CNI_COMMAND="STATUS"), errors.INVALID_ENV, "'STATUS'"),
        (_env(CNI_CONTAINERID="<unset>"), errors.INVALID_ENV, "CNI_CONTAINERID"),
        (_env(CNI_IFNAME="a-very-long-ifname0"), errors.INVALID_ENV, "a-very-long-ifname0"),
        (_env(CNI_IFNAME="eth/0"), errors.INVALID_ENV, "eth/0"),
        (_env(CNI_NETNS="<unset>"), errors.INVALID_ENV, "CNI_NETNS"),
        (_env(CNI_ARGS="IgnoreUnknown=1"), errors.INVALID_ENV, "K8S_POD_NAME"),
        (_env(CNI_ARGS="garbage"), errors.INVALID_ENV, "garbage"),
    ],
)
def test_bad_environment_is_code_4(env: dict[str, str], code: int, named: str) -> None:
    """Missing or malformed CNI_* variables: code 4, the message names the variable or value."""
    status, out, _ = run_plugin(env, _conf())
    assert named in _error(status, out, code)


@pytest.mark.parametrize(
    ("raw", "named"),
    [(b"", "no network configuration"), (b"{not json", "not valid JSON"), (b"[1]", "list")],
)
def test_undecodable_config_is_code_6(raw: bytes, named: str) -> None:
    """Stdin that is not a JSON object: code 6."""
    status, out, _ = run_plugin(_env(), raw)
    assert named in _error(status, out, errors.DECODE_FAILURE)


@pytest.mark.parametrize(
    ("extra", "code", "named"),
    [
        ({"cniVersion": "2.0.0"}, errors.INCOMPATIBLE_VERSION, "'2.0.0'"),
        ({"cniVersion": "<unset>"}, errors.INVALID_CONFIG, "cniVersion"),
        ({"type": "bridge"}, errors.INVALID_CONFIG, "'bridge'"),
        ({"mtu": "1400"}, errors.INVALID_CONFIG, "mtu is '1400'"),
        ({"mtu": 20}, errors.INVALID_CONFIG, "mtu is 20"),
        ({"default_route": "yes"}, errors.INVALID_CONFIG, "default_route is 'yes'"),
        ({"routes": [{"gw": "10.0.0.1"}]}, errors.INVALID_CONFIG, "routes entry"),
        ({"provider": 5}, errors.INVALID_CONFIG, "provider is 5"),
        ({"dns": ["8.8.8.8"]}, errors.INVALID_CONFIG, "dns is"),
        ({"server_socket": 1}, errors.INVALID_CONFIG, "server_socket is 1"),
    ],
)
def test_malformed_config_names_the_key(
    fake_daemon: FakeDaemon, extra: dict[str, Any], code: int, named: str
) -> None:
    """A config key with a wrong value: code 7 (or 1 for the version), naming key and value."""
    status, out, _ = run_plugin(_env(), _conf(fake_daemon, **extra))
    assert named in _error(status, out, code)
    assert fake_daemon.requests == []


def test_check_needs_cni_0_4(fake_daemon: FakeDaemon) -> None:
    """CHECK with a 0.3.1 config is code 1: CHECK does not exist before 0.4.0."""
    status, out, _ = run_plugin(_env("CHECK"), _conf(fake_daemon, cniVersion="0.3.1"))
    assert "0.3.1" in _error(status, out, errors.INCOMPATIBLE_VERSION)


def test_unreachable_daemon_is_try_again_later() -> None:
    """No daemon on the socket: code 11 naming the socket path."""
    status, out, _ = run_plugin(_env(), _conf(server_socket=DEFAULT_SOCKET + ".missing"))
    msg = _error(status, out, errors.TRY_AGAIN_LATER)
    assert DEFAULT_SOCKET in msg


def test_daemon_errors_pass_through(fake_daemon: FakeDaemon) -> None:
    """The daemon's code, message and details reach the runtime unchanged."""
    fake_daemon.reply = {"ok": False, "code": 102, "msg": "interface 'eth0' exists", "details": "d"}
    status, out, _ = run_plugin(_env(), _conf(fake_daemon))
    assert _error(status, out, 102) == "interface 'eth0' exists"
    assert out is not None
    assert out["details"] == "d"


@pytest.mark.parametrize(
    ("extra", "provider"),
    [
        ({}, "ovn"),
        ({"name": "kube-ovn"}, "ovn"),
        ({"provider": "attachnet.default.ovn", "name": "whatever"}, "attachnet.default.ovn"),
        ({"name": "x", "ipam": {"type": "kube-ovn", "provider": "n.ns.ovn"}}, "n.ns.ovn"),
        ({"name": "attachnet"}, "attachnet.default.ovn"),
    ],
)
def test_provider_resolution(fake_daemon: FakeDaemon, extra: dict[str, Any], provider: str) -> None:
    """Explicit provider, ipam.provider, the primary names, else <name>.<pod ns>.ovn."""
    status, _, _ = run_plugin(_env(), _conf(fake_daemon, **extra))
    assert status == 0
    assert fake_daemon.requests[0]["provider"] == provider


def test_request_carries_what_the_daemon_needs(fake_daemon: FakeDaemon) -> None:
    """The forwarded request names the container, namespace, interface, pod and options."""
    conf = _conf(fake_daemon, mtu=1400, default_route=False, routes=[{"dst": "10.96.0.0/12"}])
    assert run_plugin(_env(), conf)[0] == 0
    assert fake_daemon.requests == [
        {
            "command": "ADD",
            "container_id": "0123abcd",
            "default_route": False,
            "ifname": "eth0",
            "mtu": 1400,
            "netns": "/var/run/netns/x",
            "pod_name": "web-1",
            "pod_namespace": "default",
            "provider": "ovn",
            "routes": [{"dst": "10.96.0.0/12"}],
        }
    ]


def test_del_needs_neither_netns_nor_pod(fake_daemon: FakeDaemon) -> None:
    """DEL with no CNI_NETNS and no pod args still reaches the daemon and prints nothing."""
    env = _env("DEL", CNI_NETNS="<unset>", CNI_ARGS="<unset>")
    status, out, text = run_plugin(env, _conf(fake_daemon))
    assert (status, out, text) == (0, None, "")
    assert fake_daemon.requests[0]["command"] == "DEL"


def test_version_needs_no_daemon() -> None:
    """VERSION answers from the plugin alone, echoing a supported requested version."""
    status, out, _ = run_plugin(_env("VERSION"), {"cniVersion": "0.4.0"})
    assert status == 0
    assert out is not None
    jsonschema.validate(out, VERSION_SCHEMA)
    assert out["cniVersion"] == "0.4.0"
    assert "1.0.0" in out["supportedVersions"]


def test_kube_ovn_socket_path_falls_back_to_ovnctls(tmp_path: Path) -> None:
    """A NAD written for Kube-OVN names its daemon's socket; ovnctl's default is used then."""
    assert _socket_path({"server_socket": "/run/openvswitch/kube-ovn-daemon.sock"}) == (
        DEFAULT_SOCKET
    )
    existing = tmp_path / "sock"
    existing.touch()
    assert _socket_path({"server_socket": str(existing)}) == str(existing)
