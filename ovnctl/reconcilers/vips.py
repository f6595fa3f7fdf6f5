"""The Vip reconciler: reserve a Vip's address, report it, free it when the Vip goes.

A ``kubeovn.io/v1`` Vip reserves one address per family of its subnet (the
requested ``v4ip``/``v6ip``, else the lowest free) and a MAC, held in the IPAM
by the owner :func:`vip_owner` (``vip:<name>``; a colon never occurs in an IP
object name, so it never collides with a NIC). ``status.v4ip``, ``v6ip``,
``mac`` and a ``Ready`` condition report it; the status is the durable record
the start-up rebuild reads back (see :func:`vip_records`).

A pod annotated ``ovn.kubernetes.io/vip: <name>`` uses that reservation (see
:mod:`.pools`): its NIC's IP object carries the Vip's address, but the IPAM
owner stays the Vip, so the pod's deletion never frees it. Deleting the Vip
frees the address, unless a pod still uses it: then the Vip keeps its
finalizer, gets a ``VipInUse`` Warning Event, and is looked at again until the
pod is gone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

from ovnctl.caches import PodKey, SubnetCache, VipCache, VipRecord
from ovnctl.ipam import IPAM, AllocationRecord, IPAMError
from ovnctl.k8s.api import NotFound
from ovnctl.k8s.events import EventRecorder, InvolvedObject
from ovnctl.k8s.resources import VIPS
from ovnctl.k8s.writer import Writer
from ovnctl.queue import Done, RequeueAfter, Result
from ovnctl.reconcilers.conditions import (
    Verdict,
    merge_conditions,
    now_rfc3339,
    subnet_unusable,
)

__all__ = ["FINALIZER", "VipReconciler", "vip_owner", "vip_records"]

FINALIZER = "kubeovn.io/ovnctl"
IN_USE_RECHECK_SECONDS = 2.0
"""How soon a Vip whose deletion waits for a pod is looked at again."""


def vip_owner(name: str) -> str:
    """The IPAM owner key of Vip ``name``."""
    return f"vip:{name}"


def vip_records(vips: Iterable[VipRecord]) -> list[AllocationRecord]:
    """The reservations recorded in Vip status, for the start-up rebuild."""
    records: list[AllocationRecord] = []
    for vip in vips:
        status = vip.status
        ips = tuple(
            str(status[k]) for k in ("v4ip", "v6ip") if isinstance(status.get(k), str) and status[k]
        )
        if ips and vip.subnet:
            mac = status.get("mac")
            records.append(
                AllocationRecord(
                    owner=vip_owner(vip.name),
                    ips=ips,
                    mac=mac if isinstance(mac, str) else "",
                    subnet=vip.subnet,
                )
            )
    return records


class VipReconciler:
    """``await reconciler(name)`` reserves, reports or frees one Vip's address."""

    def __init__(
        self,
        *,
        vips: VipCache,
        subnets: SubnetCache,
        ipam: IPAM,
        serves: Callable[[str], bool],
        users: Callable[[str], list[PodKey]],
        api: Writer,
        events: EventRecorder,
        on_changed: Callable[[str, str], None],
    ) -> None:
        self._vips = vips
        self._subnets = subnets
        self._ipam = ipam
        self._serves = serves
        self._users = users
        self._api = api
        self._events = events
        self._on_changed = on_changed  # (vip name, subnet): wake its pods, refresh status

    async def __call__(self, name: str) -> Result:
        record = self._vips.get(name)
        if record is None:
            # Gone without our finalizer (never reconciled): nothing may still hold it.
            self._release(name)
            return Done
        if record.deleting:
            return await self._delete(record)
        if FINALIZER not in record.finalizers:
            await self._patch_finalizers(record, (*record.finalizers, FINALIZER))
        problem = self._reserve(record)
        await self._write_status(record, problem)
        return Done

    def _reserve(self, record: VipRecord) -> Verdict | None:
        if record.type:
            return Verdict(
                type="Ready",
                status=False,
                reason="UnsupportedType",
                message=(
                    f"spec.type: {record.type!r} is not served; "
                    'ovnctl serves reservations (type "")'
                ),
            )
        if not record.subnet:
            return Verdict(
                type="Ready", status=False, reason="InvalidSpec", message="spec.subnet: required"
            )
        unusable = subnet_unusable(
            record.subnet, subnets=self._subnets, serves=self._serves, ipam=self._ipam
        )
        if unusable is not None:
            return unusable
        owner = vip_owner(record.name)
        before = self._ipam.get(record.subnet, owner)
        for other in self._ipam.lookup(owner):
            if other.subnet != record.subnet:  # the spec moved it to another subnet
                self._ipam.release(owner, subnet=other.subnet)
                self._on_changed(record.name, other.subnet)
        try:
            allocation = self._ipam.allocate(
                record.subnet, owner, ips=record.requested or None, mac=record.mac or None
            )
        except IPAMError as exc:
            field = "spec.v4ip/v6ip" if record.requested else "spec.subnet"
            return Verdict(
                type="Ready",
                status=False,
                # The same reason a pod's Event gives for the same request (one vocabulary).
                reason=exc.reason,
                message=f"{field}: {exc}",
            )
        if allocation != before:
            self._on_changed(record.name, record.subnet)
        return None

    async def _delete(self, record: VipRecord) -> Result:
        users = self._users(record.name)
        if users:
            shown = ", ".join(f"{ns}/{pod}" for ns, pod in sorted(users)[:5])
            await self._events.warning(
                _involved(record),
                reason="VipInUse",
                message=f"Vip {record.name!r} is still used by pod {shown}; its address is "
                "freed when no pod uses it",
            )
            return RequeueAfter(IN_USE_RECHECK_SECONDS)
        self._release(record.name)
        if FINALIZER in record.finalizers:
            await self._patch_finalizers(
                record, tuple(f for f in record.finalizers if f != FINALIZER)
            )
        return Done

    def _release(self, name: str) -> None:
        for allocation in self._ipam.release(vip_owner(name)):
            self._on_changed(name, allocation.subnet)

    async def _patch_finalizers(self, record: VipRecord, finalizers: tuple[str, ...]) -> None:
        with contextlib.suppress(NotFound):
            await self._api.patch(
                VIPS,
                name=record.name,
                body={
                    "metadata": {
                        "finalizers": list(finalizers),
                        "resourceVersion": record.resource_version,
                    }
                },
            )

    async def _write_status(self, record: VipRecord, problem: Verdict | None) -> None:
        allocation = (
            self._ipam.get(record.subnet, vip_owner(record.name)) if problem is None else None
        )
        fields: dict[str, object] = {"v4ip": "", "v6ip": "", "mac": ""}
        if allocation is not None:
            for ip in allocation.ips:
                fields["v6ip" if ":" in ip else "v4ip"] = ip
            fields["mac"] = allocation.mac
        verdict = problem or Verdict(type="Ready", status=True, reason="VipReady")
        current = record.status
        previous = current.get("conditions")
        conditions = merge_conditions(
            previous if isinstance(previous, list) else None,
            [verdict],
            generation=record.generation,
            now=now_rfc3339(),
        )
        desired = {**fields, "conditions": conditions}
        if all(current.get(k) == v for k, v in desired.items()):
            return
        if problem is not None and current.get("conditions") != conditions:
            await self._events.warning(
                _involved(record), reason=problem.reason, message=problem.message
            )
        with contextlib.suppress(NotFound):
            await self._api.patch(
                VIPS, name=record.name, subresource="status", body={"status": desired}
            )


def _involved(record: VipRecord) -> InvolvedObject:
    return InvolvedObject(api_version="kubeovn.io/v1", kind="Vip", name=record.name, uid=record.uid)
