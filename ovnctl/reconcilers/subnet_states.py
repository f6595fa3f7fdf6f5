"""What the controller knows about each subnet beyond its cached object, with one owner each.

The subnet reconciler decides whether a subnet serves (is Ready), whether it
is refused for a conflict with another subnet, and which logical switch it
last ensured in the NB. Others act on those answers: the key router requeues
refused subnets when any subnet changes, the NIC planner gives addresses only
from serving subnets, the releaser deletes a port only where a switch exists,
and NB convergence desires exactly the ensured switches. So
:class:`SubnetStates` holds them, written by the subnet reconciler alone, and
every other part gets the same object typed as the read-only
:class:`SubnetStateView`.

Conflicts between subnets (overlapping CIDRs of one provider, two defaults)
are derived from every cached spec at once. :class:`SubnetConflicts` computes
them once per distinct set of specs; the key router, which sees every spec
change, tells it when that set may have changed, and both the router (whose
rivals to requeue) and the subnet reconciler (who gives way) read it.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Set
from typing import Protocol

from ovnctl.caches import SubnetCache
from ovnctl.models.subnet import SubnetConflict, SubnetSpec, find_conflicts
from ovnctl.ovn import SwitchSpec

__all__ = ["SubnetConflicts", "SubnetStateView", "SubnetStates"]


class SubnetStateView(Protocol):
    """What readers of the subnet reconciler's decisions may ask."""

    def serves(self, name: str) -> bool:
        """Whether pods may be given addresses from ``name`` now."""
        ...

    def ready(self, name: str) -> bool:
        """Whether ``name`` was Ready at its last reconcile (:meth:`serves` also checks
        that the cache still shows it valid and alive)."""
        ...

    @property
    def refused(self) -> Set[str]:
        """Subnets refused for a cross-subnet conflict."""
        ...

    @property
    def switches(self) -> Mapping[str, SwitchSpec]:
        """Logical switches last ensured in the NB, by subnet."""
        ...


class SubnetStates:
    """The subnet reconciler's decisions per subnet; it alone calls the ``set_``/``forget``
    methods, everyone else reads through :class:`SubnetStateView`."""

    def __init__(self, *, subnets: SubnetCache) -> None:
        self._subnets = subnets
        self._ready: set[str] = set()
        self._refused: set[str] = set()
        self._switches: dict[str, SwitchSpec] = {}
        self._switches_view = types.MappingProxyType(self._switches)

    # -- read (SubnetStateView) -----------------------------------------------------------

    def serves(self, name: str) -> bool:
        """Whether pods may be given addresses from ``name`` now.

        Ready at its last reconcile *and* still valid in the cache: a spec edited
        into an invalid one stops new allocations at once, before the subnet's own
        reconcile has caught up (its pool keeps the addresses already held).
        """
        if name not in self._ready:
            return False
        record = self._subnets.get(name)
        return record is not None and record.spec is not None and not record.deleting

    def ready(self, name: str) -> bool:
        """Whether ``name`` was Ready at its last reconcile."""
        return name in self._ready

    @property
    def refused(self) -> Set[str]:
        """Subnets refused for a cross-subnet conflict; re-evaluated on any subnet change."""
        return self._refused

    @property
    def switches(self) -> Mapping[str, SwitchSpec]:
        """Logical switches last ensured in the NB, by subnet: the desired state for converge."""
        return self._switches_view

    # -- write (the subnet reconciler only) -----------------------------------------------

    def set_ready(self, name: str, ready: bool) -> None:
        """Record whether ``name`` is Ready: the only subnets pods get addresses from."""
        if ready:
            self._ready.add(name)
        else:
            self._ready.discard(name)

    def set_refused(self, name: str, refused: bool) -> None:
        """Record whether ``name`` gives way to another subnet in a conflict."""
        if refused:
            self._refused.add(name)
        else:
            self._refused.discard(name)

    def set_switch(self, name: str, switch: SwitchSpec) -> None:
        """Record the logical switch just ensured in the NB for ``name``."""
        self._switches[name] = switch

    def forget(self, name: str) -> None:
        """``name`` is gone (or its deletion finished): no state of it is kept."""
        self._ready.discard(name)
        self._refused.discard(name)
        self._switches.pop(name, None)


class SubnetConflicts:
    """The cross-subnet conflicts among every valid cached spec, computed once per set.

    Call :meth:`specs_changed` whenever the set of Subnet specs may have changed
    (the key router does, on every watched change of a spec, deletion or uid);
    between two calls the conflicts are looked up, not recomputed, so evaluating
    n subnets costs one O(n log n) sweep, not n of them (1,000 subnets took 30 s
    to start before).
    """

    def __init__(self, *, subnets: SubnetCache) -> None:
        self._subnets = subnets
        self._version = 0
        self._computed_at: int | None = None
        self._specs: frozenset[SubnetSpec] = frozenset()
        self._by_name: dict[str, tuple[SubnetConflict, ...]] = {}

    def specs_changed(self) -> None:
        """The set of specs may differ from the last computation: recompute on next read."""
        self._version += 1

    def involving(self, name: str) -> tuple[SubnetConflict, ...]:
        """The conflicts ``name`` is part of, among every subnet with a valid spec."""
        if self._computed_at != self._version:
            self._computed_at = self._version
            specs = frozenset(r.spec for r in self._subnets if r.spec is not None)
            if specs != self._specs:
                by_name: dict[str, list[SubnetConflict]] = {}
                for conflict in find_conflicts(subnets=specs):
                    for subnet in conflict.subnets:
                        by_name.setdefault(subnet, []).append(conflict)
                self._specs = specs
                self._by_name = {n: tuple(c) for n, c in by_name.items()}
        return self._by_name.get(name, ())

    def rivals_of(self, name: str) -> set[str]:
        """Subnets in a conflict with ``name`` now: a change to it may change their verdict."""
        return {n for c in self.involving(name) for n in c.subnets if n != name}
