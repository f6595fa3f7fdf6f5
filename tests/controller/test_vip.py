"""Vips: an address reserved ahead of time, taken by the pod that names it, freed with the Vip."""

from __future__ import annotations

import functools
from typing import Any

from ovnctl.k8s.resources import PODS, VIPS
from tests.controller import probes
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, pod, subnet

IP = "ovn.kubernetes.io/ip_address"
MAC = "ovn.kubernetes.io/mac_address"


def vip(name: str, subnet_name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "Vip",
        "metadata": {"name": name},
        "spec": {"subnet": subnet_name, **spec},
    }


async def status(kube, name: str) -> dict[str, Any]:
    body = await kube.get(VIPS, name=name)
    return dict(body.get("status") or {})


def _refused(status: dict[str, Any]) -> bool:
    return any(c["status"] == "False" for c in status.get("conditions", []))


async def gone(kube, name: str) -> bool:
    names = [item["metadata"]["name"] async for page in kube.list_pages(VIPS) for item in page]
    return name not in names


async def test_vip_is_reserved_taken_by_its_pod_and_freed_after_it(start_controller, kube) -> None:
    """Requested and next-free Vips; a pod gets exactly the Vip; deletion waits for the pod."""
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/24", default=True),
        vip("db-vip", "ovn-default", v4ip="10.16.0.99"),
        vip("any-vip", "ovn-default"),
    )
    await start_controller()
    reserved = await eventually(lambda: status(kube, "db-vip"), until=lambda s: bool(s.get("mac")))
    assert reserved["v4ip"] == "10.16.0.99"
    other = await eventually(lambda: status(kube, "any-vip"), until=lambda s: bool(s.get("v4ip")))
    assert other["v4ip"] == "10.16.0.2"

    await create_all(kube, pod("db", annotations={"ovn.kubernetes.io/vip": "db-vip"}))
    got = await probes.allocated(kube, "db", "ovn")
    assert (got[IP], got[MAC]) == ("10.16.0.99", reserved["mac"])
    # A second pod naming the same Vip waits: one address, one pod. When db goes, db2
    # takes the Vip over.
    await create_all(kube, pod("db2", annotations={"ovn.kubernetes.io/vip": "db-vip"}))
    await probes.warning(kube, "db2", "VipInUse")
    await kube.delete(PODS, name="db", namespace="default")
    assert (await probes.allocated(kube, "db2", "ovn"))[IP] == "10.16.0.99"

    # Deleting the Vip while a pod uses it: an Event, and the address stays held.
    await kube.delete(VIPS, name="db-vip")
    await probes.warning(kube, "db-vip", "VipInUse", namespace="default")
    assert not await gone(kube, "db-vip")
    await kube.delete(PODS, name="db2", namespace="default")
    await eventually(lambda: gone(kube, "db-vip"), until=bool)
    # The address is free again: a pod asking for it statically gets it.
    await create_all(kube, pod("after", annotations={IP: "10.16.0.99"}))
    assert (await probes.allocated(kube, "after", "ovn"))[IP] == "10.16.0.99"


async def test_vip_errors_are_conditions(start_controller, kube) -> None:
    """A taken or outside address is a Ready=False condition; an unknown Vip makes pods wait."""
    await create_all(kube, subnet("ovn-default", "10.16.0.0/24", default=True))
    await start_controller()
    await create_all(kube, pod("holder", annotations={IP: "10.16.0.50"}))
    await probes.allocated(kube, "holder", "ovn")
    await create_all(
        kube,
        vip("taken", "ovn-default", v4ip="10.16.0.50"),
        vip("outside", "ovn-default", v4ip="10.99.0.1"),
    )
    for name, reason in (("taken", "StaticIPTaken"), ("outside", "StaticIPOutOfRange")):
        got = await eventually(functools.partial(status, kube, name), until=_refused)
        assert got["conditions"][0]["reason"] == reason
    await create_all(kube, pod("lost", annotations={"ovn.kubernetes.io/vip": "nope"}))
    await probes.warning(kube, "lost", "VipNotFound")
    await create_all(kube, vip("nope", "ovn-default"))
    await probes.allocated(kube, "lost", "ovn")


async def test_vip_survives_a_restart_with_its_pod(sim, kube) -> None:
    """After a restart the Vip still owns its address and the pod keeps using it."""
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/24", default=True),
        vip("v", "ovn-default", v4ip="10.16.0.77"),
    )
    async with probes.Restartable(sim) as controller:
        await controller.start()
        await eventually(lambda: status(kube, "v"), until=lambda s: bool(s.get("v4ip")))
        await create_all(kube, pod("user", annotations={"ovn.kubernetes.io/vip": "v"}))
        await probes.allocated(kube, "user", "ovn")
        await controller.stop()
        await controller.start()
        await kube.delete(PODS, name="user", namespace="default")
        await eventually(
            lambda: probes.ip_object(kube, "user.default"), until=lambda ip: ip is None
        )
        # Still reserved: a pod asking for it statically is refused.
        await create_all(kube, pod("thief", annotations={IP: "10.16.0.77"}))
        await probes.warning(kube, "thief", "StaticIPTaken")
