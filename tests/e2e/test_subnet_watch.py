"""``ovnctl run``: Subnets are read by one LIST and one WATCH per start, Kopf's, and nobody else."""

from __future__ import annotations

import asyncio

from tests.controller.objects import create_all, subnet
from tests.controller.subnet_checks import wait_ready


async def test_each_start_lists_and_watches_subnets_once_through_kopf(
    controllers, kube, sim_process
) -> None:
    """Two runs, one after the other: LIST and WATCH each, under their Kopf's User-Agent."""
    await create_all(kube, subnet("a", "10.16.0.0/24"), subnet("b", "10.17.0.0/24"))
    expected: list[tuple[str, str]] = []
    for identity in ("run-1", "run-2"):
        proc = controllers(identity)
        await proc.wait_probe("/readyz", text="leading")
        await wait_ready(kube, "b")
        assert await asyncio.to_thread(proc.stop) == 0
        assert proc.kopf_user_agent.startswith("kopf/")
        expected += [("list", proc.kopf_user_agent), ("watch", proc.kopf_user_agent)]
    log = await asyncio.to_thread(sim_process.request_log)
    reads = [
        (e.verb, e.user_agent)
        for e in log.entries
        if e.resource == "subnets" and e.verb in ("get", "list", "watch")
    ]
    # The test's own client ("e2e-test") read Subnets only through wait_ready's GETs.
    assert [r for r in reads if r[1] != "e2e-test"] == expected
    assert {verb for verb, agent in reads if agent == "e2e-test"} == {"get"}
