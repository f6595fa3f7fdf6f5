"""Fixtures for the reconciler unit tests: a fresh rig per test, a short timeout.

Everything here runs in memory on the test's event loop (no API server, no
threads, no wall-clock waits), so a hang is a bug and fails fast.
"""

from __future__ import annotations

import pytest

from tests.reconcilers.factories import Rig


@pytest.fixture
def rig() -> Rig:
    return Rig()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reconcilers/" in str(item.path).replace("\\", "/"):
            item.add_marker(pytest.mark.timeout(15))
