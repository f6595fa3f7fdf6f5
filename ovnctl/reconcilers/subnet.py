"""The Subnet reconciler: validate, check the NAD, register the pool, report status.

Run by the worker pool for a Subnet name. It reads the Subnet cache and the
NAD through the lookup it is given (the NAD cache: zero API reads), decides validity with
:mod:`ovnctl.models.subnet`, registers or updates the subnet's pool in the
IPAM, and writes ``status`` (usage per family and the ``Validated``, ``Ready``
and ``Error`` conditions) only when it changed. Every problem is also a
Warning Event on the Subnet.

Cross-subnet rules (two subnets of one provider overlapping, more than one
``default: true``) refuse the *newer* subnet, so a working subnet is never
broken by someone creating a conflicting one. Refused subnets are
remembered, so a change to any subnet re-evaluates them and they recover by
themselves once the conflict goes away. What it decides per subnet (serving,
refused, the switch ensured) it writes into :class:`~.subnet_states.SubnetStates`,
which the other reconcilers and the key router read.

Deletion is held by a finalizer while the IPAM still records allocations in
the subnet; an empty subnet is released at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from ovnctl.caches import SubnetCache, SubnetRecord
from ovnctl.ipam import IPAM, IPAMError
from ovnctl.k8s.api import NotFound
from ovnctl.k8s.events import EventRecorder, InvolvedObject
from ovnctl.k8s.resources import SUBNETS
from ovnctl.k8s.writer import Writer
from ovnctl.models import NadConfig, nad_problem
from ovnctl.models.subnet import SubnetSpec
from ovnctl.ovn import Northbound, NullNorthbound, SwitchSpec
from ovnctl.queue import Done, RequeueAfter, Result
from ovnctl.reconcilers.conditions import Verdict, merge_conditions, now_rfc3339
from ovnctl.reconcilers.subnet_states import SubnetConflicts, SubnetStates

__all__ = ["FINALIZER", "NadLookup", "SubnetReconciler", "SubnetVerdict"]

logger = logging.getLogger(__name__)

FINALIZER = "kubeovn.io/ovnctl"
"""Held on every Subnet while the IPAM records allocations in it."""

SPEC_WARNING = "SpecWarning"
"""Event reason for a spec that serves but not quite as written (see SubnetVerdict.warnings)."""

TERMINATING_RECHECK_SECONDS = 30.0
"""A deleting subnet is looked at again this often, in case a release was missed."""

NadLookup = Callable[[str, str], Awaitable[NadConfig | None]]
"""``(namespace, name) -> NadConfig | None``: how a subnet's NAD is read (the cache)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SubnetVerdict:
    """Everything one evaluation concluded about a subnet."""

    spec: SubnetSpec | None
    """The spec to register in the IPAM, or None when the subnet is refused."""
    problems: tuple[Verdict, ...]
    """Failed checks, first one decisive; empty when the subnet can serve."""
    refused_by_conflict: bool
    warnings: tuple[str, ...] = ()
    """Not fatal (excludeIps clipped, ignored fields that matter, a NAD's declared provider)."""


class SubnetReconciler:
    """``await reconciler(name)`` brings one Subnet's pool and status up to date."""

    def __init__(
        self,
        *,
        subnets: SubnetCache,
        nad_lookup: NadLookup,
        ipam: IPAM,
        api: Writer,
        events: EventRecorder,
        states: SubnetStates,
        conflicts: SubnetConflicts,
        northbound: Northbound | None = None,
    ) -> None:
        self._subnets = subnets
        self._states = states  # written here only; everyone else reads it
        self._conflicts = conflicts
        self._northbound: Northbound = northbound if northbound is not None else NullNorthbound()
        self._nad_lookup = nad_lookup
        self._ipam = ipam
        self._api = api
        self._events = events
        self._written: dict[str, tuple[str, dict[str, object]]] = {}
        """Per subnet: (uid, status) last written and not yet seen back in the cache."""
        self._applied: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        """Per subnet: the spec its pool last took. Re-applying the same spec changes
        nothing but costs time in the number of addresses held, and an allocation burst
        reconciles each subnet every STATUS_COALESCE_SECONDS to refresh its usage."""

    async def __call__(self, name: str) -> Result:
        record = self._subnets.get(name)
        if record is None:
            # Gone from the cluster (the finalizer was already removed): forget its pool.
            self._ipam.remove_subnet(name)
            self._applied.pop(name, None)
            self._states.forget(name)
            self._written.pop(name, None)
            return Done
        if record.deleting:
            self._states.set_ready(name, False)
            return await self._finish_deletion(record)
        if FINALIZER not in record.finalizers:
            await self._set_finalizers(record, (*record.finalizers, FINALIZER))

        verdict = await self.evaluate(record)
        self._states.set_refused(name, verdict.refused_by_conflict)
        problems = list(verdict.problems)
        if verdict.spec is not None:
            problems.extend(await self._register(verdict.spec, record))
        self._states.set_ready(name, not problems)
        await self._write_status(record, problems=problems, warnings=verdict.warnings)
        for problem in problems:
            await self._events.warning(
                _involved(record), reason=problem.reason, message=problem.message
            )
        for warning in verdict.warnings:
            await self._events.warning(_involved(record), reason=SPEC_WARNING, message=warning)
        if verdict.spec is not None and verdict.spec.has_logical_switch and name in self._ipam:
            # Last, so an unreachable NB delays only the switch: the error requeues the
            # subnet with backoff, and ports wait for their switch (a retryable error).
            await self._ensure_switch(verdict.spec)
        return Done

    async def _ensure_switch(self, spec: SubnetSpec) -> None:
        if not self._northbound.enabled:
            return
        desired = SwitchSpec.from_subnet(spec)
        if self._states.switches.get(spec.name) == desired:
            return  # one NB transaction per change, none per reconcile
        await self._northbound.ensure_subnet(desired)
        self._states.set_switch(spec.name, desired)

    async def evaluate(self, record: SubnetRecord) -> SubnetVerdict:
        """Validity, cross-subnet rules and the provider's NAD, without side effects."""
        if record.spec is None:
            message = str(record.error) if record.error else "invalid spec"
            return SubnetVerdict(
                spec=None,
                problems=(
                    Verdict(type="Validated", status=False, reason="InvalidSpec", message=message),
                ),
                refused_by_conflict=False,
            )
        spec = record.spec
        conflict = self._losing_conflict(record, spec)
        if conflict is not None:
            return SubnetVerdict(spec=None, problems=(conflict,), refused_by_conflict=True)
        warnings = spec.warnings
        ref = spec.provider_ref
        if ref is not None:
            nad = await self._nad_lookup(ref.nad_namespace, ref.nad_name)
            problem = nad_problem(nad=nad, provider=spec.provider)
            if nad is not None and nad.warning:
                where = f"NetworkAttachmentDefinition {ref.nad_namespace}/{ref.nad_name}"
                warnings = (*warnings, f"{where}: {nad.warning}")
            if problem is not None:
                return SubnetVerdict(
                    spec=spec,
                    problems=(
                        Verdict(
                            type="Ready",
                            status=False,
                            reason=problem.reason,
                            message=problem.message,
                        ),
                    ),
                    refused_by_conflict=False,
                    warnings=warnings,
                )
        return SubnetVerdict(spec=spec, problems=(), refused_by_conflict=False, warnings=warnings)

    def _losing_conflict(self, record: SubnetRecord, spec: SubnetSpec) -> Verdict | None:
        # Subnets being deleted still count: until their finalizer goes they may hold
        # addresses, and a newer overlapping subnet must not hand those out again.
        conflicts = self._conflicts.involving(record.name)
        if not conflicts:
            return None
        others = {r.name: r for r in self._subnets if r.name != record.name}
        refused = self._states.refused
        mine = self._seniority(record)
        for conflict in conflicts:
            # A rival refused for a conflict of its own serves nothing: it cannot refuse
            # anyone (as Kube-OVN's webhook would have rejected it in the first place).
            rivals = [others[n] for n in conflict.subnets if n in others and n not in refused]
            # The senior subnet keeps serving; every other one in the conflict gives way.
            if any(self._seniority(r) < mine for r in rivals):
                return Verdict(
                    type="Validated", status=False, reason=conflict.reason, message=conflict.message
                )
        return None

    def _seniority(self, record: SubnetRecord) -> tuple[int, str, str]:
        """Who wins a conflict: a subnet already serving, then the older, then by name.

        ``creationTimestamp`` has one-second resolution, so age alone cannot tell
        apart two subnets created in the same second; without the serving rank, a
        working subnet could be refused because a newcomer's name sorts first.
        """
        return (0 if self._was_serving(record) else 1, record.created, record.name)

    def _was_serving(self, record: SubnetRecord) -> bool:
        if self._states.ready(record.name):
            return True
        # After a restart: what the previous controller last reported.
        conditions = record.status.get("conditions")
        return isinstance(conditions, list) and any(
            isinstance(c, Mapping) and c.get("type") == "Ready" and c.get("status") == "True"
            for c in conditions
        )

    async def _register(self, spec: SubnetSpec, record: SubnetRecord) -> list[Verdict]:
        applied = (spec.cidr_block, spec.gateway, tuple(spec.exclude_ips))
        if spec.name in self._ipam and self._applied.get(spec.name) == applied:
            return []
        try:
            report = self._ipam.apply_subnet(
                spec.name, spec.cidr_block, gateway=spec.gateway, exclude_ips=spec.exclude_ips
            )
        except IPAMError as exc:
            self._applied.pop(spec.name, None)
            return [Verdict(type="Validated", status=False, reason="InvalidSpec", message=str(exc))]
        self._applied[spec.name] = applied
        if report.conflicts:
            shown = ", ".join(f"{c.owner}={c.ip} ({c.reason})" for c in report.conflicts[:10])
            more = len(report.conflicts) - 10
            await self._events.warning(
                _involved(record),
                reason="AllocationsOutsideSpec",
                message=f"{len(report.conflicts)} existing allocations no longer fit the spec "
                f"and were kept: {shown}" + (f" and {more} more" if more > 0 else ""),
            )
        return []

    async def _write_status(
        self, record: SubnetRecord, *, problems: Sequence[Verdict], warnings: Sequence[str]
    ) -> None:
        first = problems[0] if problems else None
        validation_problem = next((p for p in problems if p.type == "Validated"), None)
        verdicts = [
            validation_problem
            or Verdict(
                type="Validated",
                status=True,
                reason="ValidationPassed",
                message="; ".join(warnings),
            ),
            Verdict(type="Ready", status=False, reason=first.reason, message=first.message)
            if first
            else Verdict(type="Ready", status=True, reason="SubnetReady"),
            Verdict(type="Error", status=True, reason=first.reason, message=first.message)
            if first
            else Verdict(type="Error", status=False, reason="NoError"),
        ]
        fields: dict[str, object] = {}
        if record.name in self._ipam:
            fields.update(self._ipam.usage(record.name).status_fields())
        else:
            fields.update(_EMPTY_USAGE)
        await self._patch_status_if_changed(record, fields=fields, verdicts=verdicts)

    async def _patch_status_if_changed(
        self, record: SubnetRecord, *, fields: Mapping[str, object], verdicts: Sequence[Verdict]
    ) -> None:
        current = record.status
        written = self._written.get(record.name)
        if written is not None and written[0] == record.uid:
            if all(current.get(key) == value for key, value in written[1].items()):
                # The cache caught up with our last write: trust it again from now on.
                del self._written[record.name]
            else:
                # The cache still shows an older status (a reconcile triggered by our own
                # finalizer patch, say): compare with what we wrote, not with the past.
                current = written[1]
        conditions = merge_conditions(
            current.get("conditions"), verdicts, generation=record.generation, now=now_rfc3339()
        )
        desired = {**fields, "conditions": conditions}
        if all(current.get(key) == value for key, value in desired.items()):
            return
        # NotFound: deleted meanwhile; its deletion event comes next.
        with contextlib.suppress(NotFound):
            await self._api.patch(
                SUBNETS, name=record.name, subresource="status", body={"status": desired}
            )
            self._written[record.name] = (record.uid, desired)

    async def _finish_deletion(self, record: SubnetRecord) -> Result:
        held = (
            list(self._ipam.subnet(record.name).allocations()) if record.name in self._ipam else []
        )
        if held:
            owners = ", ".join(sorted(a.owner for a in held)[:10])
            message = f"waiting for {len(held)} allocations to be released: {owners}"
            await self._patch_status_if_changed(
                record,
                fields=self._ipam.usage(record.name).status_fields(),
                verdicts=[
                    Verdict(
                        type="Validated",
                        status=record.spec is not None,
                        reason="Terminating",
                        message=message,
                    ),
                    Verdict(type="Ready", status=False, reason="Terminating", message=message),
                    Verdict(type="Error", status=False, reason="NoError"),
                ],
            )
            return RequeueAfter(TERMINATING_RECHECK_SECONDS)
        if self._northbound.enabled:
            # Before the finalizer goes: once it does, nothing would remove the switch.
            await self._northbound.delete_subnet(record.name)
        self._states.forget(record.name)
        self._ipam.remove_subnet(record.name)
        self._applied.pop(record.name, None)
        if FINALIZER in record.finalizers:
            await self._set_finalizers(
                record, tuple(f for f in record.finalizers if f != FINALIZER)
            )
        return Done

    async def _set_finalizers(self, record: SubnetRecord, finalizers: tuple[str, ...]) -> None:
        # The resourceVersion makes this a compare-and-swap: a concurrent change to the
        # finalizers list answers 409 and the key is retried against the newer object.
        await self._api.patch(
            SUBNETS,
            name=record.name,
            body={
                "metadata": {
                    "finalizers": list(finalizers),
                    "resourceVersion": record.resource_version,
                }
            },
        )


_EMPTY_USAGE: dict[str, object] = {
    f"{family}{field}": (0 if field.endswith("IPs") else "")
    for family in ("v4", "v6")
    for field in ("availableIPs", "usingIPs", "availableIPrange", "usingIPrange")
}


def _involved(record: SubnetRecord) -> InvolvedObject:
    return InvolvedObject(
        api_version="kubeovn.io/v1", kind="Subnet", name=record.name, uid=record.uid
    )
