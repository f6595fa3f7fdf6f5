"""Shared fixtures for the IPAM tests."""

from __future__ import annotations

import pytest

from ovnctl.ipam import IPAM


@pytest.fixture
def ipam() -> IPAM:
    """A registry with repeatable MACs."""
    return IPAM(seed=7)
