"""Parsing and formatting of addresses, CIDRs, gateways and excludeIps entries.

This is the edge of the IPAM: strings from Subnet specs, pod annotations and IP
objects come in here and leave as integers (the pools compute only on ints, so
a /8 or an IPv6 /64 never costs more than a few numbers), and integers leave
here again as strings for annotations and status. The three ``parse_*`` helpers
are public because the Subnet validator in :mod:`ovnctl.models` reuses them, so
that a spec the validator accepts is exactly a spec the IPAM can build.

netaddr types are returned by the public helpers (the project speaks netaddr);
the hot paths parse with the stdlib :mod:`ipaddress`, which is strict (no
``10.16/16`` shorthand, no leading zeros) and several times faster.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import netaddr

from ovnctl.ipam.errors import (
    ExcludeIpsAddressError,
    ExcludeIpsFamilyError,
    ExcludeIpsOrderError,
    ExcludeIpsSyntaxError,
    InvalidCIDRError,
    InvalidGatewayError,
)

__all__ = [
    "DECIMAL_OCTETS",
    "AddressRange",
    "Family",
    "family_of",
    "first_usable",
    "format_ip",
    "format_ranges",
    "format_v4",
    "format_v6",
    "last_usable",
    "parse_cidr_block",
    "parse_exclude_ips",
    "parse_gateway",
    "parse_ip",
]


class Family(enum.IntEnum):
    """An IP family; the value is the IP version."""

    V4 = 4
    V6 = 6

    @property
    def label(self) -> str:
        """``"v4"`` or ``"v6"``: the prefix of the Subnet status field names."""
        return "v4" if self is Family.V4 else "v6"


def parse_ip(text: str) -> tuple[Family, int]:
    """Parse one IP address into ``(family, int)``; raise :class:`ValueError` if malformed.

    Scoped IPv6 (``fe80::1%eth0``) and prefixes are refused: neither is an address
    a pool can hand out.
    """
    if "%" in text or "/" in text:
        raise ValueError(text)
    addr = ipaddress.ip_address(text.strip())
    return (Family.V4 if addr.version == 4 else Family.V6), int(addr)


# Decimal text of each octet value; format_v4 and the pools' cached formatter index it.
DECIMAL_OCTETS = tuple(str(i) for i in range(256))


def format_ip(family: Family, value: int) -> str:
    """Format an address integer the way Kubernetes objects and Kube-OVN write it (RFC 5952)."""
    return format_v4(value) if family is Family.V4 else format_v6(value)


def format_v4(value: int) -> str:
    """Dotted quad of an IPv4 integer."""
    # Hand-rolled because this runs once per allocation: ~4x faster than
    # going through an address object.
    t = DECIMAL_OCTETS
    return f"{t[value >> 24]}.{t[(value >> 16) & 255]}.{t[(value >> 8) & 255]}.{t[value & 255]}"


_ZERO_RUNS = tuple(":0" * run + ":" for run in range(8, 1, -1))  # longest first


def format_v6(value: int) -> str:
    """RFC 5952 text of an IPv6 integer."""
    # ipaddress.IPv6Address(value).compressed costs ~8 us; this RFC 5952 form
    # (lowercase, no leading zeros, the leftmost longest run of two or more
    # zero groups as "::") costs a fraction and is checked against ipaddress
    # by the tests.
    m = 0xFFFF
    text = (
        f":{value >> 112:x}:{(value >> 96) & m:x}:{(value >> 80) & m:x}:{(value >> 64) & m:x}"
        f":{(value >> 48) & m:x}:{(value >> 32) & m:x}:{(value >> 16) & m:x}:{value & m:x}:"
    )
    if ":0:0:" in text:
        for pattern in _ZERO_RUNS:
            at = text.find(pattern)
            if at >= 0:
                text = text[:at] + "::" + text[at + len(pattern) :]
                break
    start = 0 if text.startswith("::") else 1
    end = len(text) if text.endswith("::") else len(text) - 1
    return text[start:end]


def first_usable(network: netaddr.IPNetwork) -> int:
    """Lowest allocatable address: the network address only in /31, /32, /127, /128."""
    first = int(network.first)
    return first if network.size <= 2 else first + 1


def last_usable(network: netaddr.IPNetwork) -> int:
    """Highest allocatable address: IPv4 drops the broadcast address (except /31, /32)."""
    last = int(network.last)
    return last - 1 if network.version == 4 and network.size > 2 else last


def family_of(network: netaddr.IPNetwork) -> Family:
    """The family of a network."""
    return Family.V4 if network.version == 4 else Family.V6


@dataclass(frozen=True, slots=True)
class AddressRange:
    """An inclusive range of addresses of one family, as integers."""

    family: Family
    first: int
    last: int

    @property
    def size(self) -> int:
        """Number of addresses in the range."""
        return self.last - self.first + 1

    def format(self, sep: str = "-") -> str:
        """``"a-b"`` (status style) or ``"a..b"`` (excludeIps style); one address alone."""
        if self.first == self.last:
            return format_ip(self.family, self.first)
        return f"{format_ip(self.family, self.first)}{sep}{format_ip(self.family, self.last)}"

    def __str__(self) -> str:
        return self.format()


def format_ranges(family: Family, intervals: Sequence[tuple[int, int]]) -> str:
    """Comma-join intervals as Subnet status writes them: ``"a-b,c"``."""
    return ",".join(AddressRange(family, a, b).format() for a, b in intervals)


# -- cidrBlock ---------------------------------------------------------------------------


def parse_cidr_block(value: str, *, subnet: str | None = None) -> tuple[netaddr.IPNetwork, ...]:
    """Parse ``cidrBlock`` into one network, or two of different families, in written order.

    Host bits are cleared (``10.16.0.1/16`` means ``10.16.0.0/16``), as Kube-OVN
    does when it formats a subnet. Raises :class:`InvalidCIDRError` naming the
    value for an empty block, a part without ``/prefix``, a malformed part, more
    than two parts, or two parts of one family.
    """
    if not isinstance(value, str) or not value.strip():
        raise InvalidCIDRError(f"cidrBlock {value!r} is empty", value=str(value), subnet=subnet)
    parts = [p.strip() for p in value.split(",")]
    if len(parts) > 2:
        raise InvalidCIDRError(
            f"cidrBlock {value!r} has {len(parts)} CIDRs; at most one per family (two)",
            value=value,
            subnet=subnet,
        )
    networks: list[netaddr.IPNetwork] = []
    for part in parts:
        if "/" not in part:
            raise InvalidCIDRError(
                f"cidrBlock {value!r}: {part!r} has no prefix length", value=value, subnet=subnet
            )
        try:
            net = ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise InvalidCIDRError(
                f"cidrBlock {value!r}: {part!r} is not a valid CIDR", value=value, subnet=subnet
            ) from None
        networks.append(netaddr.IPNetwork(str(net)))
    if len(networks) == 2 and networks[0].version == networks[1].version:
        raise InvalidCIDRError(
            f"cidrBlock {value!r} has two IPv{networks[0].version} CIDRs; "
            "dual-stack needs one IPv4 and one IPv6",
            value=value,
            subnet=subnet,
        )
    return tuple(networks)


# -- gateway -----------------------------------------------------------------------------


def parse_gateway(
    value: str | None,
    cidrs: Sequence[netaddr.IPNetwork],
    *,
    subnet: str | None = None,
) -> tuple[netaddr.IPAddress, ...]:
    """Parse ``gateway`` into one address per CIDR, aligned with ``cidrs``.

    Empty means the default: the first usable address of each CIDR. A family the
    gateway string leaves out also gets its default (Kube-OVN fills a missing
    gateway the same way). Raises :class:`InvalidGatewayError` naming the value
    for a malformed address, a family the subnet lacks or given twice, an address
    outside its CIDR, or the network or broadcast address.
    """
    by_family: dict[int, netaddr.IPAddress] = {}
    text = (value or "").strip()
    if text:
        for part in (p.strip() for p in text.split(",")):
            try:
                family, number = parse_ip(part)
            except ValueError:
                raise InvalidGatewayError(
                    f"gateway {value!r}: {part!r} is not a valid IP address",
                    value=text,
                    subnet=subnet,
                ) from None
            matching = [n for n in cidrs if n.version == int(family)]
            if not matching:
                raise InvalidGatewayError(
                    f"gateway {value!r}: {part} is IPv{int(family)} but the subnet has no "
                    f"IPv{int(family)} CIDR",
                    value=text,
                    subnet=subnet,
                )
            if int(family) in by_family:
                raise InvalidGatewayError(
                    f"gateway {value!r} has two IPv{int(family)} addresses",
                    value=text,
                    subnet=subnet,
                )
            net = matching[0]
            if not (net.first <= number <= net.last):
                raise InvalidGatewayError(
                    f"gateway {part} is outside CIDR {net}", value=text, subnet=subnet
                )
            if not (first_usable(net) <= number <= last_usable(net)):
                raise InvalidGatewayError(
                    f"gateway {part} is the network or broadcast address of {net}",
                    value=text,
                    subnet=subnet,
                )
            by_family[int(family)] = netaddr.IPAddress(number, 4 if family is Family.V4 else 6)
    return tuple(
        by_family.get(net.version) or netaddr.IPAddress(first_usable(net), net.version)
        for net in cidrs
    )


# -- excludeIps --------------------------------------------------------------------------


def parse_exclude_ips(
    entries: Sequence[str] | None,
    cidrs: Sequence[netaddr.IPNetwork],
    *,
    subnet: str | None = None,
) -> tuple[tuple[AddressRange, ...], tuple[str, ...]]:
    """Parse ``excludeIps`` into ranges clipped to the CIDRs, plus warnings.

    Each entry is one IP or an inclusive ``a..b`` range of the subnet's family.
    Entries wholly outside their CIDR are dropped and entries partly outside are
    clipped; both produce a warning (a string naming the entry), never an error,
    as in Kube-OVN. Malformed entries raise a subclass of
    :class:`InvalidExcludeIpsError`: :class:`ExcludeIpsSyntaxError` (not a string,
    more than two parts), :class:`ExcludeIpsAddressError` (a part is not an IP),
    :class:`ExcludeIpsFamilyError` (mixed families, or a family the subnet
    lacks), :class:`ExcludeIpsOrderError` (start after end).
    """
    ranges: list[AddressRange] = []
    warnings: list[str] = []
    for entry in entries or ():
        if not isinstance(entry, str):
            raise ExcludeIpsSyntaxError(
                f"excludeIps entry {entry!r} is not a string", value=repr(entry), subnet=subnet
            )
        parts = [p.strip() for p in entry.split("..")]
        if len(parts) > 2:
            raise ExcludeIpsSyntaxError(
                f"excludeIps entry {entry!r} has {len(parts)} parts; expected an IP or 'a..b'",
                value=entry,
                subnet=subnet,
            )
        parsed: list[tuple[Family, int]] = []
        for part in parts:
            try:
                parsed.append(parse_ip(part))
            except ValueError:
                raise ExcludeIpsAddressError(
                    f"excludeIps entry {entry!r}: {part!r} is not a valid IP address",
                    value=entry,
                    subnet=subnet,
                ) from None
        family = parsed[0][0]
        if any(f is not family for f, _ in parsed):
            raise ExcludeIpsFamilyError(
                f"excludeIps entry {entry!r} mixes IPv4 and IPv6", value=entry, subnet=subnet
            )
        start, end = parsed[0][1], parsed[-1][1]
        if start > end:
            raise ExcludeIpsOrderError(
                f"excludeIps entry {entry!r} starts after it ends", value=entry, subnet=subnet
            )
        matching = [n for n in cidrs if n.version == int(family)]
        if not matching:
            raise ExcludeIpsFamilyError(
                f"excludeIps entry {entry!r} is IPv{int(family)} but the subnet has no "
                f"IPv{int(family)} CIDR",
                value=entry,
                subnet=subnet,
            )
        net = matching[0]
        lo, hi = max(start, int(net.first)), min(end, int(net.last))
        if lo > hi:
            warnings.append(f"excludeIps entry {entry!r} lies outside CIDR {net}; ignored")
            continue
        if (lo, hi) != (start, end):
            clipped = AddressRange(family, lo, hi).format("..")
            warnings.append(f"excludeIps entry {entry!r} clipped to CIDR {net}: {clipped}")
        ranges.append(AddressRange(family, lo, hi))
    return tuple(ranges), tuple(warnings)
