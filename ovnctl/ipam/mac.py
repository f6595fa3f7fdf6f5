"""MAC addresses: parsing, formatting, and uniqueness within one subnet.

A subnet is one L2 segment (one OVN logical switch), so every NIC on it needs
its own MAC. Generated MACs are *locally administered unicast*: the first
octet has bit 0x02 set and bit 0x01 clear, so they can never collide with a
vendor-assigned MAC. Kube-OVN's ``00:00:00:xx:xx:xx`` style is globally
administered (it squats on Xerox's OUI) and is deliberately not copied; the
default prefix is ``0e`` with 40 random bits, and a deployment can choose a
longer prefix (for example ``0e:00:00``) to make ovnctl's MACs recognisable.

Randomness comes from an injected :class:`random.Random`, so tests and rebuilds
can be deterministic; uniqueness does not rely on it (collisions are retried).
"""

from __future__ import annotations

import random
import re

__all__ = ["DEFAULT_MAC_PREFIX", "MacTable", "format_mac", "parse_mac", "parse_mac_prefix"]

DEFAULT_MAC_PREFIX = "0e"

_MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-])(?:[0-9a-fA-F]{2}\1){4}[0-9a-fA-F]{2}$")
_MAC_DOTTED_RE = re.compile(r"^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$")
_MULTICAST_BIT = 1 << 40


def parse_mac(text: str) -> int:
    """Parse a unicast, non-zero MAC (``aa:bb:..``, ``AA-BB-..``, ``aabb.ccdd.eeff``) to an int.

    Raises :class:`ValueError` for anything else: a multicast or all-zero MAC
    is not an address a NIC can own.
    """
    text = text.strip()
    if _MAC_RE.match(text):
        value = int(text.replace(":", "").replace("-", ""), 16)
    elif _MAC_DOTTED_RE.match(text):
        value = int(text.replace(".", ""), 16)
    else:
        raise ValueError(f"{text!r} is not a MAC address")
    if value == 0 or value & _MULTICAST_BIT:
        raise ValueError(f"{text!r} is a multicast or all-zero MAC address")
    return value


def format_mac(value: int) -> str:
    """Lowercase colon form: ``0e:12:34:56:78:9a``."""
    return value.to_bytes(6).hex(":")  # big-endian by default: no byteorder argument to parse


def parse_mac_prefix(prefix: str) -> tuple[int, int]:
    """Parse a 1 to 5 octet prefix into ``(prefix value, number of random bits)``.

    The first octet must be locally administered and unicast (``x2``, ``x6``,
    ``xa`` or ``xe``); raises :class:`ValueError` otherwise.
    """
    octets = [o for o in re.split(r"[:-]", prefix.strip()) if o]
    if not 1 <= len(octets) <= 5 or not all(re.fullmatch(r"[0-9a-fA-F]{2}", o) for o in octets):
        raise ValueError(f"MAC prefix {prefix!r} must be 1 to 5 hex octets")
    first = int(octets[0], 16)
    if first & 0x01 or not first & 0x02:
        raise ValueError(f"MAC prefix {prefix!r} must be locally administered unicast")
    random_bits = 48 - 8 * len(octets)
    return int("".join(octets), 16) << random_bits, random_bits


class MacTable:
    """Which owner holds which MAC in one subnet, and generation of fresh ones."""

    __slots__ = ("_by_mac", "_getrandbits", "_mask", "_prefix", "_rng", "prefix_text")

    def __init__(self, *, prefix: str = DEFAULT_MAC_PREFIX, rng: random.Random) -> None:
        self._prefix, bits = parse_mac_prefix(prefix)
        self.prefix_text = prefix
        """The prefix as configured, for messages."""
        self._mask = bits
        self._rng = rng
        self._getrandbits = rng.getrandbits  # bound once: fresh is on the hot path
        self._by_mac: dict[int, str] = {}

    def holder(self, mac: int) -> str | None:
        """The owner holding ``mac``, or None."""
        return self._by_mac.get(mac)

    def generate(self) -> int:
        """A free MAC under the prefix (not yet recorded)."""
        getrandbits, by_mac, prefix, bits = (
            self._rng.getrandbits,
            self._by_mac,
            self._prefix,
            self._mask,
        )
        # With >= 24 random bits and at most a few hundred thousand NICs per
        # subnet, a retry is rare; the loop bound only guards a tiny prefix space.
        for _ in range(1000):
            mac = prefix | getrandbits(bits)
            if mac not in by_mac and mac != prefix:
                return mac
        for mac in range(prefix + 1, prefix + (1 << bits)):  # exhaustive fallback
            if mac not in by_mac:
                return mac
        raise OverflowError("MAC prefix space exhausted")

    def fresh(self) -> int:
        """A free MAC, not yet recorded: the allocation hot path (one draw, rarely more).

        Raises :class:`OverflowError` when the prefix space is full; nothing changes,
        so a caller that draws before it takes anything stays all-or-nothing.
        ``SubnetPool.allocate_auto`` inlines the first draw: change both together.
        """
        mac = self._prefix | self._getrandbits(self._mask)
        if mac in self._by_mac or mac == self._prefix:
            mac = self.generate()
        return mac

    def take(self, mac: int, owner: str) -> None:
        """Record ``mac`` as held by ``owner`` (caller checked it is free or owner's)."""
        self._by_mac[mac] = owner

    def drop(self, mac: int, owner: str) -> None:
        """Forget ``mac`` if ``owner`` holds it."""
        if self._by_mac.get(mac) == owner:
            del self._by_mac[mac]
