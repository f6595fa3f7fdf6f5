"""Admission review of IPPools: the IPPool reconciler's rules, told at ``kubectl apply`` time.

Kopf's ``@kopf.on.validate`` handler for ``kubeovn.io/v1 ippools``
(:mod:`ovnctl.k8s.kopf_subnets`; a validating handler makes Kopf serve the
kind, not watch it: IPPools stay on ovnctl's own reflector) calls
:meth:`IPPoolAdmission.review` for every CREATE and UPDATE. The rules are the
reconciler's, called here rather than re-written:

- the spec parses (:func:`~ovnctl.models.ippool.parse_ippool`: ``spec.subnet``
  set, ``spec.ips`` non-empty, each entry an IP, ``a..b`` range or CIDR);
- ``spec.subnet`` does not change (:func:`~.ippool.subnet_change`; the CRD's
  CEL rule says so too, on servers that run CEL);
- no entry lies outside the subnet or inside its ``excludeIps``
  (:func:`~ovnctl.ipam.check_pool`);
- no entry shares an address with another pool of the subnet
  (:func:`~ovnctl.ipam.check_overlaps`).

Only which pools count as rivals differs. The reconciler holds a pool against
the *older* pools of its subnet (the older keeps serving). Admission refuses
a new pool that shares any address with an existing one, and an edit that
makes a pool share an address it did not share before (with any pool, older
or younger: taking addresses from a serving younger pool would take them
from its pods' future allocations). An edit that leaves an old overlap as it
was is admitted, so a pool refused before the webhook existed can still be
fixed one step at a time; the reconciler keeps reporting it until then.

A missing subnet is admitted with a warning (it may be created next; the pool
is not Ready until it is). Reviews read only caches (IPPools, Subnets, the
IPAM's subnet pools), never the API server, so both replicas answer alike.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from ovnctl.caches import IPPoolCache, SubnetCache
from ovnctl.ipam import IPAM, Family, SubnetPool, check_overlaps, check_pool, overlap, without
from ovnctl.ipam.errors import IPAMError
from ovnctl.ipam.ranges import IntervalSet
from ovnctl.k8s.kopf_subnets import AdmissionVerdict
from ovnctl.models import meta_deleting, meta_name, object_meta
from ovnctl.models.ippool import IPPoolSpec, parse_ippool
from ovnctl.models.subnet import SubnetSpec
from ovnctl.reconcilers.ippool import subnet_change, verdict_of

__all__ = ["IPPoolAdmission"]

_SHAPES_KEPT = 64
"""Subnet pools built from the cache for subnets the IPAM does not hold (the standby, a
subnet not Ready yet): one per subnet shape, so a burst of reviews builds each once."""


class IPPoolAdmission:
    """Reviews IPPool specs against the caches."""

    def __init__(self, *, pools: IPPoolCache, subnets: SubnetCache, ipam: IPAM) -> None:
        self._pools = pools
        self._subnets = subnets
        self._ipam = ipam
        self._shapes: OrderedDict[tuple[str, str, str, tuple[str, ...]], SubnetPool] = OrderedDict()

    def review(
        self, operation: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
    ) -> AdmissionVerdict:
        """The verdict on ``new`` (and ``old``, on UPDATE): a denial names field and value."""
        if new is None:
            return AdmissionVerdict()
        metadata = object_meta(new)
        name = meta_name(metadata) or ""
        previous = old if operation == "UPDATE" else None
        if previous is not None and (
            previous.get("spec") == new.get("spec") or meta_deleting(metadata)
        ):
            # Status, labels, a deletion in progress: refusing now could only wedge them.
            return AdmissionVerdict()
        spec = parse_ippool(new)
        if spec.error:
            return AdmissionVerdict(denial=f"IPPool {name!r}: {spec.error}")
        before = parse_ippool(previous) if previous is not None else None
        if before is not None and before.subnet:
            changed = subnet_change(before.subnet, spec.subnet)
            if changed is not None:
                return AdmissionVerdict(denial=f"IPPool {name!r}: {changed.message}")
        subnet = self._subnet_pool(spec.subnet)
        if subnet is None:
            return AdmissionVerdict(
                warnings=(
                    f"IPPool {name!r}: spec.subnet: {spec.subnet!r} names no Subnet, or an "
                    "invalid one; the IPPool will not be Ready until the Subnet is",
                )
            )
        problems = check_pool(spec.ips, subnet) or check_overlaps(
            spec.ips, self._rivals(name, spec, before)
        )
        if problems:
            return AdmissionVerdict(denial=f"IPPool {name!r}: {verdict_of(problems).message}")
        return AdmissionVerdict()

    def _rivals(
        self, name: str, spec: IPPoolSpec, before: IPPoolSpec | None
    ) -> Iterator[tuple[str, Mapping[Family, IntervalSet]]]:
        """Every other valid pool of the subnet, less what this pool already shared with it."""
        for other_name in self._pools.names_for_subnet(spec.subnet):
            other = self._pools.get(other_name)
            if other is None or other.name == name or other.spec.error:
                continue
            ranges: Mapping[Family, IntervalSet] = other.spec.ranges
            if before is not None and overlap(before.ranges, ranges):
                ranges = without(ranges, before.ranges)
            yield other.name, ranges

    def _subnet_pool(self, name: str) -> SubnetPool | None:
        """The IPAM's pool of ``name`` (what the reconciler checks), else one built from the
        cached spec; None when the subnet is missing or invalid."""
        if name in self._ipam:
            return self._ipam.subnet(name)
        record = self._subnets.get(name)
        if record is None or record.spec is None:
            return None
        return self._shaped(record.spec)

    def _shaped(self, spec: SubnetSpec) -> SubnetPool | None:
        key = (spec.name, spec.cidr_block, spec.gateway, spec.exclude_ips)
        pool = self._shapes.get(key)
        if pool is not None:
            self._shapes.move_to_end(key)
            return pool
        try:
            pool = SubnetPool(
                spec.name, spec.cidr_block, gateway=spec.gateway, exclude_ips=spec.exclude_ips
            )
        except IPAMError:
            return None  # parse_subnet accepted it, so this is not expected; admit, warn
        self._shapes[key] = pool
        if len(self._shapes) > _SHAPES_KEPT:
            self._shapes.popitem(last=False)
        return pool
