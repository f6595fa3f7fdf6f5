"""The write fence: a replica that may not write sends no write, checked again at send time."""

from __future__ import annotations

import pytest

from ovnctl.k8s.api import Fenced, KubeApi, Transient
from ovnctl.k8s.connection import connect
from ovnctl.k8s.resources import SUBNETS
from tests.controller.objects import subnet


def fenced_api(sim, answers: list[bool]) -> KubeApi:
    """A client whose fence gives ``answers`` in turn (then False)."""
    api = connect(kubeconfig=str(sim.kubeconfig_path))
    pending = iter(answers)
    api.set_write_fence(lambda: next(pending, False))
    return api


def creates(sim) -> list[object]:
    return [e for e in sim.request_log.entries if e.verb == "create" and e.resource == "subnets"]


async def test_writes_are_refused_but_reads_pass(sim) -> None:
    """A closed fence refuses a write with Fenced (reason NotLeader) and sends nothing."""
    api = fenced_api(sim, [])
    try:
        with pytest.raises(Fenced, match="NotLeader"):
            await api.create(SUBNETS, subnet("s", "10.16.0.0/24"))
        assert creates(sim) == []
        assert [p async for p in api.list_pages(SUBNETS)] == [[]]
    finally:
        api.close()


async def test_fence_closing_while_a_write_waits_for_its_slot_refuses_it(sim) -> None:
    """Open when queued, closed when its turn to be sent comes (a slow server): not sent."""
    api = fenced_api(sim, [True, False])
    try:
        with pytest.raises(Fenced):
            await api.create(SUBNETS, subnet("s", "10.16.0.0/24"))
        assert creates(sim) == []
    finally:
        api.close()


async def test_open_fence_lets_writes_through(sim) -> None:
    """Checked twice per write, both open: the write is sent."""
    api = fenced_api(sim, [True, True])
    try:
        await api.create(SUBNETS, subnet("s", "10.16.0.0/24"))
        assert len(creates(sim)) == 1
    finally:
        api.close()


async def test_a_write_answered_429_is_not_resent_behind_the_fence(sim) -> None:
    """429 + Retry-After: the write is not retried inside the HTTP library, past the fence.

    urllib3 retried idempotent methods (DELETE, PUT) after the server's
    Retry-After by default; the retry left without passing the fence again, and
    the chaos benchmark caught a replica deleting IP objects a second after it
    had lost the Lease. The work queue retries instead, through the fence.
    """
    api = fenced_api(sim, [True] * 10)
    try:
        await api.create(SUBNETS, subnet("s", "10.16.0.0/24"))
        sim.configure(error_rate=1.0, error_code=429, retry_after_s=1)
        with pytest.raises(Transient):
            await api.delete(SUBNETS, name="s")
        sim.configure(error_rate=0.0)
        deletes = [e for e in sim.request_log.entries if e.verb == "delete"]
        assert len(deletes) == 1
    finally:
        api.close()
