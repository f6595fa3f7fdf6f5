"""MAC parsing, formatting and generation."""

from __future__ import annotations

import random

import pytest

from ovnctl.ipam.mac import MacTable, format_mac, parse_mac, parse_mac_prefix


@pytest.mark.parametrize(
    "text", ["0E:12:34:56:78:9A", "0e-12-34-56-78-9a", "0e12.3456.789a", " 0e:12:34:56:78:9a "]
)
def test_parse_mac_normalises(text):
    """Colon, dash and dotted forms parse; formatting is lowercase colon form."""
    assert format_mac(parse_mac(text)) == "0e:12:34:56:78:9a"


@pytest.mark.parametrize(
    "text", ["", "0e:12:34:56:78", "0e:12:34:56:78:9g", "01:00:5e:00:00:01", "00:00:00:00:00:00"]
)
def test_parse_mac_rejects(text):
    """Malformed, multicast and all-zero MACs are refused."""
    with pytest.raises(ValueError, match=r"MAC|multicast"):
        parse_mac(text)


def test_generated_macs_are_locally_administered_unicast_and_unique():
    """Generated MACs carry the prefix, have the LA bit set, the multicast bit clear."""
    table = MacTable(prefix="0e", rng=random.Random(1))
    seen = set()
    for i in range(2000):
        mac = _take_new(table, f"o{i}")
        first = mac >> 40
        assert first == 0x0E
        assert first & 0x02
        assert not first & 0x01
        seen.add(mac)
    assert len(seen) == 2000


def test_tiny_prefix_space_is_exhausted_cleanly():
    """A 5-octet prefix has 255 usable MACs; generation never repeats one."""
    table = MacTable(prefix="0a:00:00:00:00", rng=random.Random(1))
    macs = {_take_new(table, f"o{i}") for i in range(255)}
    assert len(macs) == 255
    with pytest.raises(OverflowError):
        table.generate()


@pytest.mark.parametrize("prefix", ["00", "01", "0f:00", "zz", "0e:00:00:00:00:00", ""])
def test_bad_prefix_rejected(prefix):
    """Prefixes that are not 1-5 octets of locally administered unicast are refused."""
    with pytest.raises(ValueError, match="prefix"):
        parse_mac_prefix(prefix)


def _take_new(table: MacTable, owner: str) -> int:
    """Draw a free MAC and record it, as an allocation does."""
    mac = table.fresh()
    table.take(mac, owner)
    return mac
