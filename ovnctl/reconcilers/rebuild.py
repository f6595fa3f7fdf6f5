"""Start-up: rebuild the IPAM from the IP objects before any allocation.

The IP object is written first in every allocation, so it is the durable
record (state rebuilt from pod annotations alone is how Kube-OVN #4304 handed
out duplicates). Pools are registered for every subnet that would serve,
including subnets being deleted (their allocations must keep the deletion
blocked), then every IP object is replayed into them. Two objects claiming
one address, or an object naming an unknown subnet, are reported and left
out: neither claimant is overwritten.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from ovnctl.caches import SubnetCache, SubnetRecord
from ovnctl.ipam import IPAM, AllocationRecord, IPAMError, RebuildReport
from ovnctl.k8s.api import KubeApi
from ovnctl.k8s.resources import IPS
from ovnctl.models import ModelError, parse_ip_object
from ovnctl.models.subnet import SubnetSpec

__all__ = ["rebuild_ipam"]

logger = logging.getLogger(__name__)

ServingSpec = Callable[[SubnetRecord], Awaitable[SubnetSpec | None]]
"""The spec to register for a subnet, or None when it may not serve."""


async def rebuild_ipam(
    *,
    api: KubeApi,
    ipam: IPAM,
    subnets: SubnetCache,
    serving_spec: ServingSpec,
    page_size: int = 500,
) -> RebuildReport:
    """Register the serving subnets' pools, then replay every IP object into them."""
    started = time.monotonic()
    for record in subnets:
        spec = await serving_spec(record)
        if spec is None:
            continue
        try:
            ipam.apply_subnet(
                spec.name, spec.cidr_block, gateway=spec.gateway, exclude_ips=spec.exclude_ips
            )
        except IPAMError as exc:
            logger.warning("subnet %s not registered at start-up: %s", spec.name, exc)

    records: list[AllocationRecord] = []
    malformed = 0
    async for page in api.list_pages(IPS, limit=page_size):
        for body in page:
            try:
                ip = parse_ip_object(body=body)
            except ModelError as exc:
                malformed += 1
                name = (body.get("metadata") or {}).get("name")
                logger.warning("IP object %s ignored at start-up: %s", name, exc)
                continue
            records.append(
                AllocationRecord(owner=ip.name, ips=ip.ips, mac=ip.mac or "", subnet=ip.subnet)
            )
    report = ipam.rebuild(records)
    for conflict in report.conflicts:
        logger.error(
            "IP object %s not restored (%s): %s",
            conflict.record.owner,
            conflict.reason,
            conflict.detail,
        )
    logger.info(
        "IPAM rebuilt from %d IP objects in %.3fs: %d recorded, %d conflicts, %d malformed",
        len(records),
        time.monotonic() - started,
        report.recorded,
        len(report.conflicts),
        malformed,
    )
    return report
