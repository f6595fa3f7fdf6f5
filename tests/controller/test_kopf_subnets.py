"""Kopf owns the Subnet kind: one LIST and one WATCH per start, readiness, no writes."""

from __future__ import annotations

import asyncio
from typing import Any

from ovnctl.controller import ControllerSettings
from ovnctl.controller.runtime import CACHES_LISTED
from ovnctl.k8s.connection import connect
from ovnctl.k8s.kopf_subnets import kopf_user_agent
from ovnctl.k8s.leader import LeaseSettings
from ovnctl.k8s.resources import PODS, SUBNETS
from ovnctl.sim.requestlog import LoggedRequest
from tests.controller.conftest import ControllerThread, eventually, stop
from tests.controller.objects import create_all, pod, subnet
from tests.controller.subnet_checks import wait_ready

READS = ("get", "list", "watch")
WRITES = ("create", "update", "patch", "delete", "deletecollection")


def subnet_requests(sim: Any) -> list[LoggedRequest]:
    return [e for e in sim.request_log.entries if e.resource == "subnets"]


def by_kopf(entry: LoggedRequest) -> bool:
    return (entry.user_agent or "").startswith("kopf/")


async def test_one_list_and_one_watch_of_subnets_per_start_made_by_kopf(
    sim, start_controller
) -> None:
    """Each start reads Subnets with exactly one LIST and one WATCH, Kopf's; nobody else reads."""
    kube = connect(kubeconfig=str(sim.kubeconfig_path), user_agent="the-test")
    try:
        await _one_list_and_one_watch(sim, kube, start_controller)
    finally:
        kube.close()


async def _one_list_and_one_watch(sim, kube, start_controller) -> None:
    await create_all(kube, subnet("a", "10.16.0.0/24"), subnet("b", "10.17.0.0/24"))
    sim.reset_request_log()
    controller = await start_controller()
    await wait_ready(kube, "a")
    await wait_ready(kube, "b")
    assert controller.watching  # every Kopf root task runs (what /healthz reports)
    await stop(controller)
    await start_controller()
    await wait_ready(kube, "a")

    reads = [e for e in subnet_requests(sim) if e.verb in READS]
    ours = [e for e in reads if e.user_agent != "the-test"]
    assert [e.verb for e in ours] == ["list", "watch", "list", "watch"]
    assert all(by_kopf(e) for e in ours), [e.user_agent for e in ours]
    # Kopf only reads: the Subnet writes (status, finalizers) are ovnctl's own.
    assert not [e for e in subnet_requests(sim) if by_kopf(e) and e.verb in WRITES]


async def test_caches_listed_waits_for_every_listed_subnets_handler(sim, kube) -> None:
    """With Kopf's handlers held back by a long batch window, 'caches listed' waits for them."""
    names = [f"s{i}" for i in range(30)]
    await create_all(
        kube,
        *(subnet(n, f"10.{16 + i}.0.0/24", default=(i == 0)) for i, n in enumerate(names)),
        *(pod(f"p{i}") for i in range(10)),
    )
    thread = ControllerThread(ControllerSettings(kubeconfig=str(sim.kubeconfig_path)))
    controller = thread.controller
    # Each Subnet's handler is held back: it runs well after Kopf's listing has ended.
    real_handle = controller.kopf.handle

    async def slow_handle(event: Any) -> None:
        await asyncio.sleep(0.3)
        await real_handle(event)

    controller.kopf.handle = slow_handle  # type: ignore[method-assign]
    seen_at_listed: list[int] = []
    real_mark = controller.gate.mark

    def mark(condition: str) -> None:
        if condition == CACHES_LISTED:
            seen_at_listed.append(len(controller.subnets))
        real_mark(condition)

    controller.gate.mark = mark  # type: ignore[method-assign]
    tracker = controller.kopf.tracker
    seen_at_listing_end: list[int] = []
    real_done = tracker.listing_done

    def listing_done() -> None:
        seen_at_listing_end.append(len(controller.subnets))
        real_done()

    tracker.listing_done = listing_done  # type: ignore[method-assign]
    try:
        await thread.start()
        # Kopf's listing had ended with handlers still pending; readiness waited for them.
        assert seen_at_listing_end[0] < len(names)
        assert seen_at_listed == [len(names)]
        assert controller.kopf.tracker.listings == 1
        # Pods were allocated only after that, from Ready subnets.
        await eventually(
            lambda: kube.get(PODS, name="p0", namespace="default"),
            until=lambda body: (
                "ovn.kubernetes.io/ip_address" in (body["metadata"].get("annotations") or {})
            ),
        )
    finally:
        await asyncio.to_thread(thread.stop)


async def test_a_standbys_kopf_writes_nothing(sim, kube) -> None:
    """The standby lists and watches Subnets through Kopf but sends no write at all."""
    await create_all(kube, subnet("a", "10.16.0.0/24"))

    def settings(identity: str) -> ControllerSettings:
        return ControllerSettings(
            kubeconfig=str(sim.kubeconfig_path),
            leader_election=LeaseSettings(identity=identity, namespace="default"),
        )

    leader = ControllerThread(settings("leader"))
    standby = ControllerThread(settings("standby"))
    try:
        await leader.start()
        await wait_ready(kube, "a")
        starting = asyncio.create_task(standby.start())
        await eventually(
            lambda: asyncio.sleep(0, standby.controller.state), until=lambda s: s == "standby"
        )
        # The standby's Kopf listed and watches Subnets under a User-Agent naming both.
        standby_kopf = [
            e.verb for e in subnet_requests(sim) if e.user_agent == kopf_user_agent("standby")
        ]
        assert standby_kopf == ["list", "watch"]
        sim.reset_request_log()
        await create_all(kube, subnet("b", "10.17.0.0/24"))
        await wait_ready(kube, "b")
        # The standby's Kopf saw the new Subnet (its cache is warm) ...
        await eventually(
            lambda: asyncio.sleep(0, standby.controller.subnets.get("b")),
            until=lambda record: record is not None,
        )
        entries = sim.request_log.entries
        # ... and neither its Kopf nor anything else of it wrote.
        assert not [e for e in entries if by_kopf(e) and e.verb in WRITES]
        assert not [
            e for e in entries if "standby" in (e.user_agent or "") and e.verb in WRITES
            and e.resource != "leases"
        ]  # fmt: skip
        starting.cancel()
    finally:
        await asyncio.to_thread(standby.stop)
        await asyncio.to_thread(leader.stop)


def test_subnets_are_not_on_a_reflector(sim) -> None:
    """No informer of the controller watches Subnets: Kopf does."""
    thread = ControllerThread(ControllerSettings(kubeconfig=str(sim.kubeconfig_path)))
    try:
        paths = [informer.reflector.name for informer in thread.controller._informers]
        assert SUBNETS.path() not in paths
    finally:
        thread.controller.api.close()


async def test_without_the_subnet_crd_the_replica_says_why_it_is_not_ready(caplog) -> None:
    """Kopf discovers resources once: no Subnet CRD, no watch; the log names the CRD to install."""
    from ovnctl.sim import ThreadedSimServer
    from tests.controller.conftest import CRDS

    manifests = [path for path in CRDS if path.name != "subnet.yaml"]
    with ThreadedSimServer(manifests=manifests) as sim:
        thread = ControllerThread(ControllerSettings(kubeconfig=str(sim.kubeconfig_path)))
        starting = asyncio.create_task(thread.start())
        try:
            await eventually(
                lambda: asyncio.sleep(0, [r.getMessage() for r in caplog.records]),
                until=lambda messages: any("subnets is not served" in m for m in messages),
            )
            assert thread.controller.state == "starting"
        finally:
            starting.cancel()
            await asyncio.to_thread(thread.stop)
