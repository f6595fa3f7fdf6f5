"""No subnet work before the caches are listed and the IPAM is rebuilt from IP objects."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

from ovnctl.controller import ControllerSettings
from ovnctl.controller.runtime import CACHES_LISTED, IPAM_REBUILT
from ovnctl.k8s.api import Resource
from ovnctl.k8s.resources import IPS, SUBNETS
from ovnctl.models.ip_object import build_ip_object
from tests.controller.conftest import ControllerThread, eventually
from tests.controller.objects import create_all, subnet, virtual_machine
from tests.controller.subnet_checks import wait_ready


async def test_gate_starts_closed(sim) -> None:
    """A controller that has not run yet misses both conditions and is 'starting'."""
    thread = ControllerThread(ControllerSettings(kubeconfig=str(sim.kubeconfig_path)))
    try:
        assert thread.controller.gate.missing == {CACHES_LISTED, IPAM_REBUILT}
        assert thread.controller.state == "starting"
    finally:
        thread.controller.api.close()


async def test_subnets_wait_for_the_rebuild(sim, kube) -> None:
    """With the IP LIST held back, caches are listed but no subnet is touched; then all are."""
    await create_all(
        kube,
        subnet("pre1", "10.16.0.0/24"),
        subnet("pre2", "10.17.0.0/24"),
        virtual_machine("vm1"),  # a stopped VM keeps its address: nothing releases it
    )
    await kube.create(
        IPS,
        build_ip_object(
            name="vm1.default", pod_name="vm1", namespace="default", subnet="pre1",
            ips=["10.16.0.9"], mac="00:00:00:00:00:09", pod_type="VirtualMachine",
        ),
    )  # fmt: skip
    thread = ControllerThread(ControllerSettings(kubeconfig=str(sim.kubeconfig_path)))
    api = thread.controller.api
    release = threading.Event()
    real_list_pages = api.list_pages

    async def held_list_pages(resource: Resource, **kwargs: Any) -> AsyncIterator[list[Any]]:
        if resource == IPS:
            await asyncio.to_thread(release.wait)
        async for page in real_list_pages(resource, **kwargs):
            yield page

    api.list_pages = held_list_pages  # type: ignore[method-assign]
    sim.reset_request_log()
    starting = asyncio.create_task(thread.start())
    try:
        await eventually(
            lambda: asyncio.sleep(0, thread.controller.gate.missing),
            until=lambda missing: missing == {IPAM_REBUILT},
        )
        assert thread.controller.state == "standby"
        # Caches are whole, yet nothing was written to any subnet and no key was taken.
        await asyncio.sleep(0.3)
        writes = [
            e for e in sim.request_log.entries if e.resource == "subnets" and e.verb != "list"
        ]
        assert [e for e in writes if e.verb != "watch"] == []
        for name in ("pre1", "pre2"):
            assert "status" not in await kube.get(SUBNETS, name=name)
        assert not thread.controller.gate.ready

        release.set()
        await starting
        # Ready means the subnets that existed before start were reconciled, with the
        # rebuilt allocation counted.
        assert thread.controller.gate.missing == frozenset()
        body = await wait_ready(kube, "pre1")
        assert body["status"]["v4usingIPs"] == 1
        await wait_ready(kube, "pre2")
        entries = sim.request_log.entries
        ip_list = next(i for i, e in enumerate(entries) if e.resource == "ips" and e.verb == "list")
        first_write = next(
            i for i, e in enumerate(entries) if e.resource == "subnets" and e.verb == "patch"
        )
        assert ip_list < first_write
    finally:
        release.set()
        if not starting.done():
            starting.cancel()
        await asyncio.to_thread(thread.stop)


async def test_a_failed_start_up_stops_the_replica(sim) -> None:
    """If the IP objects cannot be listed for the rebuild, the controller stops and says so."""
    from ovnctl.controller.runtime import Controller
    from ovnctl.k8s.api import Transient

    controller = Controller(settings=ControllerSettings(kubeconfig=str(sim.kubeconfig_path)))
    real_list_pages = controller.api.list_pages

    async def failing_list_pages(resource: Resource, **kwargs: Any) -> AsyncIterator[list[Any]]:
        if resource == IPS:
            raise Transient(
                status=503, reason="ServiceUnavailable", message="etcd leader changed",
                verb="list", path="/apis/kubeovn.io/v1/ips",
            )  # fmt: skip
        async for page in real_list_pages(resource, **kwargs):
            yield page

    controller.api.list_pages = failing_list_pages  # type: ignore[method-assign]
    try:
        # Without the stop it would watch (and, elected, renew its Lease) forever, idle.
        await asyncio.wait_for(controller.run(), timeout=30)
        assert controller.startup_failed
        assert controller.gate.missing == {IPAM_REBUILT}
    finally:
        controller.api.close()
