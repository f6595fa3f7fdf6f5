"""Small syntax checks shared by the parsers: Kubernetes names, IP and MAC text.

IPs are parsed with the stdlib :mod:`ipaddress`, which is strict (no ``10.1``
shorthand, no leading zeros, no zone ids) and formats addresses exactly as
:func:`ovnctl.ipam.addresses.format_ip` does, so a canonical string produced
here compares equal to one the IPAM hands out.
"""

from __future__ import annotations

import ipaddress
import re

from ovnctl.ipam.mac import format_mac, parse_mac

# DNS-1123 label: what Kubernetes requires of namespace names and what Multus
# requires of NAD names in the networks annotation.
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253

# Linux refuses interface names longer than IFNAMSIZ-1 bytes.
IFNAME_MAX = 15


def is_dns1123_label(text: str) -> bool:
    """True for a DNS-1123 label: lower-case alphanumerics and '-', at most 63 chars."""
    return len(text) <= DNS1123_LABEL_MAX and _DNS1123_LABEL.fullmatch(text) is not None


def is_dns1123_subdomain(text: str) -> bool:
    """True for a DNS-1123 subdomain: dot-joined labels, at most 253 chars."""
    return 0 < len(text) <= DNS1123_SUBDOMAIN_MAX and all(
        _DNS1123_LABEL.fullmatch(part) for part in text.split(".")
    )


def ifname_problem(text: str) -> str | None:
    """Why ``text`` cannot be a Linux interface name, or None if it can."""
    if not text:
        return "is empty"
    if len(text.encode()) > IFNAME_MAX:
        return f"is longer than {IFNAME_MAX} bytes"
    if text in (".", ".."):
        return "is not a valid interface name"
    if any(c in "/:" or c.isspace() for c in text):
        return "contains '/', ':' or whitespace"
    return None


def canonical_ip(text: str) -> tuple[int, str]:
    """Parse one IP address into ``(version, canonical text)``; raise ValueError if malformed."""
    if "%" in text:
        # A zoned IPv6 address is not an address a pool can hand out.
        raise ValueError(text)
    addr = ipaddress.ip_address(text.strip())
    return addr.version, addr.compressed


def canonical_ip_with_prefix(text: str) -> tuple[int, str]:
    """Parse ``ip`` or ``ip/prefix`` (Multus ``ips`` entries); return the bare address.

    The prefix is validated (0..32 or 0..128) and then dropped: the subnet decides
    the prefix length of the NIC, the request only names the address.
    """
    address, sep, prefix = text.strip().partition("/")
    version, canonical = canonical_ip(address)
    if sep:
        width = 32 if version == 4 else 128
        if not prefix.isdigit() or int(prefix) > width:
            raise ValueError(text)
    return version, canonical


def canonical_mac(text: str) -> str:
    """Parse a MAC a NIC can own into lower-case colon form; raise ValueError otherwise.

    The IPAM's own rule (:func:`ovnctl.ipam.mac.parse_mac`): the forms Go's
    net.ParseMAC accepts for EUI-48, and neither multicast nor all-zero, so a
    request the IPAM would refuse is refused here, at parse time, with the field.
    """
    return format_mac(parse_mac(text))


def describe(value: object) -> str:
    """A short JSON-ish name of a value's type, for 'expected X, got Y' messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
