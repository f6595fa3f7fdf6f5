"""The wire protocol between the CNI plugin and the node agent: one JSON line each way.

Where it sits: the plugin (:mod:`ovnctl.cni.plugin`) connects to the agent's
unix socket, writes one :class:`Request` as a JSON line, reads one reply line
and closes. The agent (:mod:`ovnctl.node.server`) decodes with
:func:`decode_request` and answers with :func:`encode_ok` or
:func:`encode_error`. One request per connection keeps both ends trivial and
makes a dying agent visible as a closed socket instead of a hung stream.

The reply of a successful ADD is the neutral *wiring* the agent set up
(interface names and MACs, addresses in CIDR form with their gateways,
routes); :mod:`ovnctl.cni.result` turns it into the CNI result of whichever
``cniVersion`` the runtime asked for. Kept free of dataclasses and of
anything beyond ``json`` and ``socket`` because the plugin imports it on every
pod creation.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from ovnctl.cni.errors import INVALID_CONFIG, TRY_AGAIN_LATER, CniError

__all__ = [
    "COMMANDS",
    "DEFAULT_SOCKET",
    "Request",
    "call",
    "decode_request",
    "encode_error",
    "encode_ok",
]

DEFAULT_SOCKET = "/run/ovnctl/daemon.sock"
"""Where the agent listens unless the CNI config's ``server_socket`` says otherwise."""

COMMANDS = ("ADD", "DEL", "CHECK")

_MAX_LINE = 1 << 20


class Request:
    """One CNI operation as the plugin forwards it to the agent."""

    __slots__ = (
        "command",
        "container_id",
        "default_route",
        "ifname",
        "mtu",
        "netns",
        "pod_name",
        "pod_namespace",
        "provider",
        "routes",
    )

    def __init__(
        self,
        *,
        command: str,
        container_id: str,
        netns: str,
        ifname: str,
        pod_namespace: str,
        pod_name: str,
        provider: str,
        mtu: int | None = None,
        default_route: bool | None = None,
        routes: list[dict[str, str]] | None = None,
    ) -> None:
        self.command = command
        self.container_id = container_id
        self.netns = netns
        self.ifname = ifname
        self.pod_namespace = pod_namespace
        self.pod_name = pod_name
        self.provider = provider
        self.mtu = mtu
        self.default_route = default_route
        self.routes = routes or []

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def encode(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode() + b"\n"

    def __repr__(self) -> str:
        return f"Request({self.command} {self.pod_namespace}/{self.pod_name} {self.ifname})"


def decode_request(line: bytes) -> Request:
    """Parse one request line; :class:`CniError` (code 7) naming the bad field otherwise."""
    try:
        raw = json.loads(line)
    except ValueError as exc:
        raise CniError(INVALID_CONFIG, f"daemon request is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise CniError(INVALID_CONFIG, "daemon request is not a JSON object")
    command = raw.get("command")
    if command not in COMMANDS:
        raise CniError(INVALID_CONFIG, f"daemon request: unknown command {command!r}")
    strings: dict[str, str] = {}
    # DEL must work with the sandbox gone: CNI_NETNS may be empty then.
    required = ["container_id", "ifname"]
    if command != "DEL":
        required.append("netns")
    if command == "ADD":
        required += ["pod_namespace", "pod_name", "provider"]
    for key in ("container_id", "netns", "ifname", "pod_namespace", "pod_name", "provider"):
        value = raw.get(key, "")
        if not isinstance(value, str) or (key in required and not value):
            raise CniError(INVALID_CONFIG, f"daemon request: {key} is {value!r}")
        strings[key] = value
    mtu = raw.get("mtu")
    if mtu is not None and (not isinstance(mtu, int) or isinstance(mtu, bool)):
        raise CniError(INVALID_CONFIG, f"daemon request: mtu is {mtu!r}")
    default_route = raw.get("default_route")
    if default_route is not None and not isinstance(default_route, bool):
        raise CniError(INVALID_CONFIG, f"daemon request: default_route is {default_route!r}")
    routes = raw.get("routes") or []
    if not isinstance(routes, list) or not all(
        isinstance(r, dict) and isinstance(r.get("dst"), str) for r in routes
    ):
        raise CniError(INVALID_CONFIG, f"daemon request: routes is {routes!r}")
    return Request(
        command=command,
        mtu=mtu,
        default_route=default_route,
        routes=[{k: str(v) for k, v in r.items() if k in ("dst", "gw")} for r in routes],
        **strings,
    )


def encode_ok(wiring: dict[str, Any] | None = None) -> bytes:
    """The reply line of a successful request (``wiring`` for ADD, nothing else otherwise)."""
    return json.dumps({"ok": True, "wiring": wiring}, separators=(",", ":")).encode() + b"\n"


def encode_error(error: CniError) -> bytes:
    """The reply line of a failed request, carrying the CNI code and message."""
    body = {"ok": False, "code": error.code, "msg": error.msg, "details": error.details}
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def call(*, socket_path: str, request: Request, timeout: float) -> dict[str, Any] | None:
    """Send ``request`` to the agent; the wiring on success, :class:`CniError` on failure.

    An agent that is not listening (no socket, refused, reset, timed out) is
    code 11, "try again later": on a node that is starting, the DaemonSet
    brings the agent up shortly and the runtime retries the sandbox.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(socket_path)
        except OSError as exc:
            raise CniError(
                TRY_AGAIN_LATER,
                f"cannot reach the ovnctl node daemon at {socket_path}: {exc.strerror or exc}",
                "is the ovnctl DaemonSet running on this node?",
            ) from None
        try:
            sock.sendall(request.encode())
            chunks = []
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                if chunk.endswith(b"\n") or sum(map(len, chunks)) > _MAX_LINE:
                    break
        except OSError as exc:
            raise CniError(
                TRY_AGAIN_LATER,
                f"ovnctl node daemon at {socket_path} failed to answer {request.command}: "
                f"{exc.strerror or exc}",
            ) from None
    finally:
        sock.close()
    data = b"".join(chunks)
    try:
        reply = json.loads(data)
    except ValueError:
        raise CniError(
            TRY_AGAIN_LATER,
            f"ovnctl node daemon at {socket_path} closed the connection without a reply "
            f"to {request.command}",
        ) from None
    if not isinstance(reply, dict):
        raise CniError(TRY_AGAIN_LATER, f"ovnctl node daemon sent a malformed reply: {reply!r}")
    if reply.get("ok"):
        wiring = reply.get("wiring")
        return wiring if isinstance(wiring, dict) else None
    raise CniError(
        int(reply.get("code") or 100), str(reply.get("msg") or ""), str(reply.get("details") or "")
    )
