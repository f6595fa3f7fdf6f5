"""Read a cluster into an audit snapshot: paged LISTs through the API, and the NB.

``ovnctl ipam check`` and the chaos checker read the same way: each kind is
listed in pages (peak memory follows a page, never the cluster), and each page
is reduced to slim records at once (:class:`ovnctl.audit.Snapshot`). A LIST
answered 429/5xx (or not answered at all) is retried from its start a few times with backoff (the
kind's records so far are dropped, so nothing is counted twice); a kind whose
CRD is not installed (no KubeVirt) reads as empty. Nothing here writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ovnctl.audit import NbPortRecord, Snapshot, nb_port_record
from ovnctl.k8s.api import ApiError, KubeApi, NotFound, Resource, Transient
from ovnctl.k8s.resources import IPS, PODS, SUBNETS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES

__all__ = ["CheckFailed", "Progress", "read_northbound", "read_snapshot"]

Progress = Callable[[str, int], None]
"""Called after each page with the kind being listed and how many of it were read so far."""

PAGE_SIZE = 500
LIST_ATTEMPTS = 5


class CheckFailed(Exception):
    """The cluster (or the NB) could not be read: the check could not be made (exit 2)."""


_OPTIONAL = frozenset({VIRTUAL_MACHINES.plural, VIRTUAL_MACHINE_INSTANCES.plural})


async def _list_into(
    api: KubeApi,
    snapshot: Snapshot,
    resource: Resource,
    add: Callable[[Snapshot, Iterable[Mapping[str, Any]]], None],
    progress: Progress,
    page_size: int,
) -> None:
    delay = 0.2
    for attempt in range(1, LIST_ATTEMPTS + 1):
        scratch = Snapshot()  # a retried LIST starts over: nothing is counted twice
        read = 0
        try:
            # Its own retry (above) restarts the whole LIST: no page retries inside it.
            async for page in api.list_pages(resource, limit=page_size, page_retries=0):
                add(scratch, page)  # reduced to records at once: the page body is dropped
                read += len(page)
                progress(resource.plural, read)
        except NotFound:
            if resource.plural in _OPTIONAL:
                return  # KubeVirt is not installed: no VMs to own anything
            raise CheckFailed(f"LIST {resource.plural}: the resource is not served") from None
        except Transient as exc:
            if attempt == LIST_ATTEMPTS:
                raise CheckFailed(f"LIST {resource.plural}: {exc}") from exc
            await asyncio.sleep(delay)
            delay *= 2
            continue
        except ApiError as exc:  # refused (403, ...): the check cannot be made
            raise CheckFailed(f"LIST {resource.plural}: {exc}") from exc
        snapshot.merge(scratch)
        return


_KINDS: tuple[tuple[Resource, Callable[[Snapshot, Iterable[Mapping[str, Any]]], None]], ...] = (
    (SUBNETS, Snapshot.add_subnets),
    (IPS, Snapshot.add_ips),
    (VIRTUAL_MACHINES, Snapshot.add_vms),
    (VIRTUAL_MACHINE_INSTANCES, Snapshot.add_vmis),
    (PODS, Snapshot.add_pods),
)
"""In this order: IP objects before their owners, so a fresh allocation never looks leaked."""


async def read_snapshot(
    api: KubeApi,
    *,
    progress: Progress = lambda kind, n: None,
    page_size: int = PAGE_SIZE,
) -> Snapshot:
    """List Subnets, IP objects, VMs, VMIs and pods into a :class:`Snapshot`.

    IP objects are listed before pods and VMs: an owner created after its IP
    object was read is then seen, so a fresh allocation never looks like a leak.
    """
    snapshot = Snapshot()
    for resource, add in _KINDS:
        await _list_into(api, snapshot, resource, add, progress, page_size)
    return snapshot


async def read_northbound(remote: str, *, within: float = 10.0) -> list[NbPortRecord]:
    """The NIC ports ovnctl owns in the NB at ``remote`` (an ``--ovn-nb`` value)."""
    from ovnctl.ovn import NorthboundError, OvnNorthbound  # ovsdbapp only when asked for

    try:
        northbound = OvnNorthbound(remote=remote, connect_timeout=within, max_backoff=2.0)
    except ValueError as exc:
        raise CheckFailed(f"--ovn-nb {remote!r}: {exc}") from exc
    try:
        await northbound.start()
        await northbound.wait_connected(within)
        rows = await northbound.managed_ports()
    except NorthboundError as exc:
        raise CheckFailed(f"OVN NB {remote}: {exc}") from exc
    finally:
        await northbound.close()
    return [nb_port_record(name, switch, addresses) for name, switch, addresses in rows]
