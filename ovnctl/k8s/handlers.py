"""Kopf handlers: watch events become cache entries and work-queue keys, nothing else.

One watch per resource kind. Index functions keep a small parsed record per
object (see :mod:`ovnctl.caches`); event handlers only tell the controller
which keys changed, through :class:`WatchHooks`, and return at once: no API
calls, no waiting, no reconciling in a watch callback. Every handler is
``async`` because Kopf runs synchronous handlers on a thread pool, which
would both cost a thread hop per event and race the work queue.

Kopf guarantees that indexes are fully pre-populated before any resource
handler runs, and that indexes may be handed to tasks started from a startup
handler. ovnctl relies on both: the startup handler passes the indexes to the
controller, and the first event of any kind (namespaces always exist, so one
always comes) tells it that the caches are complete.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

import kopf

from ovnctl.caches import (
    index_nad_by_key,
    index_pod_by_key,
    index_pod_by_vm,
    index_subnet_by_name,
    index_subnet_by_namespace,
    index_subnet_by_provider,
    index_subnet_default,
)
from ovnctl.caches.kubevirt import index_by_namespaced_name
from ovnctl.models import pod_owner

__all__ = [
    "INDEX_IDS",
    "NADS_BY_KEY",
    "PODS_BY_KEY",
    "PODS_BY_VM",
    "SUBNETS_BY_NAME",
    "SUBNETS_BY_NAMESPACE",
    "SUBNETS_BY_PROVIDER",
    "SUBNETS_DEFAULT",
    "VMIS",
    "VMS",
    "WatchHooks",
    "build_registry",
    "operator_settings",
]

NADS_BY_KEY = "ovnctl_nads_by_key"
SUBNETS_BY_NAME = "ovnctl_subnets_by_name"
SUBNETS_BY_PROVIDER = "ovnctl_subnets_by_provider"
SUBNETS_BY_NAMESPACE = "ovnctl_subnets_by_namespace"
SUBNETS_DEFAULT = "ovnctl_subnets_default"
PODS_BY_KEY = "ovnctl_pods_by_key"
PODS_BY_VM = "ovnctl_pods_by_vm"
VMS = "ovnctl_vms"
VMIS = "ovnctl_vmis"
INDEX_IDS = (
    NADS_BY_KEY,
    SUBNETS_BY_NAME,
    SUBNETS_BY_PROVIDER,
    SUBNETS_BY_NAMESPACE,
    SUBNETS_DEFAULT,
    PODS_BY_KEY,
    PODS_BY_VM,
    VMS,
    VMIS,
)

IndexMapping = Mapping[Any, Collection[Any]]


class WatchHooks(Protocol):
    """What the handlers tell the controller. Implementations must not block."""

    def attach_indices(self, indices: Mapping[str, IndexMapping]) -> None:
        """The indexes, handed over once at start-up (possibly still filling)."""

    def caches_listed(self) -> None:
        """Every index finished its initial listing."""

    def nad_changed(self, namespace: str, name: str) -> None:
        """A NetworkAttachmentDefinition was created, changed or deleted."""

    def subnet_changed(self, name: str) -> None:
        """A Subnet was created, changed or deleted."""

    def pod_changed(self, namespace: str, name: str, *, vm: str | None) -> None:
        """A pod was created, changed or deleted; ``vm`` names its KubeVirt VM, if any."""

    def vm_changed(self, namespace: str, name: str) -> None:
        """A VirtualMachine or VirtualMachineInstance was created, changed or deleted."""


def build_registry(*, hooks: WatchHooks, connection: kopf.ConnectionInfo) -> kopf.OperatorRegistry:
    """A fresh registry with ovnctl's handlers; one per controller instance."""
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)
    async def login(**_: Any) -> kopf.ConnectionInfo:
        return connection

    @kopf.on.startup(registry=registry)
    async def hand_over_indices(**kwargs: Any) -> None:
        hooks.attach_indices({index_id: kwargs[index_id] for index_id in INDEX_IDS})

    @kopf.index(
        "k8s.cni.cncf.io", "v1", "network-attachment-definitions", id=NADS_BY_KEY, registry=registry
    )
    async def nads_by_key(body: kopf.Body, **_: Any) -> dict[Any, Any]:
        return dict(index_nad_by_key(body))

    @kopf.on.event("k8s.cni.cncf.io", "v1", "network-attachment-definitions", registry=registry)
    async def nad_event(namespace: str | None, name: str | None, **_: Any) -> None:
        hooks.caches_listed()
        if namespace and name:
            hooks.nad_changed(namespace, name)

    subnets = ("kubeovn.io", "v1", "subnets")

    @kopf.index(*subnets, id=SUBNETS_BY_NAME, registry=registry)
    async def subnets_by_name(body: kopf.Body, **_: Any) -> dict[Any, Any]:
        return dict(index_subnet_by_name(body))

    @kopf.index(*subnets, id=SUBNETS_BY_PROVIDER, registry=registry)
    async def subnets_by_provider(body: kopf.Body, **_: Any) -> dict[Any, Any]:
        return dict(index_subnet_by_provider(body))

    @kopf.index(*subnets, id=SUBNETS_BY_NAMESPACE, registry=registry)
    async def subnets_by_namespace(body: kopf.Body, **_: Any) -> dict[Any, Any]:
        return dict(index_subnet_by_namespace(body))

    @kopf.index(*subnets, id=SUBNETS_DEFAULT, registry=registry)
    async def subnets_default(body: kopf.Body, **_: Any) -> dict[Any, Any]:
        return dict(index_subnet_default(body))

    @kopf.on.event(*subnets, registry=registry)
    async def subnet_event(name: str | None, **_: Any) -> None:
        hooks.caches_listed()
        if name:
            hooks.subnet_changed(name)

    @kopf.index("", "v1", "pods", id=PODS_BY_KEY, registry=registry)
    async def pods_by_key(body: kopf.Body, **_: Any) -> dict[Any, Any]:
        return dict(index_pod_by_key(body))

    @kopf.index("", "v1", "pods", id=PODS_BY_VM, registry=registry)
    async def pods_by_vm(body: kopf.Body, **_: Any) -> dict[Any, Any]:
        return dict(index_pod_by_vm(body))

    @kopf.on.event("", "v1", "pods", registry=registry)
    async def pod_event(body: kopf.Body, namespace: str | None, name: str | None, **_: Any) -> None:
        hooks.caches_listed()
        if namespace and name:
            owner = pod_owner(pod=body)
            hooks.pod_changed(namespace, name, vm=owner.name if owner.is_vm else None)

    for plural, index_id in (("virtualmachines", VMS), ("virtualmachineinstances", VMIS)):

        @kopf.index("kubevirt.io", "v1", plural, id=index_id, registry=registry)
        async def kubevirt_index(body: kopf.Body, **_: Any) -> dict[Any, Any]:
            return dict(index_by_namespaced_name(body))

        @kopf.on.event("kubevirt.io", "v1", plural, id=f"{index_id}_event", registry=registry)
        async def kubevirt_event(namespace: str | None, name: str | None, **_: Any) -> None:
            hooks.caches_listed()
            if namespace and name:
                hooks.vm_changed(namespace, name)

    @kopf.on.event("", "v1", "namespaces", registry=registry)
    async def namespace_event(**_: Any) -> None:
        hooks.caches_listed()

    return registry


def operator_settings() -> kopf.OperatorSettings:
    """Kopf settings for a controller that only watches, indexes and enqueues."""
    settings = kopf.OperatorSettings()
    # ovnctl posts its own Events (aggregated); Kopf's per-handler log Events would
    # cost one API write per watch event on busy kinds.
    settings.posting.enabled = False
    # Leader election is a Lease (see ovnctl.k8s.leader), not Kopf's peering objects.
    settings.peering.standalone = True
    # Bound the initial LIST page so peak memory on a large cluster follows the page.
    settings.watching.chunk_size = 500
    return settings
