"""IPAMClaims: KubeVirt's persistent-IP API, where the address belongs to the claim.

When a NAD's config says ``"allowPersistentIPs": true`` and a pod's Multus
network-selection element names ``"ipam-claim-reference": "<claim>"``, the
attachment's NIC is the *claim's*: its IP object is
``<claim>.<ns>.<provider>`` with ``podType: IPAMClaim`` and ``podName`` the
claim's name, and the NIC is recorded in the ledger under the pseudo pod
``(ns, "ipamclaim:<claim>")`` rather than under the pod or VM. So pod
deletion, VM deletion and live migration never release it (both launcher
pods of a migration use the one NIC); only the claim's deletion does, through
the same release path as a pod's (see :func:`keeps_claim`).

:class:`ClaimChooser` checks the claim when the NIC planner meets it (missing:
``IPAMClaimNotFound``; naming another network than the NAD's config ``name``:
``IPAMClaimNetworkMismatch``, also a condition on the claim; used by another
live pod that is not a launcher of the same VM: ``IPAMClaimInUse``).
:class:`ClaimReconciler` writes ``status.ips`` (CIDR strings), ``ownerPod``
and a ``Ready`` condition.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from ovnctl.caches import IPAMClaimCache, PodCache, PodKey, SubnetCache
from ovnctl.caches.pods import PodRecord
from ovnctl.ipam import IPAM
from ovnctl.k8s.api import NotFound
from ovnctl.k8s.resources import IPAMCLAIMS
from ovnctl.k8s.writer import Writer
from ovnctl.models import AttachmentRequest, NadConfig
from ovnctl.queue import Done, Result
from ovnctl.reconcilers.conditions import Verdict, merge_conditions, now_rfc3339
from ovnctl.reconcilers.ledger import NicLedger, claim_ledger_owner
from ovnctl.reconcilers.nics import AttachmentProblem

__all__ = ["ClaimChooser", "ClaimReconciler", "ClaimUse", "claim_topic", "keeps_claim"]

ClaimKey = tuple[str, str]


def claim_topic(namespace: str, name: str) -> str:
    """Pods waiting for IPAMClaim ``namespace/name`` to appear or change."""
    return f"ipamclaim:{namespace}/{name}"


class ClaimUse:
    """What the controller knows of the claims pods use (in memory; pods re-plan at start)."""

    def __init__(self, pods: PodCache) -> None:
        self._pods = pods
        self.nic: dict[ClaimKey, str] = {}
        """Claim -> its NIC (IP object name)."""
        self.users: dict[ClaimKey, dict[PodKey, str]] = {}
        """Claim -> pods that use it, each with its VM ('' for a plain pod)."""
        self.problems: dict[ClaimKey, Verdict] = {}
        self.by_pod: dict[PodKey, set[ClaimKey]] = {}
        """Pod -> claims it used: when it goes, a deleted claim it held may be freed."""

    def live_users(self, claim: ClaimKey) -> dict[PodKey, str]:
        users = self.users.get(claim, {})
        for key in [k for k in users if _gone(self._pods.get(*k))]:
            del users[key]
        return dict(users)


def _gone(pod: PodRecord | None) -> bool:
    return pod is None or pod.finished


def keeps_claim(
    key: PodKey, claims: IPAMClaimCache, use: ClaimUse, requeue: Callable[[PodKey], None]
) -> bool | None:
    """For a claim's pseudo pod key: keep its NIC while the claim exists or a pod still uses
    it (None: not a claim key). For a gone pod: deleted claims it held are looked at again."""
    namespace, name = key
    prefix = claim_ledger_owner("")
    if not name.startswith(prefix):
        for claim in use.by_pod.pop(key, ()):
            if claims.get(*claim) is None:
                requeue((claim[0], claim_ledger_owner(claim[1])))
        return None
    claim = (namespace, name[len(prefix) :])
    return claims.get(*claim) is not None or bool(use.live_users(claim))


class ClaimChooser:
    """Checks a referenced claim for the NIC planner; returns the claim's name."""

    def __init__(
        self, *, claims: IPAMClaimCache, use: ClaimUse, changed: Callable[[ClaimKey], None]
    ) -> None:
        self._claims = claims
        self._use = use
        self._changed = changed  # the claim's status may change: reconcile it soon

    def __call__(
        self, pod: PodRecord, nad: NadConfig, attachment: AttachmentRequest, nic: str
    ) -> None:
        name = attachment.ipam_claim
        assert name is not None
        key = (pod.namespace, name)
        field = f"k8s.v1.cni.cncf.io/networks[{attachment.index}].ipam-claim-reference"
        topics = (claim_topic(*key),)
        claim = self._claims.get(*key)
        if claim is None:
            raise AttachmentProblem(
                "IPAMClaimNotFound",
                f"{field}: IPAMClaim {pod.namespace}/{name} not found",
                wait_for=topics,
            )
        network = nad.cni_name or ""
        if claim.network != network:
            message = (
                f"spec.network {claim.network!r} is not the network {network!r} of "
                f"NetworkAttachmentDefinition {nad.namespace}/{nad.name} that pod "
                f"{pod.name} attaches with this claim"
            )
            self._problem(
                key, Verdict(type="Ready", status=False, reason="NetworkMismatch", message=message)
            )
            raise AttachmentProblem(
                "IPAMClaimNetworkMismatch", f"{field}: IPAMClaim {name}: {message}", wait_for=topics
            )
        vm = pod.owner.name if pod.owner.is_vm else ""
        others = {k: v for k, v in self._use.live_users(key).items() if k != pod.key}
        if any(not vm or other_vm != vm for other_vm in others.values()):
            holder = sorted(others)[0]
            raise AttachmentProblem(
                "IPAMClaimInUse",
                f"{field}: IPAMClaim {name} is used by pod {holder[1]}",
                wait_for=topics,
            )
        self._use.users.setdefault(key, {})[pod.key] = vm
        self._use.by_pod.setdefault(pod.key, set()).add(key)
        self._use.nic[key] = nic
        self._problem(key, None)

    def _problem(self, key: ClaimKey, verdict: Verdict | None) -> None:
        before = self._use.problems.get(key)
        if verdict is None:
            self._use.problems.pop(key, None)
        else:
            self._use.problems[key] = verdict
        if before != verdict:
            self._changed(key)


class ClaimReconciler:
    """``await reconciler((namespace, name))`` writes a claim's status, or releases it."""

    def __init__(
        self,
        *,
        claims: IPAMClaimCache,
        use: ClaimUse,
        ipam: IPAM,
        subnets: SubnetCache,
        api: Writer,
        requeue_pod: Callable[[PodKey], None],
        ledger: NicLedger,
    ) -> None:
        self._ledger = ledger
        self._claims = claims
        self._use = use
        self._ipam = ipam
        self._subnets = subnets
        self._api = api
        self._requeue_pod = requeue_pod

    async def __call__(self, key: ClaimKey) -> Result:
        claim = self._claims.get(*key)
        if claim is None:
            # Released through the pod path: its keep rule now says no (unless a pod
            # still uses the address; then that pod's going sends it back here).
            self._use.problems.pop(key, None)
            self._requeue_pod((key[0], claim_ledger_owner(key[1])))
            return Done
        problem = self._use.problems.get(key)
        ips: list[str] = []
        # The claim's NICs as recorded (IP objects, so also right after a restart, before
        # any pod used the claim again), and the one a pod was just planned with.
        nics = set(self._ledger.nics_of_pod((key[0], claim_ledger_owner(key[1]))))
        if key in self._use.nic:
            nics.add(self._use.nic[key])
        if problem is None:
            for nic in sorted(nics):
                for allocation in self._ipam.lookup(nic):
                    ips.extend(self._with_prefix(allocation.subnet, allocation.ips))
        users = self._use.live_users(key)
        current = claim.status
        owner = current.get("ownerPod")
        owner_name = owner.get("name") if isinstance(owner, dict) else None
        if users and (owner_name is None or (key[0], owner_name) not in users):
            owner_name = sorted(users)[0][1]
        verdict = problem or (
            Verdict(type="Ready", status=True, reason="Allocated")
            if ips
            else Verdict(
                type="Ready",
                status=False,
                reason="Pending",
                message="no pod has used the claim yet",
            )
        )
        previous = current.get("conditions")
        desired: dict[str, object] = {
            "ips": ips,
            "conditions": merge_conditions(
                previous if isinstance(previous, list) else None,
                [verdict],
                generation=claim.generation,
                now=now_rfc3339(),
            ),
        }
        if owner_name:
            desired["ownerPod"] = {"name": owner_name}
        if all(current.get(k) == v for k, v in desired.items()):
            return Done
        with contextlib.suppress(NotFound):
            await self._api.patch(
                IPAMCLAIMS,
                name=key[1],
                namespace=key[0],
                subresource="status",
                body={"status": desired},
            )
        return Done

    def _with_prefix(self, subnet: str, ips: tuple[str, ...]) -> list[str]:
        record = self._subnets.get(subnet)
        cidrs = record.spec.cidr_block.split(",") if record and record.spec else []
        out: list[str] = []
        for ip in ips:
            prefix = next((c.split("/")[1] for c in cidrs if (":" in c) == (":" in ip)), "")
            out.append(f"{ip}/{prefix}" if prefix else ip)
        return out
