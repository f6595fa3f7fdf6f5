"""Shared fixtures for the work-queue tests: a fake clock and queues bound to it."""

from __future__ import annotations

import pytest

from ovnctl.queue import FakeClock, RateLimitingQueue, WorkQueue


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> WorkQueue[str]:
    return WorkQueue(name="test", clock=clock)


@pytest.fixture
def rlqueue(clock: FakeClock) -> RateLimitingQueue[str]:
    return RateLimitingQueue(name="test", clock=clock)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything here runs on a fake clock in milliseconds: a hang is a bug, and
    # should fail fast rather than after the project-wide two-minute timeout.
    for item in items:
        if "tests/queue/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.timeout(15))
