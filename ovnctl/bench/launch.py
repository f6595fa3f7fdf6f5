"""``python -m ovnctl.bench.launch MODE ARGS...``: ``ovnctl run`` with a chosen NAD lookup.

``ovnctl run`` has no flag for :attr:`ControllerSettings.nad_lookup`: the live
lookup exists only so that a benchmark can show what the NAD cache saves, and
users must not turn it on. This launcher runs the very same click command with
the same arguments, and changes only the default of that one setting, so the
two modes of the NAD-cache scenario differ in nothing else. Both modes are
started through it.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import Literal

__all__ = ["main"]

MODES = ("cache", "live")


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in MODES:
        sys.exit(f"usage: python -m ovnctl.bench.launch {{{','.join(MODES)}}} [ovnctl run args]")
    mode = argv[0]
    from ovnctl.controller import runtime
    from ovnctl.controller.command import run

    base = runtime.ControllerSettings

    @dataclasses.dataclass(frozen=True, slots=True)
    class BenchSettings(base):  # type: ignore[valid-type,misc]
        nad_lookup: Literal["cache", "live"] = "live" if mode == "live" else "cache"

    # `ovnctl run` imports ControllerSettings when it runs: it builds this subclass.
    setattr(runtime, "ControllerSettings", BenchSettings)  # noqa: B010
    run.main(args=argv[1:], prog_name="ovnctl run")


if __name__ == "__main__":
    main(sys.argv[1:])
