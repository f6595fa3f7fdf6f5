"""NetworkAttachmentDefinition → the provider ovnctl serves it as (or why not).

Where it sits: the NAD informer (a reflector thread, :mod:`ovnctl.k8s.informers`)
feeds the NAD cache's index keyed by ``(namespace, name)`` whose value is the
:class:`NadConfig` built here. Subnet and pod reconcilers
read that cache instead of GETting NADs (Kube-OVN #5353: live NAD GETs on every
reconcile cost 11% CPU and starved IPAM), so the parse result is small, frozen
and already holds every answer they need: the provider string, whether OVN
serves it with a logical switch, and a message if it cannot be served.

``spec.config`` is a JSON *string* written by hand. Bad input is expected, so
:func:`parse_nad` never raises: a broken NAD is cached with ``error`` set and
the Subnet that names it reports "malformed" rather than "missing".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ovnctl.models._syntax import describe
from ovnctl.models.provider import ProviderRef, nad_provider, parse_provider

__all__ = [
    "KUBE_OVN_TYPE",
    "NadConfig",
    "NadProblem",
    "nad_problem",
    "parse_nad",
]

KUBE_OVN_TYPE = "kube-ovn"
"""The CNI plugin type (and IPAM type) of Kube-OVN, which ovnctl serves."""


@dataclass(frozen=True, slots=True)
class NadConfig:
    """What ovnctl needs to know about one NAD, parsed once when it changes.

    ``plugin_type`` and ``ipam_type`` are those of the plugin that decided the
    provider (the kube-ovn plugin, or the one with kube-ovn IPAM); for a NAD
    ovnctl does not serve, those of the single conf or the first plugin.
    """

    namespace: str
    name: str
    cni_name: str | None = None
    cni_version: str | None = None
    plugin_type: str | None = None
    ipam_type: str | None = None
    provider: str | None = None
    """``<nad>.<ns>.ovn``, ``<nad>.<ns>`` or None when not served (or malformed)."""
    served_by_ovn: bool = False
    """True when the plugin is kube-ovn: the attachment gets an OVN logical switch port."""
    declared_provider: str | None = None
    """The ``"provider"`` key the user wrote in the config, if any."""
    warning: str | None = None
    """Set when the declared provider disagrees with the derived one (the derived one wins)."""
    error: str | None = None
    """Set when the NAD is malformed; then ``provider`` is None."""
    allow_persistent_ips: bool = False
    """``"allowPersistentIPs": true`` in the config (top level, or the serving plugin):
    attachments naming an ``ipam-claim-reference`` keep the claim's address."""

    @property
    def key(self) -> tuple[str, str]:
        """``(namespace, name)``: the key of the NAD cache."""
        return (self.namespace, self.name)

    @property
    def served(self) -> bool:
        """True when ovnctl manages addresses for attachments to this NAD."""
        return self.provider is not None

    @property
    def ipam_only(self) -> bool:
        """True when kube-ovn is only the IPAM plugin: addresses, no logical switch."""
        return self.provider is not None and not self.served_by_ovn


@dataclass(frozen=True, slots=True)
class NadProblem:
    """Why a Subnet's provider cannot be served by a NAD: a condition reason and message."""

    reason: str
    message: str


class _Malformed(Exception):
    """Internal: carries the message of the first shape error found."""


def parse_nad(*, body: Mapping[str, Any]) -> NadConfig:
    """Parse a NAD object (a dict as the API returns it) into a :class:`NadConfig`.

    Never raises for bad input: the result carries ``error`` naming the field
    and value (empty config, invalid JSON, wrong shape, ``plugins`` not a list,
    a plugin without ``type``, ...).
    """
    metadata = body.get("metadata") if isinstance(body, Mapping) else None
    metadata = metadata if isinstance(metadata, Mapping) else {}
    namespace = metadata.get("namespace")
    name = metadata.get("name")
    namespace = namespace if isinstance(namespace, str) else ""
    name = name if isinstance(name, str) else ""
    try:
        if not name:
            raise _Malformed("metadata.name: missing")
        if not namespace:
            raise _Malformed("metadata.namespace: missing")
        return _parse_config(namespace=namespace, name=name, body=body)
    except _Malformed as exc:
        return NadConfig(namespace=namespace, name=name, error=str(exc))


def _parse_config(*, namespace: str, name: str, body: Mapping[str, Any]) -> NadConfig:
    spec = body.get("spec")
    if not isinstance(spec, Mapping):
        raise _Malformed(f"spec: expected an object, got {describe(spec)}")
    raw = spec.get("config")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        # Multus would look for a file named after the NAD on the node; ovnctl
        # cannot see node files, so such a NAD is unusable here.
        raise _Malformed("spec.config: empty; ovnctl needs the CNI configuration inline")
    if not isinstance(raw, str):
        raise _Malformed(f"spec.config: expected a JSON string, got {describe(raw)}")
    try:
        conf = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _Malformed(f"spec.config: invalid JSON: {exc}") from None
    if not isinstance(conf, dict):
        raise _Malformed(f"spec.config: expected a JSON object, got {describe(conf)}")

    cni_name = _optional_str(conf, "name", "spec.config")
    cni_version = _optional_str(conf, "cniVersion", "spec.config")
    plugins: list[tuple[str, dict[str, Any]]]
    if "plugins" in conf:
        listed = conf["plugins"]
        if not isinstance(listed, list):
            raise _Malformed(f"spec.config.plugins: expected a list, got {describe(listed)}")
        if not listed:
            raise _Malformed("spec.config.plugins: empty list")
        plugins = [(f"spec.config.plugins[{i}]", p) for i, p in enumerate(listed)]
    else:
        plugins = [("spec.config", conf)]

    checked: list[tuple[str, dict[str, Any], str, dict[str, Any] | None]] = []
    for path, plugin in plugins:
        if not isinstance(plugin, dict):
            raise _Malformed(f"{path}: expected an object, got {describe(plugin)}")
        ptype = plugin.get("type")
        if not isinstance(ptype, str) or not ptype:
            what = "missing" if ptype is None else f"expected a non-empty string, got {ptype!r}"
            raise _Malformed(f"{path}.type: {what}")
        ipam = plugin.get("ipam")
        if ipam is not None and not isinstance(ipam, dict):
            raise _Malformed(f"{path}.ipam: expected an object, got {describe(ipam)}")
        if ipam is not None and "type" in ipam and not isinstance(ipam["type"], str):
            raise _Malformed(f"{path}.ipam.type: expected a string, got {ipam['type']!r}")
        checked.append((path, plugin, ptype, ipam))

    # A kube-ovn plugin anywhere wins over kube-ovn IPAM elsewhere (docs/models.md).
    chosen = next((c for c in checked if c[2] == KUBE_OVN_TYPE), None)
    served_by_ovn = chosen is not None
    if chosen is None:
        chosen = next((c for c in checked if c[3] and c[3].get("type") == KUBE_OVN_TYPE), None)
    served = chosen is not None
    path, plugin, ptype, ipam = chosen if chosen is not None else checked[0]
    ipam_type = ipam.get("type") if ipam else None

    provider = nad_provider(namespace=namespace, name=name, ovn=served_by_ovn) if served else None
    declared, warning = _declared_provider(path=path, plugin=plugin, ipam=ipam, derived=provider)
    return NadConfig(
        namespace=namespace,
        name=name,
        cni_name=cni_name,
        cni_version=cni_version,
        plugin_type=ptype,
        ipam_type=ipam_type,
        provider=provider,
        served_by_ovn=served_by_ovn,
        declared_provider=declared,
        warning=warning,
        allow_persistent_ips=conf.get("allowPersistentIPs") is True
        or plugin.get("allowPersistentIPs") is True,
    )


def _optional_str(conf: Mapping[str, Any], key: str, path: str) -> str | None:
    value = conf.get(key)
    if value is not None and not isinstance(value, str):
        raise _Malformed(f"{path}.{key}: expected a string, got {value!r}")
    return value


def _declared_provider(
    *,
    path: str,
    plugin: Mapping[str, Any],
    ipam: Mapping[str, Any] | None,
    derived: str | None,
) -> tuple[str | None, str | None]:
    """The ``"provider"`` the user wrote (plugin level, else ipam block) and a warning."""
    candidates = [(f"{path}.provider", plugin.get("provider"))]
    if ipam:
        candidates.append((f"{path}.ipam.provider", ipam.get("provider")))
    written = [(where, value) for where, value in candidates if value is not None]
    if not written or derived is None:
        # Nothing written, or a NAD ovnctl does not serve: nothing to compare.
        first = written[0][1] if written else None
        return (first if isinstance(first, str) else None), None
    problems = [
        f"{where} is {value!r} but ovnctl derives {derived!r} from the NAD's name, "
        "namespace and plugin type; the derived provider is used"
        for where, value in written
        if value != derived
    ]
    declared = written[0][1]
    return (declared if isinstance(declared, str) else repr(declared)), (
        "; ".join(problems) or None
    )


def nad_problem(*, nad: NadConfig | None, provider: str) -> NadProblem | None:
    """Why a Subnet with this Multus ``provider`` cannot be served, or None if it can.

    ``nad`` is the cached parse of the NAD the provider names (None if absent).
    Reasons: ``NadNotFound``, ``NadMalformed``, ``NadNotServed`` (not kube-ovn
    plugin nor kube-ovn IPAM) and ``ProviderMismatch`` (for example a
    ``<nad>.<ns>`` subnet for a NAD whose plugin is kube-ovn, which needs
    ``<nad>.<ns>.ovn``). The primary provider ``ovn`` never has a problem.
    Raises :class:`~ovnctl.models.errors.ProviderError` for a malformed
    provider (:func:`~ovnctl.models.subnet.parse_subnet` rejects those first).
    """
    ref: ProviderRef | None = parse_provider(provider=provider)
    if ref is None:
        return None
    where = f"{ref.nad_namespace}/{ref.nad_name}"
    if nad is None:
        return NadProblem(
            reason="NadNotFound",
            message=f"provider {provider!r}: NetworkAttachmentDefinition {where} not found",
        )
    if nad.error is not None:
        return NadProblem(
            reason="NadMalformed",
            message=f"provider {provider!r}: NetworkAttachmentDefinition {where} is malformed: "
            f"{nad.error}",
        )
    if nad.provider is None:
        return NadProblem(
            reason="NadNotServed",
            message=f"provider {provider!r}: NetworkAttachmentDefinition {where} has plugin "
            f"type {nad.plugin_type!r} and ipam type {nad.ipam_type!r}; ovnctl serves only "
            f"type {KUBE_OVN_TYPE!r} or ipam type {KUBE_OVN_TYPE!r}",
        )
    if nad.provider != provider:
        return NadProblem(
            reason="ProviderMismatch",
            message=f"provider {provider!r}: NetworkAttachmentDefinition {where} is served as "
            f"provider {nad.provider!r}",
        )
    return None
