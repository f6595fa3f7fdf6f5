"""Sticky StatefulSet addresses: kept across pod deletion, released on scale-down or deletion."""

from __future__ import annotations

from typing import Any

from ovnctl.k8s.resources import PODS, STATEFULSETS
from tests.controller import probes
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, pod, subnet

IP = "ovn.kubernetes.io/ip_address"
MAC = "ovn.kubernetes.io/mac_address"
POOL = "ovn.kubernetes.io/ip_pool"
LIST = "10.16.0.50,10.16.0.51,10.16.0.52"


def statefulset(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": []}},
        },
    }


async def replica(kube, sts: str, ordinal: int, **extra: Any) -> None:
    """Create pod ``<sts>-<ordinal>`` controlled by the StatefulSet, as its controller would."""
    owner = await kube.get(STATEFULSETS, name=sts, namespace="default")
    body = pod(f"{sts}-{ordinal}", **extra)
    body["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": sts,
            "uid": owner["metadata"]["uid"],
            "controller": True,
        }
    ]
    await create_all(kube, body)


async def test_replicas_keep_their_addresses_and_scale_down_frees_the_third(
    start_controller, kube
) -> None:
    """A 3-replica StatefulSet sharing an ip_pool list: sticky per pod; scaling to 2 frees one."""
    await create_all(
        kube, subnet("ovn-default", "10.16.0.0/24", default=True), statefulset("db", 3)
    )
    await start_controller()
    for i in range(3):
        await replica(kube, "db", i, annotations={POOL: LIST})
    first = {i: await probes.allocated(kube, f"db-{i}", "ovn") for i in range(3)}
    assert sorted(a[IP] for a in first.values()) == LIST.split(",")
    ip = await probes.ip_object(kube, "db-1.default")
    assert ip is not None
    assert ip["spec"]["podType"] == "StatefulSet"

    # db-1 deleted: its address stays held, so another pod of the list finds it full.
    await kube.delete(PODS, name="db-1", namespace="default")
    await create_all(kube, pod("intruder", annotations={POOL: LIST}))
    await probes.warning(kube, "intruder", "IPPoolExhausted")
    await replica(kube, "db", 1, annotations={POOL: LIST}, node="node2")
    again = await probes.allocated(kube, "db-1", "ovn")
    assert (again[IP], again[MAC]) == (first[1][IP], first[1][MAC])
    # The same for every replica.
    for i in (0, 2):
        await kube.delete(PODS, name=f"db-{i}", namespace="default")
        await replica(kube, "db", i, annotations={POOL: LIST})
        back = await probes.allocated(kube, f"db-{i}", "ovn")
        assert (back[IP], back[MAC]) == (first[i][IP], first[i][MAC])

    # Scaled to 2: db-2 goes, and its address is free for the waiting pod.
    await kube.patch(STATEFULSETS, name="db", namespace="default", body={"spec": {"replicas": 2}})
    await kube.delete(PODS, name="db-2", namespace="default")
    got = await probes.allocated(kube, "intruder", "ovn")
    assert got[IP] == first[2][IP]
    assert await probes.ip_object(kube, "db-2.default") is None


async def test_deleting_the_statefulset_releases_its_pods(start_controller, kube) -> None:
    """Pods deleted first keep their addresses; the StatefulSet's deletion frees them."""
    await create_all(
        kube, subnet("ovn-default", "10.16.0.0/24", default=True), statefulset("web", 2)
    )
    await start_controller()
    for i in range(2):
        await replica(kube, "web", i)
        await probes.allocated(kube, f"web-{i}", "ovn")
    for i in range(2):
        await kube.delete(PODS, name=f"web-{i}", namespace="default")
    await kube.delete(STATEFULSETS, name="web", namespace="default")
    await eventually(lambda: probes.ip_objects(kube), until=lambda ips: not ips)
    await eventually(lambda: probes.using(kube, "ovn-default"), until=lambda n: n == 0)


async def test_restart_keeps_live_replicas_and_frees_scaled_down_ones(sim, kube) -> None:
    """Changes made while the controller is down: kept pods stay kept, the rest are freed."""
    await create_all(
        kube, subnet("ovn-default", "10.16.0.0/24", default=True), statefulset("db", 3)
    )
    async with probes.Restartable(sim) as controller:
        await controller.start()
        for i in range(3):
            await replica(kube, "db", i)
        first = {i: await probes.allocated(kube, f"db-{i}", "ovn") for i in range(3)}
        await controller.stop()

        for i in range(3):
            await kube.delete(PODS, name=f"db-{i}", namespace="default")
        await kube.patch(
            STATEFULSETS, name="db", namespace="default", body={"spec": {"replicas": 2}}
        )
        await controller.start()
        await eventually(
            lambda: probes.ip_objects(kube),
            until=lambda ips: set(ips) == {"db-0.default", "db-1.default"},
        )
        for i in range(2):
            await replica(kube, "db", i)
            again = await probes.allocated(kube, f"db-{i}", "ovn")
            assert (again[IP], again[MAC]) == (first[i][IP], first[i][MAC])
        # No duplicate: a new pod takes a fresh address, not a kept one.
        await create_all(kube, pod("fresh"))
        fresh = await probes.allocated(kube, "fresh", "ovn")
        assert fresh[IP] not in {first[0][IP], first[1][IP]}
