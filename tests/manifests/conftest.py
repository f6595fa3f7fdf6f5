"""Fixtures for the manifest tests: the end-to-end ones (a server process, ``ovnctl run``)."""

from __future__ import annotations

from tests.e2e.conftest import controllers, kube, sim_process

__all__ = ["controllers", "kube", "sim_process"]
