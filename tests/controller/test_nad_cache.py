"""Subnets resolve their NADs from the watch cache: no GET of any NAD, ever.

Kube-OVN #5353: a live GET of the NAD on every subnet reconcile cost 11% of
the controller's CPU under churn. Here 200 subnets, each bound to its own NAD,
are created, updated and deleted with churn; the request log must show one
LIST and one WATCH of NADs for the controller's start and no GET. The
benchmark's ``live`` controller (:mod:`ovnctl.bench.nad_controller`) restores
the old behaviour and shows the GETs; its ``walk-*`` modes also read every
running pod's NADs, as Kube-OVN 1.13's subnet reconcile did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ovnctl.bench.nad_controller import controller_for
from ovnctl.k8s.api import KubeApi
from ovnctl.k8s.resources import NADS, PODS, SUBNETS
from tests.controller.conftest import eventually
from tests.controller.objects import kube_ovn_nad, pod, subnet
from tests.controller.subnet_checks import find_condition, settled

N = 200
NAD_RESOURCE = "network-attachment-definitions"


def bound_subnet(i: int) -> dict[str, Any]:
    return subnet(f"s{i}", f"10.{50 + i // 200}.{i % 200}.0/24", provider=f"net{i}.default.ovn")


async def gather(calls: Iterable[Awaitable[Any]]) -> None:
    await asyncio.gather(*calls)


async def subnets_by_name(kube: KubeApi) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    async for page in kube.list_pages(SUBNETS):
        found.update((s["metadata"]["name"], s) for s in page)
    return found


def ready(s: dict[str, Any]) -> bool:
    c = find_condition(s, "Ready")
    return (
        c is not None
        and c["status"] == "True"
        and c["observedGeneration"] == s["metadata"]["generation"]
    )


async def wait_all(
    kube: KubeApi, names: Iterable[str], check: Callable[[dict[str, Any]], bool]
) -> None:
    wanted = set(names)
    await eventually(
        lambda: subnets_by_name(kube),
        until=lambda found: all(n in found and check(found[n]) for n in wanted),
        within=30.0,
        interval=0.1,
    )


async def churn(kube: KubeApi) -> None:
    """Create, update, delete and re-create subnets and NADs; wait for each step."""
    everyone = [f"s{i}" for i in range(N)]
    await gather(kube.create(NADS, kube_ovn_nad(f"net{i}"), namespace="default") for i in range(N))
    await gather(kube.create(SUBNETS, bound_subnet(i)) for i in range(N))
    await wait_all(kube, everyone, ready)

    # Update: a new excludeIps on every subnet.
    await gather(
        kube.patch(
            SUBNETS,
            name=f"s{i}",
            body={
                "spec": {
                    "excludeIps": [
                        f"10.{50 + i // 200}.{i % 200}.2..10.{50 + i // 200}.{i % 200}.10"
                    ]
                }
            },
        )
        for i in range(N)
    )
    await wait_all(kube, everyone, lambda s: ready(s) and s["status"]["v4availableIPs"] == 244)

    # Churn: a quarter of the subnets deleted and re-created, a quarter of the NADs
    # deleted (their subnets fall out of service) and re-created (they recover).
    first, second = range(N // 4), range(N // 4, N // 2)
    await gather(kube.delete(SUBNETS, name=f"s{i}") for i in first)
    await gather(kube.delete(NADS, name=f"net{i}", namespace="default") for i in second)
    await wait_all(
        kube,
        [f"s{i}" for i in second],
        lambda s: (find_condition(s, "Ready") or {}).get("reason") == "NadNotFound",
    )
    await eventually(
        lambda: subnets_by_name(kube),
        until=lambda found: not any(f"s{i}" in found for i in first),
        within=30.0,
        interval=0.1,
    )
    await gather(kube.create(SUBNETS, bound_subnet(i)) for i in first)
    await gather(kube.create(NADS, kube_ovn_nad(f"net{i}"), namespace="default") for i in second)
    await wait_all(kube, everyone, ready)

    # And everything goes.
    await gather(kube.delete(SUBNETS, name=name) for name in everyone)
    await eventually(lambda: subnets_by_name(kube), until=lambda found: not found, within=30.0)


async def test_nad_cache_no_gets_under_churn(sim, start_controller, kube) -> None:
    """200 subnets with churn: one LIST and one WATCH of NADs, zero GETs."""
    sim.reset_request_log()
    await start_controller()
    await churn(kube)
    log = sim.request_log
    assert log.count(verb="get", resource=NAD_RESOURCE) == 0
    assert log.count(verb="list", resource=NAD_RESOURCE) == 1
    assert log.count(verb="watch", resource=NAD_RESOURCE) == 1


async def test_live_nad_lookup_gets_per_reconcile(sim, start_controller, kube) -> None:
    """The same scenario with the live lookup GETs a NAD on (roughly) every reconcile."""
    sim.reset_request_log()
    await start_controller(build=controller_for("live"))
    await churn(kube)
    log = sim.request_log
    gets = log.count(verb="get", resource=NAD_RESOURCE)
    status_writes = len(
        [e for e in log.entries if e.resource == "subnets" and e.subresource == "status"]
    )
    # Every status write follows a reconcile, and every reconcile of these subnets
    # (none is refused before its NAD is looked up) GETs its NAD once.
    assert gets >= status_writes > 0
    print(f"live lookup: {gets} NAD GETs, {status_writes} status writes")
    assert log.count(verb="list", resource=NAD_RESOURCE) == 1


async def _walk_run(sim, start_controller, kube, *, lookup: str) -> list[str | None]:
    """Kube-OVN's walk on, 3 pods x 2 attachments running: the NADs GET during 5 new subnets."""
    controller = await start_controller(build=controller_for(f"walk-{lookup}"))
    for name in ("a", "b"):
        await kube.create(NADS, kube_ovn_nad(name), namespace="default")
    await kube.create(SUBNETS, subnet("sa", "10.30.0.0/24", provider="a.default.ovn"))
    await kube.create(SUBNETS, subnet("sb", "10.31.0.0/24", provider="b.default.ovn"))
    await wait_all(kube, ["sa", "sb"], ready)
    for i in range(3):
        await kube.create(PODS, pod(f"p{i}", networks=["a", "b"]), namespace="default")
    await eventually(
        lambda: kube.get(PODS, name="p2", namespace="default"),
        until=lambda p: (
            p["metadata"].get("annotations", {}).get("b.default.ovn.kubernetes.io/allocated")
            == "true"
        ),
    )
    sim.reset_request_log()
    await gather(kube.create(NADS, kube_ovn_nad(f"net{i}"), namespace="default") for i in range(5))
    await gather(kube.create(SUBNETS, bound_subnet(i)) for i in range(5))
    await wait_all(kube, [f"s{i}" for i in range(5)], ready)
    # Ready is written before the reconcile its own finalizer patch triggers has run (and
    # walked): count the GETs once the subnet queue is idle, not in the middle of a walk.
    for i in range(5):
        body = await kube.get(SUBNETS, name=f"s{i}")
        await settled(controller, f"s{i}", body["metadata"]["resourceVersion"])
    return [
        e.name for e in sim.request_log.entries if e.verb == "get" and e.resource == NAD_RESOURCE
    ]


async def test_kube_ovn_walk_live_gets_every_pods_nads_per_subnet_reconcile(
    sim, start_controller, kube
) -> None:
    """Walk + live: each new subnet's reconcile GETs both NADs of all 3 running pods."""
    got = await _walk_run(sim, start_controller, kube, lookup="live")
    assert got.count("a") == got.count("b") >= 3 * 5


async def test_kube_ovn_walk_from_the_cache_gets_nothing(sim, start_controller, kube) -> None:
    """Walk + cache (Kube-OVN after #5386): the same reads, none of them a GET."""
    assert await _walk_run(sim, start_controller, kube, lookup="cache") == []
