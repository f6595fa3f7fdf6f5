"""The pod annotation ``k8s.v1.cni.cncf.io/networks`` → the attachments a pod asks for.

Where it sits: the pod reconciler parses this annotation first, then looks up
each attachment's NAD in the NAD cache to learn its provider, and from there
picks a subnet and allocates. Multus reads the same annotation on the node, so
ovnctl accepts exactly the forms Multus does (docs/models.md):

* a comma list of ``name``, ``ns/name``, ``name@ifname``, ``ns/name@ifname``;
* a JSON list of network selection elements (or one JSON object).

Bad input raises :class:`~ovnctl.models.errors.NetworksAnnotationError`, one
exception class whose message names the field and value, because the caller's
only action is to report it on the pod (an Event) and not allocate: there is
no partial result worth keeping when a user's annotation is broken.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ovnctl.models._syntax import (
    canonical_ip,
    canonical_ip_with_prefix,
    canonical_mac,
    describe,
    ifname_problem,
    is_dns1123_label,
)
from ovnctl.models.errors import NetworksAnnotationError

__all__ = ["AttachmentRequest", "parse_networks"]

_FIELD = "k8s.v1.cni.cncf.io/networks"


@dataclass(frozen=True, slots=True)
class AttachmentRequest:
    """One network a pod asks for: a NAD reference plus optional requests.

    ``ips`` are canonical addresses without prefix (a JSON entry's ``/prefix``
    is validated and dropped: the subnet decides the prefix). ``index`` is the
    position in the annotation; Multus names an interface without ``@ifname``
    or ``interface`` ``net<index+1>``, which :attr:`ifname` reproduces.
    ``cni-args`` is validated to be an object but not kept: ovnctl does not
    pass CNI arguments anywhere.
    """

    namespace: str
    name: str
    index: int
    interface: str | None = None
    ips: tuple[str, ...] = ()
    mac: str | None = None
    default_route: tuple[str, ...] = ()
    ipam_claim: str | None = None
    """``ipam-claim-reference``: the IPAMClaim (in the pod's namespace) owning the address."""

    @property
    def nad_key(self) -> tuple[str, str]:
        """``(namespace, name)`` of the NAD, the key of the NAD cache."""
        return (self.namespace, self.name)

    @property
    def ifname(self) -> str:
        """The interface name inside the pod, as Multus chooses it."""
        return self.interface if self.interface is not None else f"net{self.index + 1}"


def parse_networks(*, annotation: str, pod_namespace: str) -> tuple[AttachmentRequest, ...]:
    """Parse the networks annotation of a pod in ``pod_namespace``.

    An empty or blank annotation asks for nothing. Raises
    :class:`NetworksAnnotationError` for malformed JSON, a missing or invalid
    name, namespace or interface, ``ips`` not a list, an invalid IP or MAC.
    """
    text = annotation.strip()
    if not text:
        return ()
    if text[0] in "[{":
        return _parse_json(text=text, pod_namespace=pod_namespace)
    return _parse_list(text=text, pod_namespace=pod_namespace)


def _parse_list(*, text: str, pod_namespace: str) -> tuple[AttachmentRequest, ...]:
    result: list[AttachmentRequest] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            # "a, ,b" and a trailing comma are harmless; Multus skips them too.
            continue
        field = f"{_FIELD}[{len(result)}]"
        namespace, slash, rest = item.rpartition("/") if "/" in item else ("", "", item)
        if slash and "/" in namespace:
            raise NetworksAnnotationError(
                f"{item!r} has more than one '/'; expected [namespace/]name[@interface]",
                field=field,
                value=item,
            )
        name, at, interface = rest.partition("@")
        if "@" in interface:
            raise NetworksAnnotationError(
                f"{item!r} has more than one '@'; expected [namespace/]name[@interface]",
                field=field,
                value=item,
            )
        namespace, name, interface = namespace.strip(), name.strip(), interface.strip()
        if slash:
            _check_label(namespace, what="namespace", field=field, item=item)
        _check_label(name, what="network name", field=field, item=item)
        if at:
            # Multus checks comma-form interface names against the DNS-1123
            # label pattern too, so "eth1.100" is rejected here but allowed in
            # JSON form; the kernel's 15-byte limit applies to both.
            if not is_dns1123_label(interface):
                raise NetworksAnnotationError(
                    f"interface {interface!r} in {item!r} is not a lower-case alphanumeric "
                    "name ('-' allowed inside)",
                    field=field,
                    value=item,
                )
            _check_ifname(interface, field=field)
        result.append(
            AttachmentRequest(
                namespace=namespace or pod_namespace,
                name=name,
                index=len(result),
                interface=interface if at else None,
            )
        )
    return tuple(result)


def _parse_json(*, text: str, pod_namespace: str) -> tuple[AttachmentRequest, ...]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NetworksAnnotationError(f"invalid JSON: {exc}", field=_FIELD, value=text) from None
    # A single object is not in the spec, but users write it and Multus takes it.
    entries = [data] if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise NetworksAnnotationError(
            f"expected a JSON list of objects, got {describe(data)}", field=_FIELD, value=text
        )
    return tuple(
        _parse_element(element, index=i, pod_namespace=pod_namespace)
        for i, element in enumerate(entries)
    )


def _parse_element(element: Any, *, index: int, pod_namespace: str) -> AttachmentRequest:
    field = f"{_FIELD}[{index}]"
    if not isinstance(element, dict):
        raise NetworksAnnotationError(
            f"expected an object, got {describe(element)}", field=field, value=element
        )
    name = element.get("name")
    if name is None:
        raise NetworksAnnotationError("'name' is required", field=f"{field}.name", value=element)
    _check_label(_string(element, "name", field), what="network name", field=f"{field}.name")

    namespace = _optional_string(element, "namespace", field) or pod_namespace
    if element.get("namespace"):
        _check_label(namespace, what="namespace", field=f"{field}.namespace")

    interface = _optional_string(element, "interface", field) or None
    if interface is not None:
        _check_ifname(interface, field=f"{field}.interface")

    ips = tuple(
        _ip(entry, field=f"{field}.ips[{i}]", prefix_ok=True)
        for i, entry in enumerate(_list(element, "ips", field))
    )
    families = [":" in ip for ip in ips]
    if len(ips) > 2 or len(set(families)) != len(families):
        raise NetworksAnnotationError(
            f"at most one IPv4 and one IPv6 address, got {list(ips)}",
            field=f"{field}.ips",
            value=element.get("ips"),
        )

    mac: str | None = None
    raw_mac = _optional_string(element, "mac", field)
    if raw_mac:
        try:
            mac = canonical_mac(raw_mac)
        except ValueError:
            raise NetworksAnnotationError(
                f"{raw_mac!r} is not a valid MAC address", field=f"{field}.mac", value=raw_mac
            ) from None

    default_route = tuple(
        _ip(entry, field=f"{field}.default-route[{i}]", prefix_ok=False)
        for i, entry in enumerate(_list(element, "default-route", field))
    )

    cni_args = element.get("cni-args")
    if cni_args is not None and not isinstance(cni_args, dict):
        raise NetworksAnnotationError(
            f"expected an object, got {describe(cni_args)}",
            field=f"{field}.cni-args",
            value=cni_args,
        )

    claim = _optional_string(element, "ipam-claim-reference", field)
    return AttachmentRequest(
        namespace=namespace,
        name=element["name"],
        index=index,
        interface=interface,
        ips=ips,
        mac=mac,
        default_route=default_route,
        ipam_claim=claim.strip() if claim and claim.strip() else None,
    )


def _string(element: Mapping[str, Any], key: str, field: str) -> str:
    value = element[key]
    if not isinstance(value, str):
        raise NetworksAnnotationError(
            f"expected a string, got {describe(value)} {value!r}",
            field=f"{field}.{key}",
            value=value,
        )
    return value


def _optional_string(element: Mapping[str, Any], key: str, field: str) -> str:
    if element.get(key) is None:
        return ""
    return _string(element, key, field)


def _list(element: Mapping[str, Any], key: str, field: str) -> list[Any]:
    value = element.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise NetworksAnnotationError(
            f"expected a list, got {describe(value)} {value!r}",
            field=f"{field}.{key}",
            value=value,
        )
    return value


def _ip(entry: Any, *, field: str, prefix_ok: bool) -> str:
    if isinstance(entry, str):
        try:
            _, canonical = (canonical_ip_with_prefix if prefix_ok else canonical_ip)(entry)
            return canonical
        except ValueError:
            pass
    raise NetworksAnnotationError(f"{entry!r} is not a valid IP address", field=field, value=entry)


def _check_label(text: str, *, what: str, field: str, item: str | None = None) -> None:
    if not is_dns1123_label(text):
        where = f" in {item!r}" if item is not None else ""
        raise NetworksAnnotationError(
            f"{what} {text!r}{where} is not a DNS-1123 label (lower-case alphanumerics and "
            "'-', starting and ending alphanumeric, at most 63 characters)",
            field=field,
            value=item if item is not None else text,
        )


def _check_ifname(text: str, *, field: str) -> None:
    problem = ifname_problem(text)
    if problem is not None:
        raise NetworksAnnotationError(f"interface {text!r} {problem}", field=field, value=text)
