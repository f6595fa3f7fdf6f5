"""``kubeovn.io/v1`` Subnet spec → a validated, defaulted :class:`SubnetSpec`.

Where it sits: Kopf's Subnet watch (:mod:`ovnctl.k8s.kopf_subnets`, an
``on.event`` handler, no Kopf index) feeds the Subnet cache's indexes of
:class:`SubnetSpec` records (by name, provider, namespace, default flag) that
pod reconcilers use to pick a subnet, and the Subnet reconciler validates
with :func:`parse_subnet`, checks the cross-subnet rules with
:func:`find_conflicts` / :func:`conflicts_for`, then hands ``cidr_block``,
``gateway`` and ``exclude_ips`` to the IPAM.

Address parsing is delegated to :mod:`ovnctl.ipam` (``parse_cidr_block``,
``parse_gateway``, ``parse_exclude_ips``) so that a spec accepted here is
exactly a spec the IPAM can build; this module adds the Kubernetes-facing
rules (types, protocol, provider, namespaces, default) and wraps every failure
in a :class:`~ovnctl.models.errors.SubnetSpecError` naming the field and value.
"""

from __future__ import annotations

import enum
import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ovnctl.ipam import InvalidSpecError, parse_cidr_block, parse_exclude_ips, parse_gateway
from ovnctl.models._syntax import describe, is_dns1123_label
from ovnctl.models.errors import ProviderError, SubnetSpecError
from ovnctl.models.meta import meta_name, object_meta
from ovnctl.models.provider import PRIMARY_PROVIDER, ProviderRef, parse_provider

if TYPE_CHECKING:
    import netaddr

__all__ = [
    "DEFAULT_VPC",
    "Protocol",
    "SubnetConflict",
    "SubnetSpec",
    "conflicts_for",
    "find_conflicts",
    "parse_subnet",
    "parse_subnet_spec",
]

DEFAULT_VPC = "ovn-cluster"
"""Kube-OVN's default VPC (and logical router); the only one ovnctl connects subnets to."""

# Spec fields ovnctl reads. Everything else is preserved by the CRD and ignored.
_KNOWN = frozenset(
    {"cidrBlock", "gateway", "excludeIps", "provider", "namespaces", "default", "protocol"}
)


class Protocol(enum.StrEnum):
    """``spec.protocol``: the families of ``cidrBlock``."""

    IPV4 = "IPv4"
    IPV6 = "IPv6"
    DUAL = "Dual"


@dataclass(frozen=True, slots=True)
class SubnetSpec:
    """A validated Subnet with defaults filled in.

    ``cidr_block`` and ``gateway`` are normalised (host bits cleared, one
    gateway per CIDR in the CIDRs' written order, defaults filled), ready for
    the IPAM and for the ``cidr``/``gateway`` pod annotations. ``exclude_ips``
    are the entries as written (stripped); the IPAM clips them again and
    reports the same ``warnings``. ``ignored_fields`` lists spec keys present
    that ovnctl does not act on (``vpc``, ``natOutgoing``, ...).
    """

    name: str
    cidr_block: str
    protocol: Protocol
    gateway: str
    exclude_ips: tuple[str, ...] = ()
    provider: str = PRIMARY_PROVIDER
    namespaces: tuple[str, ...] = ()
    default: bool = False
    warnings: tuple[str, ...] = ()
    ignored_fields: tuple[str, ...] = ()

    @property
    def cidrs(self) -> tuple[str, ...]:
        """The CIDRs of ``cidr_block``, in written order."""
        return tuple(self.cidr_block.split(","))

    @property
    def gateways(self) -> tuple[str, ...]:
        """The gateways, aligned with :attr:`cidrs`."""
        return tuple(self.gateway.split(","))

    @property
    def is_primary(self) -> bool:
        """True when the subnet serves the pods' primary network (provider ``ovn``)."""
        return self.provider == PRIMARY_PROVIDER

    @property
    def provider_ref(self) -> ProviderRef | None:
        """The NAD a Multus provider names; None for the primary provider."""
        return parse_provider(provider=self.provider)

    @property
    def has_logical_switch(self) -> bool:
        """True when OVN serves the subnet (primary, or ``<nad>.<ns>.ovn``)."""
        ref = self.provider_ref
        return ref is None or ref.ovn


@dataclass(frozen=True, slots=True)
class SubnetConflict:
    """A rule broken by several subnets together; ``subnets`` are sorted names."""

    reason: str
    """``Overlap`` or ``MultipleDefaults``."""
    subnets: tuple[str, ...]
    message: str


def parse_subnet(*, body: Mapping[str, Any]) -> SubnetSpec:
    """Validate a Subnet object (a dict as the API returns it); see :func:`parse_subnet_spec`."""
    metadata = object_meta(body)
    name = meta_name(metadata)
    if name is None:
        raise SubnetSpecError("missing", field="metadata.name", value=metadata.get("name"))
    return parse_subnet_spec(name=name, spec=body.get("spec"))


def parse_subnet_spec(*, name: str, spec: Mapping[str, Any] | None) -> SubnetSpec:
    """Validate and default the spec of Subnet ``name``.

    Raises :class:`SubnetSpecError` naming the field and value for: a missing
    or malformed ``cidrBlock`` (more than two CIDRs, two of one family); a
    ``protocol`` other than IPv4/IPv6/Dual or disagreeing with ``cidrBlock``;
    a malformed ``gateway``, one outside its CIDR, the network or broadcast
    address, or of a family the subnet lacks; an ``excludeIps`` entry that is
    not a string, has more than two ``..`` parts, is not an IP of the subnet's
    family, or starts after it ends; a ``provider`` that is not ``ovn``,
    ``<nad>.<ns>`` or ``<nad>.<ns>.ovn``; ``namespaces`` that are not DNS-1123
    labels or set on a non-primary subnet; ``default`` not a boolean or true
    on a non-primary subnet; any of these of the wrong JSON type. Entries of
    ``excludeIps`` outside the CIDR are warnings, not errors.

    Each field is checked by one helper below, in this order, so the first
    broken field (in the order above) is the one reported.
    """
    if spec is None:
        raise SubnetSpecError("missing", field="spec", value=spec)
    if not isinstance(spec, Mapping):
        raise SubnetSpecError(f"expected an object, got {describe(spec)}", field="spec", value=spec)
    warnings: list[str] = []
    networks, cidr_block = _cidr_block(spec, warnings)
    protocol = _protocol(spec, networks, cidr_block)
    gateway = _gateway(spec, networks)
    excludes = _exclude_ips(spec, networks, warnings)
    provider = _provider(spec)
    primary = provider == PRIMARY_PROVIDER
    namespaces = _namespaces(spec, provider, primary=primary)
    default = _default(spec, provider, primary=primary)
    warnings.extend(_ignored_warnings(spec))
    return SubnetSpec(
        name=name,
        cidr_block=cidr_block,
        protocol=protocol,
        gateway=gateway,
        exclude_ips=excludes,
        provider=provider,
        namespaces=namespaces,
        default=default,
        warnings=tuple(warnings),
        ignored_fields=tuple(sorted(k for k in spec if k not in _KNOWN)),
    )


# -- one helper per field, in the order parse_subnet_spec checks them ------------------


def _cidr_block(
    spec: Mapping[str, Any], warnings: list[str]
) -> tuple[tuple[netaddr.IPNetwork, ...], str]:
    """``spec.cidrBlock``: the parsed networks and their normalised text."""
    cidr_text = _string(spec, "cidrBlock")
    if not cidr_text.strip():
        raise SubnetSpecError("required", field="spec.cidrBlock", value=cidr_text)
    try:
        networks = parse_cidr_block(cidr_text)
    except InvalidSpecError as exc:
        raise SubnetSpecError(exc.detail, field="spec.cidrBlock", value=cidr_text) from None
    cidr_block = ",".join(str(n) for n in networks)
    if _has_host_bits(cidr_text):
        # Kube-OVN also rewrites such a block to its network address.
        warnings.append(f"spec.cidrBlock {cidr_text!r} has host bits set; using {cidr_block!r}")
    return networks, cidr_block


def _protocol(
    spec: Mapping[str, Any], networks: tuple[netaddr.IPNetwork, ...], cidr_block: str
) -> Protocol:
    """``spec.protocol``: derived from ``cidrBlock``; if written, it must agree."""
    derived = (
        Protocol.DUAL
        if len(networks) == 2
        else (Protocol.IPV4 if networks[0].version == 4 else Protocol.IPV6)
    )
    protocol_text = _string(spec, "protocol").strip()
    if protocol_text:
        if protocol_text not in {p.value for p in Protocol}:
            raise SubnetSpecError(
                f"{protocol_text!r} is not one of 'IPv4', 'IPv6', 'Dual'",
                field="spec.protocol",
                value=protocol_text,
            )
        if protocol_text != derived:
            raise SubnetSpecError(
                f"{protocol_text!r} does not match cidrBlock {cidr_block!r}, which is {derived}",
                field="spec.protocol",
                value=protocol_text,
            )
    return derived


def _gateway(spec: Mapping[str, Any], networks: tuple[netaddr.IPNetwork, ...]) -> str:
    """``spec.gateway``: one per CIDR in written order, defaults filled in."""
    gateway_text = _string(spec, "gateway")
    try:
        gateways = parse_gateway(gateway_text, networks)
    except InvalidSpecError as exc:
        raise SubnetSpecError(exc.detail, field="spec.gateway", value=gateway_text) from None
    return ",".join(str(g) for g in gateways)


def _exclude_ips(
    spec: Mapping[str, Any], networks: tuple[netaddr.IPNetwork, ...], warnings: list[str]
) -> tuple[str, ...]:
    """``spec.excludeIps``: the entries as written (stripped); out-of-CIDR ones are warnings."""
    excludes = _string_list(spec, "excludeIps")
    try:
        _, exclude_warnings = parse_exclude_ips(excludes, networks)
    except InvalidSpecError as exc:
        # Name the entry's index so a user can find it in a long list.
        index = next((i for i, e in enumerate(excludes) if e == exc.value), None)
        field = "spec.excludeIps" if index is None else f"spec.excludeIps[{index}]"
        raise SubnetSpecError(exc.detail, field=field, value=exc.value) from None
    warnings.extend(exclude_warnings)
    return tuple(e.strip() for e in excludes)


def _provider(spec: Mapping[str, Any]) -> str:
    """``spec.provider``: ``ovn`` (the default), ``<nad>.<ns>`` or ``<nad>.<ns>.ovn``."""
    provider = _string(spec, "provider").strip() or PRIMARY_PROVIDER
    try:
        parse_provider(provider=provider, field="spec.provider")
    except ProviderError as exc:
        raise SubnetSpecError(exc.detail, field=exc.field, value=exc.value) from None
    return provider


def _namespaces(spec: Mapping[str, Any], provider: str, *, primary: bool) -> tuple[str, ...]:
    """``spec.namespaces``: DNS-1123 labels, deduplicated; only on a primary subnet."""
    namespaces = tuple(dict.fromkeys(n.strip() for n in _string_list(spec, "namespaces")))
    for i, namespace in enumerate(namespaces):
        if not is_dns1123_label(namespace):
            raise SubnetSpecError(
                f"{namespace!r} is not a valid namespace name (DNS-1123 label)",
                field=f"spec.namespaces[{i}]",
                value=namespace,
            )
    if namespaces and not primary:
        # Namespaces choose the subnet of the primary network; on an attachment
        # subnet they would silently do nothing, which users read as a bug.
        raise SubnetSpecError(
            f"namespaces bind the primary network ('ovn'); provider {provider!r} cannot use them",
            field="spec.namespaces",
            value=list(namespaces),
        )
    return namespaces


def _default(spec: Mapping[str, Any], provider: str, *, primary: bool) -> bool:
    """``spec.default``: a boolean (absent: false); true only on a primary subnet."""
    default = spec.get("default")
    if default is None:
        default = False
    if not isinstance(default, bool):
        raise SubnetSpecError(
            f"expected a boolean, got {describe(default)} {default!r}",
            field="spec.default",
            value=default,
        )
    if default and not primary:
        raise SubnetSpecError(
            f"only a subnet of provider 'ovn' can be the default; this one is {provider!r}",
            field="spec.default",
            value=default,
        )
    return default


def _has_host_bits(cidr_block: str) -> bool:
    """True when a (valid) cidrBlock names an address inside a network, not the network."""
    try:
        for part in cidr_block.split(","):
            ipaddress.ip_network(part.strip(), strict=True)
    except ValueError:
        return True
    return False


def _string(spec: Mapping[str, Any], key: str) -> str:
    value = spec.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SubnetSpecError(
            f"expected a string, got {describe(value)} {value!r}", field=f"spec.{key}", value=value
        )
    return value


def _string_list(spec: Mapping[str, Any], key: str) -> list[str]:
    value = spec.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise SubnetSpecError(
            f"expected a list of strings, got {describe(value)} {value!r}",
            field=f"spec.{key}",
            value=value,
        )
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise SubnetSpecError(
                f"expected a string, got {describe(item)} {item!r}",
                field=f"spec.{key}[{i}]",
                value=item,
            )
    return value


def _ignored_warnings(spec: Mapping[str, Any]) -> list[str]:
    """Warnings for ignored fields whose values change what a user would expect."""
    warnings = []
    vpc = spec.get("vpc")
    if vpc and vpc != DEFAULT_VPC:
        warnings.append(
            f"spec.vpc {vpc!r} is ignored: ovnctl connects every OVN subnet to {DEFAULT_VPC!r}"
        )
    vlan = spec.get("vlan")
    if vlan:
        warnings.append(f"spec.vlan {vlan!r} is ignored: ovnctl builds overlay subnets only")
    return warnings


# -- rules across subnets -------------------------------------------------------------


def find_conflicts(*, subnets: Iterable[SubnetSpec]) -> tuple[SubnetConflict, ...]:
    """Every rule broken among ``subnets``: overlaps within one provider, several defaults.

    Two subnets overlap when any of their CIDRs of one family share an address.
    Subnets of different providers may overlap (they are different networks).
    Runs in O(n log n + conflicts), so a reconciler can check the whole cache.
    """
    specs = {s.name: s for s in subnets}
    conflicts: list[SubnetConflict] = []

    groups: dict[tuple[str, int], list[tuple[int, int, str, str]]] = defaultdict(list)
    for spec in specs.values():
        for cidr in spec.cidrs:
            net = ipaddress.ip_network(cidr)
            first = int(net.network_address)
            groups[(spec.provider, net.version)].append(
                (first, first + net.num_addresses - 1, spec.name, cidr)
            )
    seen: set[tuple[str, str]] = set()
    for (provider, _), intervals in sorted(groups.items()):
        intervals.sort()
        open_: list[tuple[int, int, str, str]] = []
        for current in intervals:
            open_ = [o for o in open_ if o[1] >= current[0]]
            for other in open_:
                pair = tuple(sorted((other[2], current[2])))
                if other[2] == current[2] or (pair[0], pair[1]) in seen:
                    continue
                seen.add((pair[0], pair[1]))
                conflicts.append(
                    SubnetConflict(
                        reason="Overlap",
                        subnets=(pair[0], pair[1]),
                        message=f"subnets {other[2]!r} ({other[3]}) and {current[2]!r} "
                        f"({current[3]}) overlap and both serve provider {provider!r}",
                    )
                )
            open_.append(current)

    defaults = sorted(s.name for s in specs.values() if s.default)
    if len(defaults) > 1:
        conflicts.append(
            SubnetConflict(
                reason="MultipleDefaults",
                subnets=tuple(defaults),
                message=f"{len(defaults)} subnets have default: true ({', '.join(defaults)}); "
                "at most one may",
            )
        )
    return tuple(conflicts)


def conflicts_for(
    *, subnet: SubnetSpec, others: Iterable[SubnetSpec]
) -> tuple[SubnetConflict, ...]:
    """The conflicts that involve ``subnet``, against ``others`` (its own name is skipped).

    Which of the subnets in a conflict gives way is the caller's policy (for
    example, the newer one is refused); this function only finds them.
    """
    pool = [s for s in others if s.name != subnet.name]
    pool.append(subnet)
    return tuple(c for c in find_conflicts(subnets=pool) if subnet.name in c.subnets)
