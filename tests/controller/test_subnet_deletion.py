"""Deleting a Subnet: at once when empty, held by the finalizer while addresses are in use."""

from __future__ import annotations

from typing import Any

from ovnctl.k8s.api import KubeApi
from ovnctl.k8s.resources import IPS, PODS, SUBNETS, VIRTUAL_MACHINES
from ovnctl.models.ip_object import build_ip_object
from tests.controller.conftest import call, eventually, stop
from tests.controller.objects import create_all, pod, subnet, virtual_machine
from tests.controller.subnet_checks import condition, gone, wait_condition, wait_ready

FINALIZER = "kubeovn.io/ovnctl"


async def allocated(kube: KubeApi, name: str) -> dict[str, Any]:
    return await eventually(
        lambda: kube.get(PODS, name=name, namespace="default"),
        until=lambda p: (
            (p["metadata"].get("annotations") or {}).get("ovn.kubernetes.io/allocated") == "true"
        ),
    )


async def test_empty_subnet_deleted_at_once(start_controller, kube) -> None:
    """A subnet without allocations carries the finalizer and goes as soon as it is deleted."""
    controller = await start_controller()
    await create_all(kube, subnet("empty", "10.16.0.0/24"))
    body = await wait_ready(kube, "empty")
    assert FINALIZER in body["metadata"]["finalizers"]
    await kube.delete(SUBNETS, name="empty")
    await eventually(lambda: gone(kube, "empty"), until=bool)
    assert not await call(controller, lambda c: "empty" in c.ipam)


async def test_subnet_with_pods_waits_for_them(start_controller, kube) -> None:
    """Deleting a subnet whose pods hold addresses is Terminating until the last pod goes."""
    await start_controller()
    await create_all(kube, subnet("busy", "10.16.0.0/24", default=True))
    await wait_ready(kube, "busy")
    await create_all(kube, pod("p1"), pod("p2"))
    await allocated(kube, "p1")
    await allocated(kube, "p2")
    await kube.delete(SUBNETS, name="busy")
    body = await wait_condition(kube, "busy", "Ready", "False", "Terminating")
    assert FINALIZER in body["metadata"]["finalizers"]
    assert body["metadata"].get("deletionTimestamp")
    message = condition(body, "Ready")["message"]
    assert "2 allocations" in message
    assert "p1.default" in message
    assert "p2.default" in message
    assert condition(body, "Error")["status"] == "False"

    await kube.delete(PODS, name="p1", namespace="default")
    body = await eventually(
        lambda: kube.get(SUBNETS, name="busy"),
        until=lambda s: "1 allocations" in condition(s, "Ready")["message"],
    )
    assert body["status"]["v4usingIPs"] == 1
    assert not await gone(kube, "busy")

    await kube.delete(PODS, name="p2", namespace="default")
    await eventually(lambda: gone(kube, "busy"), until=bool)


async def test_ip_objects_block_deletion_until_released(start_controller, kube) -> None:
    """Allocations rebuilt from IP objects hold the subnet; releasing them lets it go."""
    await create_all(kube, subnet("held", "10.16.0.0/24"), virtual_machine("vm1"))
    await kube.create(
        IPS,
        build_ip_object(
            name="vm1.default",
            pod_name="vm1",
            namespace="default",
            subnet="held",
            ips=["10.16.0.7"],
            mac="00:00:00:0a:0b:0c",
            pod_type="VirtualMachine",
        ),
    )
    controller = await start_controller()
    # Readiness waited for the rebuild: the address is held the moment the gate opens.
    assert await call(controller, lambda c: list(c.ipam.owners())) == ["vm1.default"]
    body = await wait_ready(kube, "held")
    assert body["status"]["v4usingIPs"] == 1
    assert body["status"]["v4usingIPrange"] == "10.16.0.7"

    await kube.delete(SUBNETS, name="held")
    body = await wait_condition(kube, "held", "Ready", "False", "Terminating")
    assert "vm1.default" in condition(body, "Ready")["message"]
    assert body["metadata"]["finalizers"] == [FINALIZER]

    def release(c: Any) -> None:
        c.ipam.release("vm1.default")
        c.subnet_queue.add("held")

    await call(controller, release)
    await eventually(lambda: gone(kube, "held"), until=bool)
    # The VM itself was not touched.
    await kube.get(VIRTUAL_MACHINES, name="vm1", namespace="default")


async def test_restart_rebuilds_the_same_state(start_controller, kube) -> None:
    """After a restart the IPAM holds the same owners and the status the same counts."""
    first = await start_controller()
    await create_all(kube, subnet("keep", "10.16.0.0/24", default=True))
    await wait_ready(kube, "keep")
    await create_all(kube, *(pod(f"p{i}") for i in range(5)))
    for i in range(5):
        await allocated(kube, f"p{i}")
    before = await eventually(
        lambda: kube.get(SUBNETS, name="keep"), until=lambda s: s["status"]["v4usingIPs"] == 5
    )

    def held(c: Any) -> dict[str, tuple[str, ...]]:
        return {a.owner: a.ips for a in c.ipam.subnet("keep").allocations()}

    owners = await call(first, held)
    assert len(owners) == 5
    await stop(first)

    second = await start_controller()
    # The gate opened only after the rebuild: no polling needed.
    assert await call(second, held) == owners
    after = await wait_ready(kube, "keep")
    assert {k: v for k, v in after["status"].items() if k != "conditions"} == {
        k: v for k, v in before["status"].items() if k != "conditions"
    }
    assert condition(after, "Ready") == condition(before, "Ready")
