"""``python -m ovnctl.bench.launch MODE ARGS...``: ``ovnctl run`` with a chosen NAD lookup.

``ovnctl run`` cannot read NADs any other way than from its cache: the live
lookup and Kube-OVN's per-pod walk exist only so that a benchmark can show
what the NAD cache saves, and users must not turn them on. This launcher runs
the very same click command with the same arguments
(:func:`~ovnctl.controller.command.run_command_with`), only building the
controller of the mode (:class:`~ovnctl.bench.nad_controller.NadBenchController`),
so the modes of the NAD-cache scenario differ in nothing else. Every mode is
started through it.

Modes: ``cache`` and ``live`` (ovnctl's own NAD lookups), ``walk-cache`` and
``walk-live`` (the same, plus Kube-OVN 1.13's walk over every pod's NADs in
each subnet reconcile; see :mod:`ovnctl.bench.kube_ovn_walk`).
"""

from __future__ import annotations

import sys

__all__ = ["MODES", "main"]

MODES = ("cache", "live", "walk-cache", "walk-live")


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in MODES:
        sys.exit(f"usage: python -m ovnctl.bench.launch {{{','.join(MODES)}}} [ovnctl run args]")
    # Imported here: the benchmark's driver imports MODES without loading a controller.
    from ovnctl.bench.nad_controller import controller_for
    from ovnctl.controller.command import run_command_with

    run_command_with(controller_for(argv[0])).main(args=argv[1:], prog_name="ovnctl run")


if __name__ == "__main__":
    main(sys.argv[1:])
