"""Paged LISTs ride out transient errors: a page answered 500/429 is asked for again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ovnctl.k8s.api import Transient
from ovnctl.k8s.connection import connect
from ovnctl.k8s.resources import SUBNETS
from tests.controller.objects import subnet


def lists(sim) -> list[object]:
    return [e for e in sim.request_log.entries if e.verb == "list" and e.resource == "subnets"]


async def test_a_failed_page_is_asked_for_again_until_it_is_answered(sim) -> None:
    """Every LIST answered 500 for a while: the listing waits it out and returns every item."""
    api = connect(kubeconfig=str(sim.kubeconfig_path))
    try:
        await api.create(SUBNETS, subnet("s", "10.16.0.0/24"))
        sim.configure(error_rate=1.0, error_code=500)
        listing = asyncio.create_task(_collect(api))
        # The first try and at least one retry refused, and the listing still waiting:
        for _ in range(1500):  # polls the server's request log, up to 30 s
            if len(lists(sim)) >= 2 or listing.done():
                break
            await asyncio.sleep(0.02)
        assert not listing.done(), "the LIST gave up on the first 500"
        sim.configure(error_rate=0.0)
        pages = await asyncio.wait_for(listing, timeout=30)
        assert [item["metadata"]["name"] for page in pages for item in page] == ["s"]
    finally:
        sim.configure(error_rate=0.0)
        api.close()


async def test_a_page_still_failing_after_its_retries_raises_transient(sim) -> None:
    """The retries are bounded: after ``page_retries`` more tries the error surfaces."""
    api = connect(kubeconfig=str(sim.kubeconfig_path))
    try:
        sim.configure(error_rate=1.0, error_code=429)
        with pytest.raises(Transient):
            await _collect(api, page_retries=2)
        assert len(lists(sim)) == 3
    finally:
        sim.configure(error_rate=0.0)
        api.close()


async def _collect(api, **options) -> list[list[dict[str, Any]]]:
    return [page async for page in api.list_pages(SUBNETS, **options)]
