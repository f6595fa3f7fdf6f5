"""``python -m ovnctl.bench.launch MODE ARGS...``: ``ovnctl run`` with a chosen NAD lookup.

``ovnctl run`` has no flags for :attr:`ControllerSettings.nad_lookup` and
:attr:`ControllerSettings.kube_ovn_subnet_walk`: the live lookup and Kube-OVN's
per-pod walk exist only so that a benchmark can show what the NAD cache saves,
and users must not turn them on. This launcher runs the very same click
command with the same arguments, and changes only the defaults of those two
settings, so the modes of the NAD-cache scenario differ in nothing else. Every
mode is started through it.

Modes: ``cache`` and ``live`` (ovnctl's own NAD lookups), ``walk-cache`` and
``walk-live`` (the same, plus Kube-OVN 1.13's walk over every pod's NADs in
each subnet reconcile; see :mod:`ovnctl.controller.kube_ovn_walk`).
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Literal

__all__ = ["MODES", "main"]

MODES = ("cache", "live", "walk-cache", "walk-live")


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in MODES:
        sys.exit(f"usage: python -m ovnctl.bench.launch {{{','.join(MODES)}}} [ovnctl run args]")
    mode = argv[0]
    from ovnctl.controller import runtime
    from ovnctl.controller.command import run

    base = runtime.ControllerSettings
    lookup: Literal["cache", "live"] = "live" if mode.endswith("live") else "cache"
    walk = mode.startswith("walk-")

    @dataclasses.dataclass(frozen=True, slots=True)
    class BenchSettings(base):  # type: ignore[valid-type,misc]
        nad_lookup: Literal["cache", "live"] = lookup
        kube_ovn_subnet_walk: bool = walk

    # `ovnctl run` imports ControllerSettings when it runs: it builds this subclass.
    setattr(runtime, "ControllerSettings", BenchSettings)  # noqa: B010
    run.main(args=argv[1:], prog_name="ovnctl run")


if __name__ == "__main__":
    main(sys.argv[1:])
