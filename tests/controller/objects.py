"""The objects controller tests create (ovnctl's shared builders), and creating them."""

from __future__ import annotations

from typing import Any

from ovnctl.demo.objects import (
    kube_ovn_nad,
    macvlan_nad,
    pod,
    subnet,
    virtual_machine,
    virtual_machine_instance,
)
from ovnctl.k8s.api import KubeApi
from ovnctl.k8s.resources import BY_KIND

__all__ = [
    "create_all",
    "kube_ovn_nad",
    "macvlan_nad",
    "pod",
    "subnet",
    "virtual_machine",
    "virtual_machine_instance",
]


async def create_all(kube: KubeApi, *objects: dict[str, Any]) -> None:
    """Create objects in order, each in its own resource."""
    for obj in objects:
        resource = BY_KIND[obj["kind"]]
        await kube.create(resource, obj, namespace=obj["metadata"].get("namespace"))
