"""What one owner holds in one subnet, as the engine keeps it (mutable, ints).

A :class:`~ovnctl.ipam.subnet.SubnetPool` keeps one :class:`Holding` per owner:
the address ints it must give back to the family pools on release, the MAC int
it must drop from the MAC table, and the frozen
:class:`~ovnctl.ipam.results.Allocation` handed to callers (replaced, never
mutated, when holders change or a Subnet update reorders its families).
"""

from __future__ import annotations

from collections.abc import Sequence

from ovnctl.ipam.addresses import Family
from ovnctl.ipam.results import Allocation

__all__ = ["Holding", "holding_of", "new_holding", "split_ips"]


class Holding:
    """Mutable per-owner state; ``result`` is the frozen view handed out.

    One int slot per family (None: nothing held in it) rather than a
    ``{family: address}`` dict: a one-entry dict costs ~200 bytes and a build
    per allocation, and this object exists once per owner. ``addrs`` gives the
    dict view the planning and rebuild code works with.
    """

    __slots__ = ("mac", "result", "v4", "v6")

    v4: int | None
    v6: int | None
    mac: int
    result: Allocation

    @property
    def addrs(self) -> dict[Family, int]:
        """A fresh ``{family: address}`` of what is held (mutating it changes nothing)."""
        addrs: dict[Family, int] = {}
        if self.v4 is not None:
            addrs[Family.V4] = self.v4
        if self.v6 is not None:
            addrs[Family.V6] = self.v6
        return addrs

    def count(self) -> int:
        """How many families hold an address."""
        return (self.v4 is not None) + (self.v6 is not None)

    def set_addrs(self, addrs: dict[Family, int]) -> None:
        """Hold exactly ``addrs``."""
        self.v4 = addrs.get(Family.V4)
        self.v6 = addrs.get(Family.V6)


new_holding = object.__new__
"""``new_holding(Holding)``: an empty holding, its slots unset (no ``__init__`` frame)."""


def holding_of(addrs: dict[Family, int], mac: int, result: Allocation) -> Holding:
    """A holding of ``addrs``, ``mac`` and ``result``."""
    # Filling slots directly skips an __init__ frame.
    held = new_holding(Holding)
    held.set_addrs(addrs)
    held.mac = mac
    held.result = result
    return held


def split_ips(ips: str | Sequence[str] | None) -> list[str]:
    """Addresses of a static request or a record: a string or strings, each comma-joined."""
    if ips is None:
        return []
    items = [ips] if isinstance(ips, str) else list(ips)
    return [part.strip() for item in items for part in item.split(",") if part.strip()]
