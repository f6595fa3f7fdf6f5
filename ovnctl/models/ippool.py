"""The ``kubeovn.io/v1`` IPPool: its spec parsed once per watch event.

An IPPool names a subnet and a block of its addresses (``spec.ips``: single
IPs, ``a..b`` ranges, CIDRs) for the pods of ``spec.namespaces``. The
entries are parsed into ranges per family here (never into addresses); a
malformed entry is kept as :attr:`IPPoolSpec.error`, naming the field and
value, because a broken pool must still be cached and told why it cannot
serve. Whether the entries fit the subnet is the reconciler's question (it
needs the subnet's pool): see :mod:`ovnctl.reconcilers.ippool`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ovnctl.ipam import Family, PoolEntryError, parse_pool_ips
from ovnctl.ipam.ranges import IntervalSet

__all__ = ["IPPoolSpec", "parse_ippool"]


@dataclass(frozen=True, slots=True)
class IPPoolSpec:
    """What ovnctl reads of an IPPool's spec (``enableAddressSet`` is preserved, unused)."""

    subnet: str
    ips: tuple[str, ...]
    namespaces: tuple[str, ...]
    ranges: Mapping[Family, IntervalSet] = field(compare=False)
    """Read-only: shared by every reader of the cache. Derived from ``ips``, so left out
    of equality and hashing (the informer fingerprints records by hash)."""
    error: str = field(default="")
    """Why the spec cannot be used (field, value and reason), or empty."""


def parse_ippool(body: Mapping[str, Any]) -> IPPoolSpec:
    """The spec of an IPPool body; never raises (problems land in ``error``)."""
    spec = body.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    subnet = spec.get("subnet")
    raw_ips = spec.get("ips")
    raw_namespaces = spec.get("namespaces")
    namespaces = tuple(
        ns.strip()
        for ns in (raw_namespaces if isinstance(raw_namespaces, list) else ())
        if isinstance(ns, str) and ns.strip()
    )
    ips = tuple(str(i) for i in raw_ips) if isinstance(raw_ips, list) else ()
    error = ""
    ranges: Mapping[Family, IntervalSet] = {}
    if not isinstance(subnet, str) or not subnet.strip():
        error = f"spec.subnet: {subnet!r} is required and must name a Subnet"
        subnet = ""
    elif not isinstance(raw_ips, list) or not raw_ips:
        error = f"spec.ips: {raw_ips!r} must list at least one IP, range or CIDR"
    else:
        try:
            ranges = parse_pool_ips(raw_ips)
        except PoolEntryError as exc:
            error = f"spec.ips: {exc.detail}"
    return IPPoolSpec(
        subnet=str(subnet).strip(), ips=ips, namespaces=namespaces, ranges=ranges, error=error
    )
