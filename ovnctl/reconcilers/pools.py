"""Where a NIC's address comes from: a Vip, the ``ip_pool`` annotation, its namespace's IPPool.

The NIC planner (:mod:`.nics`) asks this chooser, per NIC, before it picks a
subnet. In order:

0. ``P.kubernetes.io/vip: <name>`` on the pod: exactly the Vip's reserved
   address (the Vip stays its IPAM owner; see :mod:`.vips`); one pod at a time
   (the next waits, and is woken when the first goes);
1. ``P.kubernetes.io/ip_pool`` on the pod (``ovn`` for the primary network):
   a comma list of IPs (each replica takes the lowest free one), ``;``-separated
   dual-stack pairs (the first pair wholly free), or IPPool names (the first
   Ready pool with room; its subnet is the NIC's subnet);
2. otherwise a Ready IPPool whose ``spec.namespaces`` lists the pod's namespace
   (or that the namespace's own ``ovn.kubernetes.io/ip_pool`` annotation names)
   and whose subnet serves provider ``P`` (and is the subnet the pod names in
   ``P.kubernetes.io/logical_switch``, if it names one).

A pool listing the namespace that cannot serve (invalid, its subnet not Ready)
makes the pod wait (``IPPoolNotReady``) rather than take an address outside the
pool. A static ``ip_address`` wins over every pool, as in Kube-OVN. Reads
caches and the IPAM only; never writes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

from ovnctl.caches import IPPoolCache, NamespacePoolCache, PodKey, SubnetCache, VipCache
from ovnctl.caches.pods import PodRecord
from ovnctl.ipam import IPAM, AddressLimit, PoolEntryError, limit_of, parse_ip_list
from ovnctl.ipam.addresses import parse_ip
from ovnctl.models import StaticRequest, provider_keys
from ovnctl.reconcilers.ippool import IPPoolReconciler, ServingPool
from ovnctl.reconcilers.nics import AttachmentProblem, PoolChoice
from ovnctl.reconcilers.vips import vip_owner
from ovnctl.reconcilers.waiting import subnet_topic

__all__ = ["PoolSelector", "ippool_topic", "namespace_topic", "vip_topic"]

_LIST_CACHE_SIZE = 64
"""Parsed ``ip_pool`` lists kept: one per workload template, not per pod."""


def ippool_topic(name: str) -> str:
    """Pods waiting for IPPool ``name`` to appear, become Ready or free an address."""
    return f"ippool:{name}"


def namespace_topic(name: str) -> str:
    """Pods waiting for their namespace's ``ip_pool`` annotation to change."""
    return f"namespace:{name}"


def vip_topic(name: str) -> str:
    """Pods waiting for Vip ``name`` to be reserved or let go by another pod."""
    return f"vip:{name}"


class PoolSelector:
    """The :data:`~ovnctl.reconcilers.nics.PoolChooser` the controller gives the planner."""

    def __init__(
        self,
        *,
        pools: IPPoolCache,
        reconciler: IPPoolReconciler,
        subnets: SubnetCache,
        ipam: IPAM,
        vips: VipCache,
        vip_users: Callable[[str], list[PodKey]],
        namespaces: NamespacePoolCache,
    ) -> None:
        self._namespaces = namespaces
        self.vip_of_pod: dict[PodKey, str] = {}
        """Pods given a Vip's address: when one goes, its Vip and the pods waiting for it
        are looked at again."""
        self._vips = vips
        self._vip_users = vip_users
        self._pools = pools
        self._reconciler = reconciler
        self._subnets = subnets
        self._ipam = ipam
        self._lists: OrderedDict[tuple[str, str], PoolChoice] = OrderedDict()

    def __call__(
        self, pod: PodRecord, provider: str, annotations: dict[str, str], static: StaticRequest
    ) -> PoolChoice | None:
        keys = provider_keys(provider=provider)
        vip = annotations.get(keys.vip, "").strip()
        if vip:
            return self._vip(pod, provider, vip)
        key = keys.ip_pool
        value = annotations.get(key, "").strip()
        if value:
            return self._from_annotation(key, value, provider, static)
        return self._from_namespace(pod.namespace, provider, static)

    # -- a Vip -------------------------------------------------------------------------------

    def _vip(self, pod: PodRecord, provider: str, name: str) -> PoolChoice:
        key = provider_keys(provider=provider).vip
        topics = (vip_topic(name),)
        record = self._vips.get(name)
        if record is None:
            raise AttachmentProblem(
                "VipNotFound", f"pod annotation {key}: no Vip named {name!r}", wait_for=topics
            )
        if self._provider_of(record.subnet) != provider:
            raise AttachmentProblem(
                "VipProviderMismatch",
                f"pod annotation {key}: Vip {name!r} is in subnet {record.subnet!r}, which "
                f"does not serve provider {provider!r}",
                wait_for=topics,
            )
        if record.deleting or self._ipam.get(record.subnet, vip_owner(name)) is None:
            raise AttachmentProblem(
                "VipNotReady",
                f"pod annotation {key}: Vip {name!r} has no address reserved (see its conditions)",
                wait_for=topics,
            )
        others = [k for k in self._vip_users(name) if k != pod.key]
        if others:
            raise AttachmentProblem(
                "VipInUse",
                f"pod annotation {key}: Vip {name!r} is used by pod {others[0][0]}/{others[0][1]}",
                wait_for=topics,
            )
        self.vip_of_pod[pod.key] = name
        return PoolChoice(
            subnet=record.subnet, within=None, topics=topics, ipam_owner=vip_owner(name)
        )

    # -- the annotation ---------------------------------------------------------------------

    def _from_annotation(
        self, key: str, value: str, provider: str, static: StaticRequest
    ) -> PoolChoice:
        parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
        if ";" in value or any(_is_ip(p) for p in parts):
            return self._ip_list(key, value)
        names = parts
        return self._named_pools(key, names, provider, static)

    def _ip_list(self, key: str, value: str) -> PoolChoice:
        cached = self._lists.get((key, value))
        if cached is not None:
            self._lists.move_to_end((key, value))
            return cached
        try:
            entries = parse_ip_list(value)
        except PoolEntryError as exc:
            raise AttachmentProblem(
                "InvalidAnnotation", f"pod annotation {key} = {value[:200]!r}: {exc.detail}"
            ) from None
        name = f"pod annotation {key}"
        if any(len(entry) > 1 for entry in entries):
            choice = PoolChoice(subnet=None, within=AddressLimit(name, {}), choices=tuple(entries))
        else:
            choice = PoolChoice(subnet=None, within=limit_of(name, entries))
        self._lists[(key, value)] = choice
        if len(self._lists) > _LIST_CACHE_SIZE:
            self._lists.popitem(last=False)
        return choice

    def _named_pools(
        self, key: str, names: list[str], provider: str, static: StaticRequest
    ) -> PoolChoice:
        topics = tuple(ippool_topic(n) for n in names)
        usable: list[ServingPool] = []
        for name in names:
            serving = self._reconciler.serving.get(name)
            if serving is None:
                continue
            if self._provider_of(serving.subnet) != provider:
                raise AttachmentProblem(
                    "IPPoolProviderMismatch",
                    f"pod annotation {key}: IPPool {name!r} is on subnet {serving.subnet!r}, "
                    f"which does not serve provider {provider!r}",
                    wait_for=topics,
                )
            if static.subnet is not None and serving.subnet != static.subnet:
                named_by = provider_keys(provider=provider).logical_switch
                raise AttachmentProblem(
                    "IPPoolSubnetMismatch",
                    f"pod annotation {key}: IPPool {name!r} is on subnet {serving.subnet!r}, "
                    f"not on {static.subnet!r} named by {named_by}",
                    wait_for=topics,
                )
            usable.append(serving)
        if not usable:
            missing = [n for n in names if self._pools.get(n) is None]
            if missing:
                raise AttachmentProblem(
                    "IPPoolNotFound",
                    f"pod annotation {key}: no IPPool named {', '.join(map(repr, missing))} "
                    "(and it is not a list of IP addresses)",
                    wait_for=topics,
                )
            raise AttachmentProblem(
                "IPPoolNotReady",
                f"pod annotation {key}: IPPool {', '.join(map(repr, names))} is not Ready "
                "(see its conditions)",
                wait_for=topics,
            )
        return self._pick(usable, topics)

    # -- the namespace ------------------------------------------------------------------------

    def _from_namespace(
        self, namespace: str, provider: str, static: StaticRequest
    ) -> PoolChoice | None:
        listed = self._namespaces.pools_of(namespace)
        names = sorted({*self._pools.names_for_namespace(namespace), *listed})
        if not names:
            return None
        usable: list[ServingPool] = []
        waiting: list[str] = []
        for name in names:
            serving = self._reconciler.serving.get(name)
            record = self._pools.get(name)
            subnet = serving.subnet if serving else (record.spec.subnet if record else "")
            if self._provider_of(subnet) != provider:
                continue  # a pool of another network: not this NIC's business
            if static.subnet is not None and subnet != static.subnet:
                continue  # the pod named another subnet: its pools stand aside
            if serving is None:
                waiting.append(name)
            else:
                usable.append(serving)
        topics = (
            *(ippool_topic(n) for n in (*(p.name for p in usable), *waiting)),
            namespace_topic(namespace),
        )
        if usable:
            return self._pick(usable, topics)
        if waiting:
            raise AttachmentProblem(
                "IPPoolNotReady",
                f"namespace {namespace!r} is served by IPPool "
                f"{', '.join(map(repr, waiting))}, which is not Ready (see its conditions)",
                wait_for=topics,
            )
        return None

    # -- shared ------------------------------------------------------------------------------

    def _pick(self, usable: list[ServingPool], topics: tuple[str, ...]) -> PoolChoice:
        for pool in usable:
            if self._has_room(pool):
                return _choice(pool, topics)
        # All full: the allocation reports IPPoolExhausted and waits for any of them.
        return _choice(usable[0], (*topics, *(subnet_topic(p.subnet) for p in usable)))

    def _has_room(self, pool: ServingPool) -> bool:
        if pool.subnet not in self._ipam:
            return False
        subnet = self._ipam.subnet(pool.subnet)
        for family, ranges in pool.limit.ranges.items():
            if family in subnet.families and subnet.pool(family).free.lowest_in(ranges) is None:
                return False
        return True

    def _provider_of(self, subnet: str) -> str | None:
        record = self._subnets.get(subnet)
        return record.provider if record is not None else None


def _choice(pool: ServingPool, topics: tuple[str, ...]) -> PoolChoice:
    return PoolChoice(subnet=pool.subnet, within=pool.limit, topics=topics)


def _is_ip(text: str) -> bool:
    try:
        parse_ip(text)
    except ValueError:
        return False
    return True
