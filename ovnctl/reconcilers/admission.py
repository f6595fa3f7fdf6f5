"""Admission review of Subnets: the reconciler's rules, told at ``kubectl apply`` time.

Kopf's ``@kopf.on.validate`` handler (:mod:`ovnctl.k8s.kopf_subnets`) calls
:meth:`SubnetAdmission.review` for every CREATE and UPDATE of a Subnet. The
rules are not re-written here: a spec is valid exactly when
:func:`~ovnctl.models.subnet.parse_subnet` accepts it (CIDR, protocol
agreement, gateway inside the CIDR, ``excludeIps`` syntax and range, provider
syntax), and two subnets conflict exactly when
:func:`~ovnctl.models.subnet.conflicts_for` says so (overlap within a
provider, a second ``default: true``): the functions the Subnet reconciler
and its cache use. The only rule the reconciler cannot apply is the one that
needs the previous object: ``cidrBlock`` and ``protocol`` do not change while
addresses are allocated (Kube-OVN treats ``cidrBlock`` as immutable).

A provider whose NetworkAttachmentDefinition is missing (or not usable yet)
is admitted with a warning: the NAD may be created next, and the reconciler
reports the Subnet not Ready until it is.

Reviews read only the caches (Subnets, NADs, the allocation count), never the
API server, so both replicas answer them the same way and in microseconds.
The webhook is a courtesy at apply time; the reconciler still refuses a bad
spec that reached the cluster (when the webhook was unreachable, say).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ovnctl.caches import NadCache, SubnetCache
from ovnctl.k8s.kopf_subnets import AdmissionVerdict
from ovnctl.models import ModelError, meta_deleting, meta_name, nad_problem, object_meta
from ovnctl.models.subnet import SubnetSpec, conflicts_for, parse_subnet

__all__ = ["SubnetAdmission"]

_CONFLICT_FIELDS = {"Overlap": "spec.cidrBlock", "MultipleDefaults": "spec.default"}


class SubnetAdmission:
    """Reviews Subnet specs against the caches."""

    def __init__(
        self, *, subnets: SubnetCache, nads: NadCache, allocated: Callable[[str], int]
    ) -> None:
        self._subnets = subnets
        self._nads = nads
        self._allocated = allocated

    def review(
        self, operation: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
    ) -> AdmissionVerdict:
        """The verdict on ``new`` (and ``old``, on UPDATE): a denial names field and value."""
        if new is None:
            return AdmissionVerdict()
        metadata = object_meta(new)
        name = meta_name(metadata) or ""
        unchanged = old is not None and old.get("spec") == new.get("spec")
        if operation == "UPDATE" and (unchanged or meta_deleting(metadata)):
            # Finalizers, labels, a deletion in progress: the spec is what was admitted
            # before, and refusing it now could only wedge a deletion.
            return AdmissionVerdict()
        try:
            spec = parse_subnet(body=new)
        except ModelError as exc:
            return AdmissionVerdict(denial=f"Subnet {name!r}: {_describe(exc)}")
        if operation == "UPDATE" and old is not None:
            denial = self._immutable(name, old, spec)
            if denial is not None:
                return AdmissionVerdict(denial=denial)
        others = (r.spec for r in self._subnets if r.spec is not None and r.name != name)
        for conflict in conflicts_for(subnet=spec, others=others):
            field = _CONFLICT_FIELDS.get(conflict.reason, "spec")
            return AdmissionVerdict(denial=f"Subnet {name!r}: {field}: {conflict.message}")
        return AdmissionVerdict(warnings=self._warnings(spec))

    def _immutable(self, name: str, old: Mapping[str, Any], spec: SubnetSpec) -> str | None:
        try:
            before: tuple[str, str] = _shape(parse_subnet(body=old))
        except ModelError:
            raw = old.get("spec") or {}
            before = (str(raw.get("cidrBlock") or ""), str(raw.get("protocol") or ""))
        after = _shape(spec)
        if before == after:
            return None
        held = self._allocated(name)
        if held <= 0:
            return None
        for field, was, now in zip(("spec.cidrBlock", "spec.protocol"), before, after, strict=True):
            if was != now:
                return (
                    f"Subnet {name!r}: {field}: cannot change from {was!r} to {now!r} while "
                    f"{held} addresses are allocated in it; release them first"
                )
        return None

    def _warnings(self, spec: SubnetSpec) -> tuple[str, ...]:
        warnings = [f"Subnet {spec.name!r}: {w}" for w in spec.warnings]
        ref = spec.provider_ref
        if ref is not None:
            problem = nad_problem(
                nad=self._nads.get(ref.nad_namespace, ref.nad_name), provider=spec.provider
            )
            if problem is not None:
                warnings.append(
                    f"Subnet {spec.name!r}: spec.provider: {problem.message}; the Subnet will "
                    "not be Ready until it is"
                )
        return tuple(warnings)


def _shape(spec: SubnetSpec) -> tuple[str, str]:
    return spec.cidr_block, str(spec.protocol)


def _describe(error: ModelError) -> str:
    """``field: detail``, with the value as written unless the detail already shows it."""
    if error.value and error.value not in error.detail and len(error.value) <= 200:
        return f"{error.field}: {error.value!r}: {error.detail}"
    return str(error)
