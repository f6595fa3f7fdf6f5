"""Fault and latency knobs for benchmarks and resilience tests.

A controller must survive a slow, flaky API server: latency on every request,
a fraction of requests answered 500 or 429 (with ``Retry-After``), watch
streams that break, and ``410 Gone`` that forces a re-list. These knobs make
each of those happen on demand, deterministically (seeded RNG), at start-up
or at run time, from Python or over the server's ``/_sim/`` admin endpoints.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["Faults"]

_NUMBER = (int, float)
_KINDS: dict[str, tuple[type, ...]] = {
    "latency_ms": _NUMBER,
    "error_rate": _NUMBER,
    "error_code": (int,),
    "retry_after_s": (int,),
    "errors_include_watch": (bool,),
    "fail_next_watches": (int,),
}
_KIND_NAMES: dict[tuple[type, ...], str] = {
    _NUMBER: "a number",
    (int,): "an integer",
    (bool,): "true or false",
}


@dataclass(kw_only=True)
class Faults:
    """The current fault settings (mutable; the server reads them on every request).

    * ``latency_ms``: added before every request is served (watches included).
    * ``error_rate``: fraction (0..1) of resource requests answered with
      ``error_code`` (500 or 429; 429 carries ``Retry-After: retry_after_s``).
    * ``errors_include_watch``: whether watch requests can be failed too.
    * ``seed``: seeds the RNG that picks failing requests (reproducible runs).
    * ``fail_next_watches``: the next N watch requests get a 410 ERROR event.
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_code: int = 500
    retry_after_s: int = 1
    errors_include_watch: bool = False
    seed: int | None = None
    fail_next_watches: int = 0
    _random: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.validate()
        self._random.seed(self.seed)

    def validate(self) -> None:
        for name, kinds in _KINDS.items():
            value = getattr(self, name)
            if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
                raise ValueError(f"{name} must be {_KIND_NAMES[kinds]}, got {value!r}")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be within 0..1, got {self.error_rate}")
        if self.error_code not in (429, 500, 503):
            raise ValueError(f"error_code must be 429, 500 or 503, got {self.error_code}")
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must not be negative, got {self.latency_ms}")
        if self.fail_next_watches < 0:
            raise ValueError("fail_next_watches must not be negative")

    def update(self, **changes: Any) -> None:
        """Change some knobs at run time; unknown names raise ``TypeError``."""
        known = {f.name for f in fields(self) if not f.name.startswith("_")}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown fault knobs: {sorted(unknown)}")
        old = self.to_json()
        for name, value in changes.items():
            setattr(self, name, value)
        try:
            self.validate()
        except Exception:  # whatever went wrong, the server keeps its working knobs
            for name, value in old.items():
                setattr(self, name, value)
            raise
        if "seed" in changes:
            self._random.seed(self.seed)

    def pick_error(self, *, verb: str) -> int | None:
        """The error code to answer this request with, or ``None`` to serve it."""
        if self.error_rate <= 0.0 or (verb == "watch" and not self.errors_include_watch):
            return None
        return self.error_code if self._random.random() < self.error_rate else None

    def take_watch_failure(self) -> bool:
        """Whether this watch is one of the next N that must get 410 (and count it)."""
        if self.fail_next_watches > 0:
            self.fail_next_watches -= 1
            return True
        return False

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}
