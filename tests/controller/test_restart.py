"""Controller restarts: no duplicate, no leak, and owners deleted meanwhile are collected."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from ovnctl.k8s.resources import PODS, VIRTUAL_MACHINES
from tests.controller import probes
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, kube_ovn_nad, pod, subnet, virtual_machine
from tests.controller.probes import key

A = "net-a.default.ovn"
PROVIDERS = ("ovn", A)


async def _setup(kube: Any) -> None:
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/16", default=True),
        kube_ovn_nad("net-a"),
        subnet("sub-a", "172.17.0.0/16", provider=A),
    )


def _is_allocated(body: dict[str, Any]) -> bool:
    annotations = body["metadata"].get("annotations") or {}
    return all(annotations.get(key(p, "allocated")) == "true" for p in PROVIDERS)


async def _count_allocated(kube: Any) -> int:
    return sum(_is_allocated(body) for body in (await probes.pods(kube)).values())


async def _create_pods(kube: Any, names: list[str]) -> None:
    limit = asyncio.Semaphore(16)

    async def one(name: str) -> None:
        async with limit:
            await kube.create(PODS, pod(name, networks="net-a"), namespace="default")

    await asyncio.gather(*(one(n) for n in names))


async def test_restart_in_the_middle_of_a_burst(sim, kube) -> None:
    """Stopped mid-burst and replaced: every pod allocated once, no duplicate, no leak."""
    await _setup(kube)
    names = [f"p{i:03d}" for i in range(200)]
    async with probes.Restartable(sim) as controller:
        # No shutdown grace: reconciles in flight are cancelled between their writes (an
        # IP object created, the pod not yet patched), as if the controller crashed.
        await controller.start(shutdown_grace=0.0)
        sim.reset_request_log()
        burst = asyncio.create_task(_create_pods(kube, names[:150]))
        await eventually(lambda: _count_allocated(kube), until=lambda n: n >= 30, interval=0.02)
        await controller.stop()
        await burst
        stopped_with = await _count_allocated(kube)
        assert stopped_with < 150, "the burst ended before the restart; nothing was tested"
        await _create_pods(kube, names[150:])  # more arrive while no controller runs
        running = await controller.start(shutdown_grace=10.0)
        await eventually(lambda: _count_allocated(kube), until=lambda n: n == len(names), within=60)
        await probes.idle(running, lambda c: True)  # no reconcile left to add or drop an IP

        pods = await probes.pods(kube)
        ips = await probes.ip_objects(kube)
        assert len(ips) == 2 * len(names)
        for provider, subnet_name in (("ovn", "ovn-default"), (A, "sub-a")):
            given = [pods[n]["metadata"]["annotations"][key(provider, "ip_address")] for n in names]
            macs = [pods[n]["metadata"]["annotations"][key(provider, "mac_address")] for n in names]
            assert [ip for ip, n in Counter(given).items() if n > 1] == []
            assert [mac for mac, n in Counter(macs).items() if n > 1] == []
            for name, ip in zip(names, given, strict=True):
                nic = f"{name}.default" + ("" if provider == "ovn" else f".{provider}")
                assert ips[nic]["spec"]["ipAddress"] == ip, nic
                assert ips[nic]["spec"]["subnet"] == subnet_name
            assert await probes.using(kube, subnet_name) == len(names)
        assert {body["spec"]["podName"] for body in ips.values()} == set(names)
        # One IP object create per NIC across both controllers: no retry wrote a second one.
        assert sim.request_log.count(verb="create", resource="ips") == 2 * len(names)
        assert sim.request_log.count(verb="patch", resource="pods") <= len(names) + stopped_with


async def test_owners_deleted_while_stopped_are_collected(sim, kube) -> None:
    """Pods, a finished pod and a VM gone while no controller ran lose their IP objects."""
    await _setup(kube)
    await create_all(kube, virtual_machine("vm-gone"), virtual_machine("vm-stays"))
    async with probes.Restartable(sim) as controller:
        await controller.start()
        await create_all(
            kube,
            *(pod(f"keep{i}", networks="net-a") for i in range(3)),
            *(pod(f"gone{i}", networks="net-a") for i in range(3)),
            pod("done", networks="net-a"),
            pod("virt-launcher-vm-gone-a", networks="net-a", vm="vm-gone"),
            pod("virt-launcher-vm-stays-a", networks="net-a", vm="vm-stays"),
        )
        every = [*(f"keep{i}" for i in range(3)), *(f"gone{i}" for i in range(3)), "done"]
        for name in [*every, "virt-launcher-vm-gone-a", "virt-launcher-vm-stays-a"]:
            await probes.allocated(kube, name, *PROVIDERS)
        before = await probes.ip_objects(kube)
        await controller.stop()

        for i in range(3):
            await kube.delete(PODS, name=f"gone{i}", namespace="default")
        await kube.patch(
            PODS,
            name="done",
            namespace="default",
            subresource="status",
            body={"status": {"phase": "Succeeded"}},
        )
        await kube.delete(PODS, name="virt-launcher-vm-gone-a", namespace="default")
        await kube.delete(VIRTUAL_MACHINES, name="vm-gone", namespace="default")
        # vm-stays is stopped (its pod goes) but still exists: it keeps its addresses.
        await kube.delete(PODS, name="virt-launcher-vm-stays-a", namespace="default")

        await controller.start()
        gone = {n for n in before if n.split(".")[0] in {"gone0", "gone1", "gone2", "done"}}
        gone |= {n for n in before if n.startswith("vm-gone.")}
        assert len(gone) == 2 * 5
        after = await eventually(
            lambda: probes.ip_objects(kube), until=lambda found: not (gone & set(found))
        )
        assert set(after) == set(before) - gone
        for name in set(after):
            assert after[name]["spec"] == before[name]["spec"]
        await eventually(lambda: probes.using(kube, "sub-a"), until=lambda n: n == 4)
        assert await probes.using(kube, "ovn-default") == 4


async def test_sweeps_never_release_a_live_owner(sim, kube) -> None:
    """Frequent GC sweeps leave running pods, a stopped VM and a standalone pod alone."""
    await _setup(kube)
    await create_all(kube, virtual_machine("vm1"))
    async with probes.Restartable(sim, gc_interval=0.1) as controller:
        await controller.start()
        await create_all(
            kube,
            pod("p1", networks="net-a"),
            pod("virt-launcher-vm1-a", networks="net-a", vm="vm1"),
        )
        first = await probes.allocated(kube, "virt-launcher-vm1-a", *PROVIDERS)
        await probes.allocated(kube, "p1", *PROVIDERS)
        await kube.delete(PODS, name="virt-launcher-vm1-a", namespace="default")
        before = await probes.ip_objects(kube)
        await asyncio.sleep(1.5)  # about fifteen sweeps
        assert await probes.ip_objects(kube) == before
        # The stopped VM's addresses are not handed to anyone else meanwhile.
        await create_all(kube, pod("p2", networks="net-a"))
        p2 = await probes.allocated(kube, "p2", *PROVIDERS)
        for provider in PROVIDERS:
            assert p2[key(provider, "ip_address")] != first[key(provider, "ip_address")]
        await create_all(kube, pod("virt-launcher-vm1-b", networks="net-a", vm="vm1"))
        again = await probes.allocated(kube, "virt-launcher-vm1-b", *PROVIDERS)
        for provider in PROVIDERS:
            assert again[key(provider, "ip_address")] == first[key(provider, "ip_address")]
