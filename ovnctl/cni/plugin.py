"""The CNI plugin's entry point: CNI contract in, one daemon request, CNI result out.

Where it sits: the runtime (or Multus) execs ``ovnctl cni`` / ``python -m
ovnctl.cni`` with the network configuration on stdin and the ``CNI_*``
variables in the environment. :func:`main` validates both, works out the
provider (which of the pod's allocations this interface carries), asks the
node agent through :func:`ovnctl.cni.protocol.call`, and prints exactly one
JSON document on stdout: the result (ADD), nothing (DEL, CHECK), the version
info (VERSION) or the spec's error object with exit status 1. Nothing else
may reach stdout, so this module never logs there and imports only what it
needs (it runs once per network per pod creation).

Provider, in order: the config's ``"provider"`` key (or ``ipam.provider``);
``"ovn"`` when the config's ``name`` is one of the primary network's names
(:data:`PRIMARY_NAMES`); otherwise ``<name>.<pod namespace>.ovn``, which is
right only when the CNI ``name`` equals the NAD's name and the NAD lives in
the pod's namespace (Multus does not pass the NAD's name to the plugin), so
NADs should carry an explicit ``"provider"``, as Kube-OVN's docs also ask.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import IO, Any

from ovnctl.cni import errors
from ovnctl.cni.errors import CniError
from ovnctl.cni.protocol import DEFAULT_SOCKET, Request, call
from ovnctl.cni.result import SUPPORTED_VERSIONS, error_object, render_result, version_info

__all__ = ["DEFAULT_TIMEOUT", "PLUGIN_TYPES", "PRIMARY_NAMES", "main", "run"]

PLUGIN_TYPES = ("kube-ovn", "ovnctl")
"""Config ``type`` values this plugin serves (kube-ovn: NADs written for Kube-OVN work)."""

PRIMARY_NAMES = ("ovnctl", "kube-ovn")
"""CNI network names that mean the primary network when no provider is given."""

DEFAULT_TIMEOUT = 60.0
"""Seconds to wait for the daemon; above its default allocation bound (30 s)."""

_LATEST = "1.0.0"


def main(
    *,
    environ: Mapping[str, str] | None = None,
    stdin: IO[bytes] | None = None,
    stdout: IO[str] | None = None,
) -> int:
    """Run one CNI command; print its JSON on ``stdout``; return the exit status."""
    environ = os.environ if environ is None else environ
    stdin = sys.stdin.buffer if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    version = _LATEST
    try:
        raw = _read_stdin(stdin)
        command = environ.get("CNI_COMMAND", "")
        version = _requested_version(raw)
        if command == "VERSION":
            _emit(stdout, version_info(cni_version=version))
            return 0
        if command not in ("ADD", "DEL", "CHECK"):
            raise CniError(
                errors.INVALID_ENV,
                f"CNI_COMMAND is {command!r}; expected ADD, DEL, CHECK or VERSION",
            )
        conf = _decode(raw)
        version = _cni_version(conf)
        output = run(command=command, conf=conf, environ=environ)
    except CniError as exc:
        _emit(
            stdout,
            error_object(cni_version=version, code=exc.code, msg=exc.msg, details=exc.details),
        )
        return 1
    except Exception as exc:  # the runtime must always get a well-formed error object
        _emit(
            stdout,
            error_object(
                cni_version=version,
                code=errors.DATAPATH_FAILURE,
                msg=f"ovnctl cni: internal error: {type(exc).__name__}: {exc}",
            ),
        )
        return 1
    if output is not None:
        _emit(stdout, output)
    return 0


def run(*, command: str, conf: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any] | None:
    """Validate ``conf`` and the environment for ``command``, ask the daemon, build the output."""
    if command not in ("ADD", "DEL", "CHECK"):
        raise CniError(
            errors.INVALID_ENV,
            f"CNI_COMMAND is {command!r}; expected ADD, DEL, CHECK or VERSION",
        )
    version = _cni_version(conf)
    if command == "CHECK" and version in ("0.3.0", "0.3.1"):
        raise CniError(
            errors.INCOMPATIBLE_VERSION,
            f"CHECK is not defined for cniVersion {version!r}; it exists from 0.4.0 on",
        )
    _check_type(conf)
    container_id = _env(environ, "CNI_CONTAINERID")
    ifname = _ifname(_env(environ, "CNI_IFNAME"))
    netns = environ.get("CNI_NETNS", "")
    if command != "DEL" and not netns:
        raise CniError(errors.INVALID_ENV, f"CNI_NETNS is required for {command}")
    args = _cni_args(environ.get("CNI_ARGS", ""))
    namespace = args.get("K8S_POD_NAMESPACE", "")
    name = args.get("K8S_POD_NAME", "")
    if command == "ADD" and not (namespace and name):
        raise CniError(
            errors.INVALID_ENV,
            f"CNI_ARGS must carry K8S_POD_NAMESPACE and K8S_POD_NAME; got "
            f"{environ.get('CNI_ARGS', '')!r}",
        )
    request = Request(
        command=command,
        container_id=container_id,
        netns=netns,
        ifname=ifname,
        pod_namespace=namespace,
        pod_name=name,
        provider=_provider(conf, namespace=namespace),
        mtu=_mtu(conf),
        default_route=_optional(conf, "default_route", bool, "a boolean"),
        routes=_routes(conf),
    )
    timeout = _optional(conf, "daemon_timeout", (int, float), "a number of seconds")
    # Everything is validated before the daemon acts: an error after ADD would strand it.
    dns = _optional(conf, "dns", dict, "an object")
    socket_path = _socket_path(conf)
    wiring = call(
        socket_path=socket_path,
        request=request,
        timeout=float(timeout) if timeout else DEFAULT_TIMEOUT,
    )
    if command != "ADD":
        return None
    if wiring is None:
        raise CniError(errors.DATAPATH_FAILURE, "ovnctl node daemon returned no wiring for ADD")
    return render_result(cni_version=version, wiring=wiring, dns=dns)


# -- input -------------------------------------------------------------------


def _read_stdin(stdin: IO[bytes]) -> bytes:
    try:
        return stdin.read()
    except OSError as exc:
        raise CniError(errors.IO_FAILURE, f"cannot read the network configuration: {exc}") from None


def _decode(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise CniError(errors.DECODE_FAILURE, "no network configuration on stdin")
    try:
        conf = json.loads(raw)
    except ValueError as exc:
        raise CniError(
            errors.DECODE_FAILURE, f"network configuration is not valid JSON: {exc}"
        ) from None
    if not isinstance(conf, dict):
        raise CniError(
            errors.DECODE_FAILURE,
            f"network configuration must be a JSON object, got {type(conf).__name__}",
        )
    return conf


def _requested_version(raw: bytes) -> str:
    """VERSION echoes the config's version when it is one we speak (stdin may be empty)."""
    try:
        conf = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return _LATEST
    version = conf.get("cniVersion") if isinstance(conf, dict) else None
    return version if version in SUPPORTED_VERSIONS else _LATEST


def _cni_version(conf: dict[str, Any]) -> str:
    version = conf.get("cniVersion")
    if not isinstance(version, str) or not version:
        raise CniError(errors.INVALID_CONFIG, f"cniVersion is {version!r}; expected a string")
    if version not in SUPPORTED_VERSIONS:
        raise CniError(
            errors.INCOMPATIBLE_VERSION,
            f"cniVersion {version!r} is not supported; supported: {', '.join(SUPPORTED_VERSIONS)}",
        )
    return version


def _check_type(conf: dict[str, Any]) -> None:
    ptype = conf.get("type")
    if ptype not in PLUGIN_TYPES:
        raise CniError(
            errors.INVALID_CONFIG,
            f"type is {ptype!r}; this plugin serves {' or '.join(map(repr, PLUGIN_TYPES))}",
        )


def _env(environ: Mapping[str, str], key: str) -> str:
    value = environ.get(key, "")
    if not value:
        raise CniError(errors.INVALID_ENV, f"{key} is missing or empty")
    return value


def _ifname(ifname: str) -> str:
    # The kernel's limit (IFNAMSIZ - 1) and the characters it refuses.
    if len(ifname) > 15 or ifname in (".", "..") or any(c in ifname for c in "/: \t\n"):
        raise CniError(
            errors.INVALID_ENV,
            f"CNI_IFNAME {ifname!r} is not a valid interface name "
            "(at most 15 characters, no '/', ':' or blanks)",
        )
    return ifname


def _cni_args(raw: str) -> dict[str, str]:
    args: dict[str, str] = {}
    for item in raw.split(";"):
        if not item:
            continue
        key, sep, value = item.partition("=")
        if not sep:
            raise CniError(errors.INVALID_ENV, f"CNI_ARGS item {item!r} is not KEY=VALUE")
        args[key] = value
    return args


def _optional(conf: dict[str, Any], key: str, kind: Any, what: str) -> Any:
    value = conf.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise CniError(errors.INVALID_CONFIG, f"{key} is {value!r}; expected {what}")
    return value


def _mtu(conf: dict[str, Any]) -> int | None:
    mtu = _optional(conf, "mtu", int, "an integer")
    if mtu is not None and not 68 <= mtu <= 65535:
        raise CniError(errors.INVALID_CONFIG, f"mtu is {mtu}; expected 68..65535")
    return mtu  # type: ignore[no-any-return]


def _routes(conf: dict[str, Any]) -> list[dict[str, str]]:
    routes = _optional(conf, "routes", list, "a list of {dst, gw}") or []
    for route in routes:
        if (
            not isinstance(route, dict)
            or not isinstance(route.get("dst"), str)
            or not isinstance(route.get("gw", ""), str)
        ):
            raise CniError(
                errors.INVALID_CONFIG,
                f"routes entry {route!r}; expected {{'dst': CIDR, 'gw': IP (optional)}}",
            )
    return [{k: v for k, v in r.items() if k in ("dst", "gw")} for r in routes]


def _provider(conf: dict[str, Any], *, namespace: str) -> str:
    ipam = conf.get("ipam")
    declared = conf.get("provider")
    if declared is None and isinstance(ipam, dict):
        declared = ipam.get("provider")
    if declared is not None:
        if not isinstance(declared, str) or not declared:
            raise CniError(errors.INVALID_CONFIG, f"provider is {declared!r}; expected a string")
        return declared
    name = conf.get("name")
    if not isinstance(name, str) or not name:
        raise CniError(
            errors.INVALID_CONFIG,
            f"name is {name!r}; the config needs a network name or an explicit provider",
        )
    if name in PRIMARY_NAMES:
        return "ovn"
    if not namespace:
        # DEL without pod args: the provider only matters for ADD.
        return f"{name}.ovn"
    return f"{name}.{namespace}.ovn"


def _socket_path(conf: dict[str, Any]) -> str:
    path = _optional(conf, "server_socket", str, "a path") or DEFAULT_SOCKET
    # NADs written for Kube-OVN name its daemon's socket; ovnctl's agent is elsewhere.
    if path != DEFAULT_SOCKET and not os.path.exists(path):
        return DEFAULT_SOCKET
    return path


def _emit(stdout: IO[str], body: dict[str, Any]) -> None:
    stdout.write(json.dumps(body))
    stdout.write("\n")
    stdout.flush()
