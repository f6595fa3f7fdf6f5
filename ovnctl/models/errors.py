"""Exceptions for bad input found while parsing Kubernetes objects into models.

The parsers in :mod:`ovnctl.models` read what users wrote (pod annotations,
Subnet specs, IP objects). Bad input is normal there, so every failure is one
of the classes below, each carrying the field path and the offending value:
the reconcilers put the message verbatim into a pod Event or a Subnet
condition, where a user must be able to act on it without reading our code.

NAD configs are the exception: :func:`ovnctl.models.nad.parse_nad` never
raises, because a broken NAD must still be cached (a Subnet that names it
reports "malformed", not "missing"); the same message format is used there.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AnnotationError",
    "IpObjectError",
    "MACAnnotationError",
    "ModelError",
    "NetworksAnnotationError",
    "ProviderError",
    "StaticIPAnnotationError",
    "SubnetSpecError",
]


class ModelError(ValueError):
    """Base of every parse failure in :mod:`ovnctl.models`.

    ``field`` is the path of the offending field as a user would write it
    (``spec.gateway``, ``networks[1].ips[0]``, an annotation key); ``value`` is
    the offending value as written (``repr`` of non-strings); ``detail`` is
    the explanation. ``str(error)`` is ``"<field>: <detail>"``. ``reason`` is the
    Event or condition reason that goes with the message (users filter by it).
    """

    reason: ClassVar[str] = "InvalidInput"

    def __init__(self, detail: str, *, field: str, value: object) -> None:
        self.detail = detail
        self.field = field
        self.value = value if isinstance(value, str) else repr(value)
        super().__init__(f"{field}: {detail}")


class NetworksAnnotationError(ModelError):
    """The pod annotation ``k8s.v1.cni.cncf.io/networks`` cannot be parsed."""

    reason = "InvalidNetworksAnnotation"


class AnnotationError(ModelError):
    """A per-provider pod annotation (static IP, MAC, allocation result) is malformed."""

    reason = "InvalidAnnotation"


class StaticIPAnnotationError(AnnotationError):
    """``P.kubernetes.io/ip_address`` is malformed (not an address, two of one family)."""

    reason = "InvalidStaticIP"


class MACAnnotationError(AnnotationError):
    """``P.kubernetes.io/mac_address`` is not a MAC address."""

    reason = "InvalidMAC"


class ProviderError(ModelError):
    """A provider string is neither ``ovn``, ``<nad>.<ns>`` nor ``<nad>.<ns>.ovn``."""


class IpObjectError(ModelError):
    """A ``kubeovn.io/v1`` IP object lacks a field or holds a malformed one."""


class SubnetSpecError(ModelError):
    """A ``kubeovn.io/v1`` Subnet spec is invalid; the message names field and value."""
