"""The IPPool reconciler: decide whether a pool may serve, and write its status.

For an IPPool key: check the spec (parsed in the cache), that ``spec.subnet``
did not change (immutable in Kube-OVN; a real API server enforces it with the
CRD's CEL rule, the embedded one runs no CEL, so the controller refuses it
too), that the subnet exists and is Ready, that no entry lies outside the
subnet or inside its ``excludeIps``, and that no older pool of the same subnet
shares an address. A pool that passes goes into :attr:`IPPoolReconciler.serving`,
which the pool chooser (:mod:`.pools`) reads when it plans a pod's NICs; one that
fails is ``Ready=False`` with a reason and a message naming the entry, and pods
of its namespaces wait for it (never taking an address outside it).

The checks are functions (:func:`subnet_change`, :func:`~ovnctl.ipam.check_pool`,
:func:`~ovnctl.ipam.check_overlaps`, :func:`verdict_of`) that the admission
review (:mod:`.ippool_admission`) calls too, so a pool is refused at
``kubectl apply`` time with the message its condition would carry.

Status follows Kube-OVN's IPPool: ``v4AvailableIPs``, ``v4UsingIPs``,
``v6AvailableIPs``, ``v6UsingIPs`` (capital A and U, unlike Subnet's), the
matching ``...IPRange`` strings, and ``Validated``/``Ready``/``Error``
conditions; written only when it changes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ovnctl.caches import IPPoolCache, IPPoolRecord, SubnetCache
from ovnctl.ipam import (
    IPAM,
    AddressLimit,
    Family,
    PoolProblem,
    check_overlaps,
    check_pool,
    pool_usage,
)
from ovnctl.k8s.api import NotFound
from ovnctl.k8s.resources import IPPOOLS
from ovnctl.k8s.writer import Writer
from ovnctl.queue import Done, Result
from ovnctl.reconcilers.conditions import (
    Verdict,
    merge_conditions,
    now_rfc3339,
    subnet_unusable,
)

__all__ = [
    "IPPoolReconciler",
    "ServingPool",
    "older_rivals",
    "subnet_change",
    "verdict_of",
]

_SHOWN_PROBLEMS = 5
"""Problems spelled out in one condition message; the rest are counted."""


@dataclass(frozen=True, slots=True)
class ServingPool:
    """A pool that passed every check: where its pods' addresses come from."""

    name: str
    subnet: str
    namespaces: tuple[str, ...]
    limit: AddressLimit


def subnet_change(before: str, after: str) -> Verdict | None:
    """``spec.subnet`` changed from ``before``: refused (Kube-OVN's CEL rule says immutable).

    The reconciler compares with the subnet it first saw for the pool's uid; the
    admission review with the old object of an UPDATE.
    """
    if before == after:
        return None
    return Verdict(
        type="Validated",
        status=False,
        reason="SubnetImmutable",
        message=f"spec.subnet: changed from {before!r} to {after!r}; it is immutable "
        "(change it back, or delete the pool and create a new one)",
    )


def older_rivals(pools: IPPoolCache, record: IPPoolRecord) -> list[IPPoolRecord]:
    """Valid pools of ``record``'s subnet created before it (name breaks a tie)."""
    mine = (record.created, record.name)
    rivals: list[IPPoolRecord] = []
    for name in pools.names_for_subnet(record.spec.subnet):
        other = pools.get(name)
        if other is None or other.name == record.name or other.spec.error:
            continue
        if (other.created, other.name) < mine:
            rivals.append(other)
    return rivals


def verdict_of(problems: Sequence[PoolProblem], *, suffix: str = "") -> Verdict:
    """A ``Validated=False`` verdict: the first problem's reason, the messages joined."""
    shown = "; ".join(p.message for p in problems[:_SHOWN_PROBLEMS])
    more = len(problems) - _SHOWN_PROBLEMS
    if more > 0:
        shown += f"; and {more} more"
    return Verdict(
        type="Validated", status=False, reason=problems[0].reason, message=shown + suffix
    )


class IPPoolReconciler:
    """``await reconciler(name)`` decides one pool's standing and writes its status."""

    def __init__(
        self,
        *,
        pools: IPPoolCache,
        subnets: SubnetCache,
        ipam: IPAM,
        serves: Callable[[str], bool],
        api: Writer,
        on_standing_changed: Callable[[str], None],
    ) -> None:
        self._pools = pools
        self._subnets = subnets
        self._ipam = ipam
        self._serves = serves
        self._api = api
        self._on_standing_changed = on_standing_changed
        self.serving: dict[str, ServingPool] = {}
        """Pools that may serve now, by name."""
        self._bound: dict[str, str] = {}
        """uid -> the subnet the pool was first seen with (spec.subnet is immutable)."""
        self._written: dict[str, tuple[str, dict[str, object]]] = {}

    async def __call__(self, name: str) -> Result:
        record = self._pools.get(name)
        if record is None:
            if self.serving.pop(name, None) is not None:
                self._on_standing_changed(name)
            self._written.pop(name, None)
            return Done
        problem = self.evaluate(record)
        before = self.serving.get(name)
        if problem is None:
            spec = record.spec
            self.serving[name] = ServingPool(
                name, spec.subnet, spec.namespaces, AddressLimit(f"IPPool {name!r}", spec.ranges)
            )
        else:
            self.serving.pop(name, None)
        if before != self.serving.get(name):
            self._on_standing_changed(name)
        await self._write_status(record, problem)
        return Done

    def forget_uid(self, uid: str) -> None:
        """The pool with ``uid`` is gone: a new one of the same name may name any subnet."""
        self._bound.pop(uid, None)

    # -- the verdict ---------------------------------------------------------------------

    def evaluate(self, record: IPPoolRecord) -> Verdict | None:
        """Why the pool cannot serve (a ``Ready`` verdict), or None when it can."""
        spec = record.spec
        if spec.error:
            return Verdict(type="Validated", status=False, reason="InvalidSpec", message=spec.error)
        bound = self._bound.setdefault(record.uid, spec.subnet)
        changed = subnet_change(bound, spec.subnet)
        if changed is not None:
            return changed
        unusable = subnet_unusable(
            spec.subnet, subnets=self._subnets, serves=self._serves, ipam=self._ipam
        )
        if unusable is not None:
            return unusable
        problems = check_pool(spec.ips, self._ipam.subnet(spec.subnet))
        if problems:
            return verdict_of(problems)
        rivals = ((r.name, r.spec.ranges) for r in older_rivals(self._pools, record))
        overlaps = check_overlaps(spec.ips, rivals)
        if overlaps:
            return verdict_of(overlaps, suffix=" (the older pool keeps serving)")
        return None

    # -- status ----------------------------------------------------------------------------

    async def _write_status(self, record: IPPoolRecord, problem: Verdict | None) -> None:
        validated = (
            problem
            if problem is not None and problem.type == "Validated"
            else Verdict(type="Validated", status=True, reason="ValidationPassed")
        )
        verdicts = [
            validated,
            Verdict(type="Ready", status=False, reason=problem.reason, message=problem.message)
            if problem
            else Verdict(type="Ready", status=True, reason="IPPoolReady"),
            Verdict(type="Error", status=True, reason=problem.reason, message=problem.message)
            if problem
            else Verdict(type="Error", status=False, reason="NoError"),
        ]
        await self._patch_if_changed(record, self.usage_fields(record), verdicts)

    def usage_fields(self, record: IPPoolRecord) -> dict[str, object]:
        """The status counts and range strings (zeros when the subnet is unknown)."""
        fields: dict[str, object] = {}
        spec = record.spec
        usage = (
            pool_usage(spec.ranges, self._ipam.subnet(spec.subnet))
            if spec.subnet in self._ipam
            else {}
        )
        for family, prefix in ((Family.V4, "v4"), (Family.V6, "v6")):
            counts = usage.get(family)
            fields[f"{prefix}AvailableIPs"] = counts.available if counts else 0
            fields[f"{prefix}UsingIPs"] = counts.using if counts else 0
            fields[f"{prefix}AvailableIPRange"] = counts.available_range if counts else ""
            fields[f"{prefix}UsingIPRange"] = counts.using_range if counts else ""
        return fields

    async def _patch_if_changed(
        self,
        record: IPPoolRecord,
        fields: Mapping[str, object],
        verdicts: Sequence[Verdict],
    ) -> None:
        current: Mapping[str, object] = record.status
        written = self._written.get(record.name)
        if written is not None and written[0] == record.uid:
            if all(current.get(k) == v for k, v in written[1].items()):
                del self._written[record.name]  # the cache caught up with our write
            else:
                current = written[1]  # the cache lags behind our last write
        previous = current.get("conditions")
        conditions = merge_conditions(
            previous if isinstance(previous, list) else None,
            verdicts,
            generation=record.generation,
            now=now_rfc3339(),
        )
        desired: dict[str, object] = {**fields, "conditions": conditions}
        if all(current.get(k) == v for k, v in desired.items()):
            return
        with contextlib.suppress(NotFound):  # deleted meanwhile: its deletion event follows
            await self._api.patch(
                IPPOOLS, name=record.name, subresource="status", body={"status": desired}
            )
            self._written[record.name] = (record.uid, desired)
