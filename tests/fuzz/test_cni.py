"""Fuzzed CNI plugin input (stdin config and CNI_* environment), and the daemon's request line.

Pass condition: the plugin always prints one well-formed CNI error object (never
its ``internal error`` fallback, which means an exception escaped the checks),
and a configuration or environment error names the field or variable. The
daemon is replaced by a stub answering with a fixed wiring, so every input that
passes validation also goes through result rendering.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from ovnctl.cni import errors, plugin
from ovnctl.cni.errors import CniError
from ovnctl.cni.protocol import decode_request
from tests.cni.conftest import WIRING
from tests.fuzz.strategies import ADDRESSY, FUZZ, JSON, json_text, shaped

CONF_KEYS = [
    "cniVersion", "name", "type", "provider", "mtu", "routes", "default_route", "dns",
    "daemon_timeout", "server_socket", "ipam", "prevResult",
]  # fmt: skip
ENV_KEYS = ["CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"]
FIELD_NAMES = (*CONF_KEYS, *ENV_KEYS, "network configuration", "K8S_POD_")
"""An error about the input names one of these (a config key, a variable, or the config itself)."""

VALID_CONF = {"cniVersion": "1.0.0", "name": "ovn", "type": "ovnctl"}
VALID_ENV = {
    "CNI_COMMAND": "ADD",
    "CNI_CONTAINERID": "c1",
    "CNI_NETNS": "/var/run/netns/x",
    "CNI_IFNAME": "eth0",
    "CNI_ARGS": "K8S_POD_NAMESPACE=default;K8S_POD_NAME=p",
}

CONFS = st.one_of(
    st.builds(lambda extra: {**VALID_CONF, **extra}, shaped(CONF_KEYS)),
    st.builds(lambda extra: {**VALID_CONF, **extra}, shaped(CONF_KEYS)),
    shaped(CONF_KEYS),
    JSON,
)
STDIN = st.one_of(
    json_text(CONFS).map(str.encode),
    st.binary(max_size=80),
    CONFS.map(lambda c: json.dumps(c, allow_nan=True).encode("utf-16")),
)
ENV_VALUES = st.one_of(
    st.sampled_from(["ADD", "DEL", "CHECK", "VERSION", "eth0", "/var/run/netns/x", ""]),
    st.just("K8S_POD_NAMESPACE=default;K8S_POD_NAME=p"),
    st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
        max_size=30,
    ),
    ADDRESSY,
)
ENVIRON = st.builds(
    lambda base, extra: {**base, **extra},
    st.sampled_from([{}, VALID_ENV, VALID_ENV, VALID_ENV]),  # mostly one variable off
    st.dictionaries(st.sampled_from(ENV_KEYS), ENV_VALUES, max_size=2),
)


@pytest.fixture(autouse=True)
def _stub_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    def call(*, socket_path: str, request: Any, timeout: float) -> dict[str, Any] | None:
        return dict(WIRING) if request.command == "ADD" else None

    monkeypatch.setattr(plugin, "call", call)


@FUZZ
@given(stdin=STDIN, environ=ENVIRON)
def test_plugin_input(stdin: bytes, environ: dict[str, str]) -> None:
    """Any stdin and environment: one JSON object (none for DEL/CHECK), never an internal error."""
    out = io.StringIO()
    status = plugin.main(environ=environ, stdin=io.BytesIO(stdin), stdout=out)
    if status == 0 and not out.getvalue():
        event("exit 0, no output (DEL, CHECK)")
        return
    body = json.loads(out.getvalue())
    assert isinstance(body, dict)
    event(f"exit {status}, code {body.get('code', '-')}")  # shown by --hypothesis-show-statistics
    if status == 0:
        return
    assert "internal error" not in body["msg"], body
    if body["code"] in (errors.INVALID_ENV, errors.INVALID_CONFIG, errors.DECODE_FAILURE):
        assert any(name in body["msg"] for name in FIELD_NAMES), body


REQUESTS = st.one_of(
    json_text(
        shaped(
            ["command", "container_id", "netns", "ifname", "pod_namespace", "pod_name",
             "provider", "mtu", "default_route", "routes"]
        )
    ).map(str.encode),
    st.binary(max_size=60),
)  # fmt: skip


@FUZZ
@given(line=REQUESTS)
def test_daemon_request_line(line: bytes) -> None:
    """The node daemon's side of the socket: only CniError, naming the request field."""
    try:
        decode_request(line)
    except CniError as exc:
        _names_the_request_field(exc)


def _names_the_request_field(exc: CniError) -> None:
    assert exc.code == errors.INVALID_CONFIG
    assert "daemon request" in exc.msg
