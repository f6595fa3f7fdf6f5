"""Start-up: rebuild the IPAM from the IP objects before any allocation.

The IP object is written first in every allocation, so it is the durable
record (state rebuilt from pod annotations alone is how Kube-OVN #4304 handed
out duplicates). Pools are registered for every subnet that would serve,
including subnets being deleted (their allocations must keep the deletion
blocked), then every IP object is replayed into them. Allocations recorded
only in pod annotations (``<provider>.kubernetes.io/allocated: "true"`` with
no IP object, as a pod annotated by another controller has) are replayed
after them, so an IP object always wins over an annotation. Two claims of
one address, or a claim naming an unknown subnet, are reported and left out:
neither claimant is overwritten.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence

from ovnctl.caches import SubnetCache, SubnetRecord
from ovnctl.caches.pods import PodRecord
from ovnctl.ipam import IPAM, AllocationRecord, IPAMError, RebuildReport
from ovnctl.k8s.resources import IPS
from ovnctl.k8s.writer import Writer
from ovnctl.models import (
    IpRecord,
    ModelError,
    allocated_provider,
    ip_object_name,
    meta_name,
    object_meta,
    parse_ip_object,
    read_allocation,
)
from ovnctl.models.subnet import SubnetSpec
from ovnctl.reconcilers.ledger import NicLedger

__all__ = ["rebuild_ipam"]

logger = logging.getLogger(__name__)

ServingSpec = Callable[[SubnetRecord], Awaitable[SubnetSpec | None]]
"""The spec to register for a subnet, or None when it may not serve."""


def _annotated_allocations(
    pods: Iterable[PodRecord], known: set[str], ledger: NicLedger
) -> list[AllocationRecord]:
    """Allocations pods record in annotations that no IP object records."""
    records: list[AllocationRecord] = []
    for pod in pods:
        annotations = pod.annotation_map()
        for key, value in annotations.items():
            provider = allocated_provider(key, value)
            if provider is None:
                continue
            nic = ip_object_name(owner=pod.owner.name, namespace=pod.namespace, provider=provider)
            if nic in known:
                continue
            try:
                allocation = read_allocation(annotations=annotations, provider=provider)
            except ModelError as exc:
                logger.warning("pod %s/%s: allocation not restored: %s", *pod.key, exc)
                continue
            if allocation is None:
                continue
            known.add(nic)
            ledger.record(nic, owner=(pod.namespace, pod.owner.name), is_vm=pod.owner.is_vm)
            records.append(
                AllocationRecord(
                    owner=nic,
                    ips=allocation.ips,
                    mac=allocation.mac or "",
                    subnet=allocation.subnet,
                )
            )
    return records


async def rebuild_ipam(
    *,
    api: Writer,
    ipam: IPAM,
    subnets: SubnetCache,
    serving_spec: ServingSpec,
    ledger: NicLedger,
    pods: Iterable[PodRecord] = (),
    page_size: int = 500,
    reserved: Sequence[AllocationRecord] = (),
) -> RebuildReport:
    """Register the serving subnets' pools, then replay IP objects and pod annotations.

    ``reserved`` (Vip reservations, from their status) are replayed first: an IP
    object carrying a reserved address is a pod using the Vip, not an owner of its
    own, so it goes into the ledger but not into the IPAM.
    """
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
    ip_objects: list[IpRecord] = []
    malformed = 0
    async for page in api.list_pages(IPS, limit=page_size):
        for body in page:
            try:
                ip = parse_ip_object(body=body)
            except ModelError as exc:
                malformed += 1
                name = meta_name(object_meta(body))
                logger.warning("IP object %s ignored at start-up: %s", name, exc)
                continue
            ip_objects.append(ip)
            records.append(
                AllocationRecord(owner=ip.name, ips=ip.ips, mac=ip.mac or "", subnet=ip.subnet)
            )
    # Every IP object goes into the ledger, refused or not: its pod's release must
    # still delete it. Only the IPAM decides who holds an address.
    ledger.rebuild(ip_objects)
    from_annotations = _annotated_allocations(pods, {ip.name for ip in ip_objects}, ledger)
    # An annotation whose addresses an IP object already records is that NIC under
    # another name (an IPAMClaim's NIC is named after the claim, not the pod): the IP
    # object wins anyway, so it is not replayed (nor reported as a conflict).
    recorded = {(r.subnet, ip) for r in records for ip in r.ips}
    from_annotations = [
        r for r in from_annotations if not all((r.subnet, ip) in recorded for ip in r.ips)
    ]
    lent = {(r.subnet, ip) for r in reserved for ip in r.ips}
    if lent:
        records = [r for r in records if not any((r.subnet, ip) in lent for ip in r.ips)]
        from_annotations = [
            r for r in from_annotations if not any((r.subnet, ip) in lent for ip in r.ips)
        ]
    report = ipam.rebuild([*reserved, *records, *from_annotations])
    for conflict in report.conflicts:
        logger.error(
            "IP object %s not restored (%s): %s",
            conflict.record.owner,
            conflict.reason,
            conflict.detail,
        )
    logger.info(
        "IPAM rebuilt from %d IP objects and %d pod annotations in %.3fs: "
        "%d recorded, %d conflicts, %d malformed",
        len(records),
        len(from_annotations),
        time.monotonic() - started,
        report.recorded,
        len(report.conflicts),
        malformed,
    )
    return report
