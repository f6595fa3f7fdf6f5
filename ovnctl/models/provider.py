"""Provider strings: which network a Subnet, an annotation or an IP object belongs to.

Kube-OVN names networks by *provider*: ``ovn`` is the pod's primary network;
a Multus attachment served through NAD ``<nad>`` in namespace ``<ns>`` is
``<nad>.<ns>.ovn`` when the NAD's plugin is kube-ovn (the attachment gets an
OVN logical switch port) and ``<nad>.<ns>`` when kube-ovn only manages its
addresses (macvlan, ipvlan, bridge with ``"ipam": {"type": "kube-ovn"}``).
The same string prefixes the pod annotations of that network and suffixes the
IP object's name, so NAD parsing, Subnet validation, annotation keys and IP
object naming all go through this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from ovnctl.models._syntax import is_dns1123_label
from ovnctl.models.errors import ProviderError

__all__ = [
    "OVN_SUFFIX",
    "PRIMARY_PROVIDER",
    "ProviderRef",
    "is_primary",
    "nad_provider",
    "nad_providers",
    "parse_provider",
]

PRIMARY_PROVIDER = "ovn"
"""The provider of the pod's primary network (its ``eth0``)."""

OVN_SUFFIX = "ovn"
"""Last part of the provider of a NAD whose plugin is kube-ovn."""


@dataclass(frozen=True, slots=True)
class ProviderRef:
    """A Multus provider split into the NAD it names and whether OVN serves it."""

    nad_namespace: str
    nad_name: str
    ovn: bool
    """True for ``<nad>.<ns>.ovn`` (logical switch); False for ``<nad>.<ns>`` (IPAM only)."""

    @property
    def nad_key(self) -> tuple[str, str]:
        """``(namespace, name)`` of the NAD, the key of the NAD cache."""
        return (self.nad_namespace, self.nad_name)

    def __str__(self) -> str:
        return nad_provider(namespace=self.nad_namespace, name=self.nad_name, ovn=self.ovn)


def nad_provider(*, namespace: str, name: str, ovn: bool) -> str:
    """The provider string of NAD ``namespace/name``: ``name.namespace[.ovn]``."""
    base = f"{name}.{namespace}"
    return f"{base}.{OVN_SUFFIX}" if ovn else base


def nad_providers(*, namespace: str, name: str) -> tuple[str, str]:
    """Both providers NAD ``namespace/name`` can serve: IPAM-only and OVN (``.ovn``).

    A NAD event concerns the subnets of either, whatever its plugin is now: the
    plugin may just have changed from one to the other.
    """
    return (
        nad_provider(namespace=namespace, name=name, ovn=False),
        nad_provider(namespace=namespace, name=name, ovn=True),
    )


def is_primary(provider: str) -> bool:
    """True for the primary network's provider ``ovn``."""
    return provider == PRIMARY_PROVIDER


def parse_provider(*, provider: str, field: str = "provider") -> ProviderRef | None:
    """Split a provider string; None for the primary provider ``ovn``.

    Accepts ``ovn``, ``<nad>.<ns>`` and ``<nad>.<ns>.ovn`` where both names are
    DNS-1123 labels. Raises :class:`ProviderError` (naming ``field``) otherwise;
    Kube-OVN accepts any string here, but a provider that names no NAD can
    never be served, so ovnctl says so at once instead of leaving it idle.
    """
    if provider == PRIMARY_PROVIDER:
        return None
    parts = provider.split(".")
    ovn = len(parts) == 3 and parts[2] == OVN_SUFFIX
    if len(parts) == 2 or ovn:
        name, namespace = parts[0], parts[1]
        if is_dns1123_label(name) and is_dns1123_label(namespace):
            return ProviderRef(nad_namespace=namespace, nad_name=name, ovn=ovn)
    raise ProviderError(
        f"{provider!r} is not a valid provider: expected 'ovn', '<nad>.<namespace>' or "
        "'<nad>.<namespace>.ovn' with DNS-1123 label names",
        field=field,
        value=provider,
    )
