"""Which NICs each pod and VM holds, and what their IP objects say.

A NIC is named by its IP object (``<owner>.<ns>[.<provider>]``), which is
also its IPAM owner key. The ledger maps a pod, or a KubeVirt VM, to its
NICs so that a deleted pod can be released without reading anything, and
remembers the content last written to each IP object so that a reconcile of
an unchanged pod writes nothing. It is rebuilt from the IP objects at
start-up, together with the IPAM.

It also knows which NICs are being *released* right now. A release awaits the
IP object's DELETE before it frees the address; a VM deleted and recreated
with the same name in that window has a new launcher pod whose NIC has the
same name, and the IPAM would hand it the address the release is about to
free (two owners of one address later). The pod reconciler therefore waits
for a releasing NIC to be gone before it allocates it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ovnctl.models import VM_POD_TYPE, IpRecord
from ovnctl.ovn import PortSpec

__all__ = [
    "CLAIM_POD_TYPE",
    "IpObjectState",
    "NicLedger",
    "OwnerKey",
    "claim_ledger_owner",
    "holder_pod",
    "pod_holder",
]

CLAIM_POD_TYPE = "IPAMClaim"
"""``spec.podType`` of the IP object of an IPAMClaim's NIC (ovnctl's own value; ``podName``
is the claim's name)."""


def claim_ledger_owner(claim: str) -> str:
    """The pseudo pod name an IPAMClaim's NIC is recorded under: released like a pod's,
    when the claim goes (see :mod:`ovnctl.reconcilers.claims`)."""
    return f"ipamclaim:{claim}"


OwnerKey = tuple[str, str]
"""``(namespace, pod name)`` for a pod, ``(namespace, VM name)`` for a VM."""


# A VM's NIC is held by each virt-launcher pod that uses its address (two during a live
# migration): the IPAM keeps those holders as opaque strings, written by the pod
# reconciler and read back by the VM reconciler. These two functions are the only
# places that know the string's shape.


def pod_holder(namespace: str, pod: str) -> str:
    """The IPAM holder string of a launcher pod: ``"<namespace>/<pod>"``."""
    return f"{namespace}/{pod}"


def holder_pod(holder: str) -> OwnerKey:
    """``(namespace, pod)`` of a holder string made by :func:`pod_holder`."""
    namespace, _, pod = holder.partition("/")
    return (namespace, pod)


@dataclass(frozen=True, slots=True)
class IpObjectState:
    """The fields of an IP object ovnctl writes; equal states mean no write is needed."""

    subnet: str
    ips: tuple[str, ...]
    mac: str
    node_name: str
    pod_name: str
    namespace: str
    pod_type: str


class NicLedger:
    """NIC names by owning pod or VM, and the last written IP object state per NIC."""

    def __init__(self) -> None:
        self._by_pod: dict[OwnerKey, set[str]] = {}
        self._by_vm: dict[OwnerKey, set[str]] = {}
        self._owner_of: dict[str, tuple[bool, OwnerKey]] = {}
        self._written: dict[str, IpObjectState] = {}
        self._ports: dict[str, PortSpec] = {}
        self._ipam_owners: dict[str, str] = {}
        """NIC -> its IPAM owner, where that is not the NIC itself (a Vip's address)."""
        self._releasing: set[str] = set()

    def record(self, nic: str, *, owner: OwnerKey, is_vm: bool) -> None:
        previous = self._owner_of.get(nic)
        if previous == (is_vm, owner):
            return
        if previous is not None:
            self._unlink(nic, previous)
        self._owner_of[nic] = (is_vm, owner)
        (self._by_vm if is_vm else self._by_pod).setdefault(owner, set()).add(nic)

    def forget(self, nic: str) -> None:
        previous = self._owner_of.pop(nic, None)
        if previous is not None:
            self._unlink(nic, previous)
        self._written.pop(nic, None)
        self._ports.pop(nic, None)
        self._ipam_owners.pop(nic, None)

    def set_ipam_owner(self, nic: str, owner: str) -> None:
        """Record that ``nic`` uses ``owner``'s address (``""``: its own)."""
        if owner:
            self._ipam_owners[nic] = owner
        else:
            self._ipam_owners.pop(nic, None)

    def ipam_owner(self, nic: str) -> str:
        """Who holds ``nic``'s address in the IPAM: the NIC itself unless a Vip lends it."""
        return self._ipam_owners.get(nic, nic)

    def _unlink(self, nic: str, link: tuple[bool, OwnerKey]) -> None:
        is_vm, owner = link
        table = self._by_vm if is_vm else self._by_pod
        nics = table.get(owner)
        if nics is not None:
            nics.discard(nic)
            if not nics:
                del table[owner]

    def begin_release(self, nic: str) -> None:
        """``nic`` is being released: nobody may allocate it until :meth:`end_release`."""
        self._releasing.add(nic)

    def end_release(self, nic: str) -> None:
        self._releasing.discard(nic)

    def releasing(self, nic: str) -> bool:
        """Whether a release of ``nic`` is under way (awaiting its IP object's DELETE)."""
        return nic in self._releasing

    def owner_of(self, nic: str) -> tuple[bool, OwnerKey] | None:
        """``(is_vm, owner)`` of a recorded NIC."""
        return self._owner_of.get(nic)

    def nics(self) -> list[str]:
        return list(self._owner_of)

    def port(self, nic: str) -> PortSpec | None:
        """The logical switch port last ensured for the NIC, if any."""
        return self._ports.get(nic)

    def set_port(self, nic: str, port: PortSpec) -> None:
        self._ports[nic] = port

    def nics_of_pod(self, key: OwnerKey) -> frozenset[str]:
        return frozenset(self._by_pod.get(key, ()))

    def nics_of_vm(self, key: OwnerKey) -> frozenset[str]:
        return frozenset(self._by_vm.get(key, ()))

    def pods(self) -> list[OwnerKey]:
        return list(self._by_pod)

    def vms(self) -> list[OwnerKey]:
        return list(self._by_vm)

    def written(self, nic: str) -> IpObjectState | None:
        return self._written.get(nic)

    def set_written(self, nic: str, state: IpObjectState) -> None:
        self._written[nic] = state

    def rebuild(self, records: Iterable[IpRecord]) -> None:
        """Take in the IP objects found at start-up (only the ones the IPAM accepted)."""
        for ip in records:
            is_vm = ip.pod_type == VM_POD_TYPE
            owner = (
                claim_ledger_owner(ip.pod_name) if ip.pod_type == CLAIM_POD_TYPE else ip.pod_name
            )
            self.record(ip.name, owner=(ip.namespace, owner), is_vm=is_vm)
            self._written[ip.name] = IpObjectState(
                subnet=ip.subnet,
                ips=ip.ips,
                mac=ip.mac or "",
                node_name=ip.node_name,
                pod_name=ip.pod_name,
                namespace=ip.namespace,
                pod_type=ip.pod_type,
            )

    def __len__(self) -> int:
        return len(self._owner_of)
