"""``ovnctl ipam release``: delete a leaked IP object, only when its owner is surely gone.

The owner is looked up afresh through the API at the moment of the release,
never taken from an earlier ``ipam check``: a pod or VM recreated since would
otherwise lose its address while running. For a pod NIC the pod must be
absent or finished; for a VM NIC the VirtualMachine, the VMI and every
virt-launcher pod of it must be absent. The DELETE carries the IP object's
uid as a precondition, so a namesake written in between is never deleted.

Freeing the address in a running controller's memory is the controller's
business: if it recorded the NIC, its next garbage-collection sweep (every
``--gc-interval``) finds the owner gone and frees the address (and its NB
port); a controller that refused the record at start-up never held it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ovnctl.audit.records import IpObjectRecord, Unreadable, ip_object_record
from ovnctl.k8s.api import KubeApi, NotFound, Resource
from ovnctl.k8s.resources import IPS, PODS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES
from ovnctl.models import meta_name, meta_uid, object_meta, pod_owner

__all__ = ["Candidate", "find_candidate", "release_candidate"]

_FINISHED = frozenset({"Succeeded", "Failed"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """An IP object asked to be released, and whether that is safe."""

    name: str
    uid: str
    record: IpObjectRecord | None
    refusal: str | None
    """Why it must not be released (its owner exists, it is not there, ...); None: safe."""

    def describe(self) -> str:
        if self.record is None:
            return self.name
        owner = "VM" if self.record.is_vm else "pod"
        return (
            f"{self.name} (subnet {self.record.subnet}, {','.join(self.record.ips)}, "
            f"{owner} {self.record.namespace}/{self.record.owner})"
        )


async def _exists(api: KubeApi, resource: Resource, namespace: str, name: str) -> dict[str, Any]:
    """The object's body, or ``{}`` if it does not exist."""
    try:
        body = await api.get(resource, name=name, namespace=namespace)
    except NotFound:
        return {}
    return body if isinstance(body, dict) and body else {"metadata": {"name": name}}


async def _owner_alive(api: KubeApi, record: IpObjectRecord) -> str | None:
    """Why the owner still exists (or cannot be judged), or None if it is gone."""
    namespace, owner = record.namespace, record.owner
    if not namespace or not owner:
        # Kube-OVN's node ports have no namespace: whatever owns them, it is no pod or VM.
        return f"not a pod's or VM's NIC (spec.namespace {namespace!r}, spec.podName {owner!r})"
    if not record.is_vm:
        pod = await _exists(api, PODS, namespace, owner)
        if not pod:
            return None
        status = pod.get("status")
        phase = status.get("phase") if isinstance(status, dict) else None
        return None if phase in _FINISHED else f"pod {namespace}/{owner} exists ({phase})"
    if await _exists(api, VIRTUAL_MACHINES, namespace, owner):
        return f"VirtualMachine {namespace}/{owner} exists"
    if await _exists(api, VIRTUAL_MACHINE_INSTANCES, namespace, owner):
        return f"VirtualMachineInstance {namespace}/{owner} exists"
    async for page in api.list_pages(PODS, namespace=namespace):
        for pod in page:
            status = pod.get("status") or {}
            if status.get("phase") in _FINISHED:
                continue
            found = pod_owner(pod=pod)
            if found.is_vm and found.name == owner:
                name = meta_name(object_meta(pod))
                return f"launcher pod {namespace}/{name} of VM {owner} exists"
    return None


async def find_candidate(api: KubeApi, name: str) -> Candidate:
    """Read IP object ``name`` and decide whether releasing it is safe (raises on API errors)."""
    try:
        body = await api.get(IPS, name=name)
    except NotFound:
        return Candidate(name, "", None, "no such IP object")
    uid = meta_uid(object_meta(body))
    record = ip_object_record(body)
    if isinstance(record, Unreadable):
        # Its owner cannot be known, so it cannot be shown to be gone.
        return Candidate(name, uid, None, f"unreadable ({record.field}: {record.detail})")
    alive = await _owner_alive(api, record)
    return Candidate(name, uid, record, f"its owner is alive: {alive}" if alive else None)


async def release_candidate(api: KubeApi, candidate: Candidate) -> bool:
    """DELETE the IP object (uid precondition); False if it was already gone."""
    try:
        await api.delete(IPS, name=candidate.name, uid=candidate.uid or None)
    except NotFound:
        return False
    return True
