"""Which NICs a pod should have: networks, providers and subnets resolved from caches.

A pod asks for its primary network (provider ``ovn``) and for the Multus
attachments listed in ``k8s.v1.cni.cncf.io/networks``. Each attachment's NAD
is looked up in the NAD cache, which decides its provider (or that ovnctl
does not serve it: skipped quietly); the subnet is then the one the pod names
in ``<provider>.kubernetes.io/logical_switch``, else the first serving subnet
of that provider, by name, that still has room. A pod created strictly before
every default subnet gets no primary NIC from them (see :meth:`NicPlanner._predates`).
Nothing here reads the API
server or changes state: a problem is an :class:`AttachmentProblem` naming
the field and value, with the topics worth waiting on before trying again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ovnctl.caches import NadCache, SubnetCache
from ovnctl.caches.pods import PodRecord, created_seconds
from ovnctl.ipam import IPAM, AddressLimit
from ovnctl.models import (
    NETWORKS_ANNOTATION,
    PRIMARY_PROVIDER,
    AnnotationError,
    AttachmentRequest,
    NadConfig,
    NetworksAnnotationError,
    StaticRequest,
    ip_object_name,
    is_allocated,
    merge_requests,
    parse_networks,
    provider_keys,
    read_static_request,
)
from ovnctl.reconcilers.subnet_states import SubnetStateView
from ovnctl.reconcilers.waiting import nad_topic, provider_topic, subnet_topic

__all__ = ["AttachmentProblem", "NicPlanner", "NicRequest", "PoolChoice", "PoolChooser"]


@dataclass(frozen=True, slots=True)
class NicRequest:
    """One NIC the pod should have: where its address comes from and what it asks for."""

    provider: str
    subnet: str
    nic: str
    """The NIC's IP object name, which is also its IPAM owner key."""
    static: StaticRequest
    interface: str | None = None
    ips_from: str = ""
    """Where the static IPs were asked for (an annotation key or a networks JSON field)."""
    mac_from: str = ""
    """Where the static MAC was asked for."""
    candidates: tuple[str, ...] = ()
    """Subnets this NIC could have been given (chosen by rule, not named): all are worth
    waiting on when the chosen one is full."""
    within: AddressLimit | None = None
    """An IPPool or ``ip_pool`` list the automatic address must come from."""
    choices: tuple[tuple[str, ...], ...] = ()
    """``ip_pool`` dual-stack pairs: the first wholly free one is taken."""
    pool_topics: tuple[str, ...] = ()
    """Topics worth waiting on when the pool is full (the pools themselves)."""
    ipam_owner: str = ""
    """The IPAM owner when it is not the NIC itself (a Vip whose address the NIC uses)."""
    claim: str = ""
    """The IPAMClaim the NIC belongs to (then the NIC is named after the claim)."""

    @property
    def owner_key(self) -> str:
        """Who holds the NIC's address in the IPAM."""
        return self.ipam_owner or self.nic


@dataclass(frozen=True, slots=True)
class PoolChoice:
    """Where a NIC's pool sends it: the subnet (None: chosen as usual) and the limit."""

    subnet: str | None
    within: AddressLimit | None
    choices: tuple[tuple[str, ...], ...] = ()
    topics: tuple[str, ...] = ()
    ipam_owner: str = ""


ClaimChecker = Callable[[PodRecord, NadConfig, AttachmentRequest, str], None]
"""``(pod, nad, attachment, nic name)``: checks the claim the attachment references; raises
:class:`AttachmentProblem`. See :mod:`ovnctl.reconcilers.claims`."""

PoolChooser = Callable[[PodRecord, str, dict[str, str], StaticRequest], PoolChoice | None]
"""``(pod, provider, annotations, static request) -> PoolChoice | None``; raises
:class:`AttachmentProblem`. See :mod:`ovnctl.reconcilers.pools`."""


class AttachmentProblem(Exception):
    """Why a pod cannot be allocated now; ``wait_for`` are topics whose change may fix it."""

    def __init__(self, reason: str, message: str, *, wait_for: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.wait_for = wait_for


class NicPlanner:
    """Resolves a pod's NICs from the NAD and Subnet caches."""

    def __init__(
        self,
        *,
        nads: NadCache,
        subnets: SubnetCache,
        subnet_states: SubnetStateView,
        ipam: IPAM,
        primary_network: bool = True,
        pools: PoolChooser | None = None,
        claims: ClaimChecker | None = None,
    ) -> None:
        self._pools = pools
        self._claims = claims
        self._nads = nads
        self._subnets = subnets
        self._states = subnet_states
        self._ipam = ipam  # asked only which subnets have room: planning allocates nothing
        self._primary_network = primary_network

    def plan(self, pod: PodRecord) -> list[NicRequest]:
        """The pod's NICs, primary first (none for a hostNetwork pod).

        Raises :class:`AttachmentProblem`.
        """
        if pod.host_network:
            # The pod shares the node's network namespace: no CNI (Multus included) runs
            # for it, so any address would never be plumbed. Kube-OVN skips them too.
            return []
        annotations = pod.annotation_map()
        nics: list[NicRequest] = []
        if self._primary_network:
            primary = self._primary(pod, annotations)
            if primary is not None:
                nics.append(primary)
        raw = annotations.get(NETWORKS_ANNOTATION)
        if raw is not None and raw.strip():
            try:
                attachments = parse_networks(annotation=raw, pod_namespace=pod.namespace)
            except NetworksAnnotationError as exc:
                raise AttachmentProblem(
                    exc.reason,
                    f"pod annotation {exc.field} = {_clip(exc.value)}: {exc.detail}",
                ) from exc
            seen = {nic.provider: "the primary network" for nic in nics}
            for attachment in attachments:
                nic = self._attachment(pod, annotations, attachment, seen)
                if nic is not None:
                    nics.append(nic)
        return nics

    # -- the primary network -----------------------------------------------------------------

    def _primary(self, pod: PodRecord, annotations: dict[str, str]) -> NicRequest | None:
        static, ips_from, mac_from = self._static(annotations, PRIMARY_PROVIDER, attachment=None)
        candidates: list[str] = []
        pool = self._pool(pod, PRIMARY_PROVIDER, annotations, static)
        if static.subnet is not None:
            subnet = self._named_subnet(static.subnet, PRIMARY_PROVIDER)
        elif pool is not None and pool.subnet is not None:
            subnet = self._pool_subnet(pool.subnet, pool, PRIMARY_PROVIDER)
        else:
            bound = [
                n
                for n in self._subnets.names_for_namespace(pod.namespace)
                if self._provider_of(n) == PRIMARY_PROVIDER
            ]
            candidates = bound or self._subnets.default_names()
            if not candidates:
                return None  # no primary subnet for this pod: its primary network is not ours
            if not bound and self._predates(pod, annotations, candidates):
                return None  # it runs on another network already: not ours to renumber
            subnet = self._pick(candidates, PRIMARY_PROVIDER)
        return NicRequest(
            provider=PRIMARY_PROVIDER,
            subnet=subnet,
            nic=ip_object_name(
                owner=pod.owner.name, namespace=pod.namespace, provider=PRIMARY_PROVIDER
            ),
            static=static,
            interface="eth0",
            ips_from=ips_from,
            mac_from=mac_from,
            candidates=tuple(candidates),
            within=pool.within if pool else None,
            choices=pool.choices if pool else (),
            pool_topics=pool.topics if pool else (),
            ipam_owner=pool.ipam_owner if pool else "",
        )

    def _predates(self, pod: PodRecord, annotations: dict[str, str], defaults: list[str]) -> bool:
        """Was ``pod`` created strictly before every default subnet, holding no primary
        address of ours? Then it started with no default subnet: its primary network is
        someone else's and it keeps it, however often it is reconciled again.

        Both times are ``metadata.creationTimestamp`` from the API server's clock, in
        whole seconds: a pod created in the same second as the default subnet does not
        predate it (it may well be the workload applied with it). Unknown times order
        nothing: such a pod is treated as not predating, as before the rule existed.
        """
        if not pod.created or is_allocated(annotations=annotations, provider=PRIMARY_PROVIDER):
            return False
        since = [
            created_seconds(record.created) if record is not None else 0
            for record in map(self._subnets.get, defaults)
        ]
        return all(since) and pod.created < min(since)

    # -- Multus attachments --------------------------------------------------------------------

    def _attachment(
        self,
        pod: PodRecord,
        annotations: dict[str, str],
        attachment: AttachmentRequest,
        seen: dict[str, str],
    ) -> NicRequest | None:
        where = f"{attachment.namespace}/{attachment.name}"
        entry = f"{NETWORKS_ANNOTATION}[{attachment.index}] ({where})"
        nad = self._nads.get(attachment.namespace, attachment.name)
        if nad is None:
            raise AttachmentProblem(
                "NadNotFound",
                f"{entry}: NetworkAttachmentDefinition {where} not found",
                wait_for=(nad_topic(attachment.namespace, attachment.name),),
            )
        if nad.error is not None:
            raise AttachmentProblem(
                "NadMalformed",
                f"{entry}: NetworkAttachmentDefinition {where} is malformed: {nad.error}",
                wait_for=(nad_topic(attachment.namespace, attachment.name),),
            )
        if nad.provider is None:
            return None  # not served by ovnctl: another IPAM's business, skipped quietly
        provider = nad.provider
        if provider in seen:
            raise AttachmentProblem(
                "DuplicateProvider",
                f"{entry}: provider {provider!r} is already used by {seen[provider]}; a pod "
                "holds one address per provider (its annotations have one slot per provider)",
            )
        seen[provider] = entry
        static, ips_from, mac_from = self._static(annotations, provider, attachment=attachment)
        candidates: list[str] = []
        pool = self._pool(pod, provider, annotations, static)
        if static.subnet is not None:
            subnet = self._named_subnet(static.subnet, provider)
        elif pool is not None and pool.subnet is not None:
            subnet = self._pool_subnet(pool.subnet, pool, provider)
        else:
            candidates = self._subnets.names_for_provider(provider)
            if not candidates:
                raise AttachmentProblem(
                    "ProviderNotBound",
                    f"provider {provider} is not bound to any subnet",
                    wait_for=(provider_topic(provider),),
                )
            subnet = self._pick(candidates, provider)
        # An IPAMClaim owns the address when the NAD allows it: the NIC is the claim's.
        claim = attachment.ipam_claim if nad.allow_persistent_ips else None
        nic_owner = claim or pod.owner.name
        nic_name = ip_object_name(owner=nic_owner, namespace=pod.namespace, provider=provider)
        if claim is not None and self._claims is not None:
            self._claims(pod, nad, attachment, nic_name)
        return NicRequest(
            provider=provider,
            subnet=subnet,
            nic=nic_name,
            claim=claim or "",
            static=static,
            interface=attachment.interface,
            ips_from=ips_from,
            mac_from=mac_from,
            candidates=tuple(candidates),
            within=pool.within if pool else None,
            choices=pool.choices if pool else (),
            pool_topics=pool.topics if pool else (),
            ipam_owner=pool.ipam_owner if pool else "",
        )

    # -- shared ------------------------------------------------------------------------------

    @staticmethod
    def _static(
        annotations: dict[str, str], provider: str, *, attachment: AttachmentRequest | None
    ) -> tuple[StaticRequest, str, str]:
        """The merged request, and the fields its IPs and MAC came from."""
        keys = provider_keys(provider=provider)
        try:
            static = read_static_request(annotations=annotations, provider=provider)
        except AnnotationError as exc:  # its class says which key: InvalidStaticIP, InvalidMAC
            raise AttachmentProblem(exc.reason, f"pod annotation {exc}") from exc
        entry = f"{NETWORKS_ANNOTATION}[{attachment.index}]" if attachment is not None else ""
        ips_from = (
            f"pod annotation {keys.ip_address}"
            if static.ips
            else (f"{entry}.ips" if attachment is not None and attachment.ips else "")
        )
        mac_from = (
            f"pod annotation {keys.mac_address}"
            if static.mac is not None
            else (f"{entry}.mac" if attachment is not None and attachment.mac else "")
        )
        return merge_requests(static=static, attachment=attachment), ips_from, mac_from

    def _pool(
        self, pod: PodRecord, provider: str, annotations: dict[str, str], static: StaticRequest
    ) -> PoolChoice | None:
        # A static IP wins over any pool, as in Kube-OVN.
        if self._pools is None or static.ips:
            return None
        return self._pools(pod, provider, annotations, static)

    def _provider_of(self, subnet: str) -> str | None:
        record = self._subnets.get(subnet)
        return record.provider if record is not None else None

    def _named_subnet(self, name: str, provider: str) -> str:
        key = provider_keys(provider=provider).logical_switch
        record = self._subnets.get(name)
        if record is None:
            raise AttachmentProblem(
                "SubnetNotFound",
                f"pod annotation {key}: subnet {name!r} does not exist",
                wait_for=(subnet_topic(name),),
            )
        if record.provider != provider:
            raise AttachmentProblem(
                "SubnetProviderMismatch",
                f"pod annotation {key}: subnet {name!r} serves provider "
                f"{record.provider!r}, not {provider!r}",
                wait_for=(subnet_topic(name),),
            )
        if not self._states.serves(name):
            raise AttachmentProblem(
                "SubnetNotReady",
                f"pod annotation {key}: subnet {name!r} is not Ready (see its conditions)",
                wait_for=(subnet_topic(name),),
            )
        return name

    def _pool_subnet(self, name: str, pool: PoolChoice, provider: str) -> str:
        """The subnet an IPPool, ``ip_pool`` or Vip sends the NIC to, if it serves now.

        The pool's own Ready condition follows its subnet only at the pool's next
        reconcile; until then this check keeps the rule that addresses come only
        from Ready subnets, and the NIC waits for the subnet (and the pool).
        """
        if not self._states.serves(name):
            raise AttachmentProblem(
                "SubnetNotReady",
                f"provider {provider}: subnet {name!r} of the NIC's pool is not Ready "
                "(see its conditions)",
                wait_for=(subnet_topic(name), *pool.topics),
            )
        return name

    def _pick(self, candidates: list[str], provider: str) -> str:
        serving = [n for n in candidates if self._states.serves(n)]
        if not serving:
            raise AttachmentProblem(
                "SubnetNotReady",
                f"provider {provider}: no Ready subnet among {', '.join(candidates)} "
                "(see their conditions)",
                wait_for=(provider_topic(provider), *(subnet_topic(n) for n in candidates)),
            )
        for name in serving:
            if self._ipam.has_room(name):
                return name
        return serving[0]  # all full: the allocation reports the exhaustion and waits


def _clip(value: str, limit: int = 200) -> str:
    """``value`` quoted, shortened for an Event message."""
    return repr(value if len(value) <= limit else value[:limit] + "...")
