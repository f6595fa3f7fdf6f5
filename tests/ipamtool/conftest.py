"""`ovnctl ipam` runs against the embedded API server, with a controller where a test needs one."""

from __future__ import annotations

from tests.controller.conftest import kube, sim, start_controller

__all__ = ["kube", "sim", "start_controller"]
