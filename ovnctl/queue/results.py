"""What a reconciler tells the worker pool: the reconcile contract.

A reconciler is ``async def reconcile(key) -> Result``. It either returns

* :data:`Done` (or ``None``): the key is in its desired state; its retry
  history is forgotten;
* :class:`RequeueAfter`: look again after ``seconds`` (e.g. waiting for
  another object); the retry history is forgotten, this is not a failure;

or raises

* :class:`PermanentError`: bad input that retrying cannot fix; the key is
  forgotten and not retried until a change adds it again;
* :class:`RetryableError`, or any other exception: retried with the rate
  limiter's backoff, and dead-lettered after the pool's ``max_retries``.

Reconcilers return a decision instead of sleeping, so a worker is never held
by a key that is merely waiting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeAlias, final

__all__ = [
    "Done",
    "DoneType",
    "PermanentError",
    "ReconcileError",
    "RequeueAfter",
    "Result",
    "RetryableError",
]


@final
class DoneType:
    """The type of :data:`Done`; there is one instance."""

    __slots__ = ()
    _instance: DoneType | None = None

    def __new__(cls) -> DoneType:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Done"


Done: Final = DoneType()
"""The key is in its desired state."""


@final
@dataclass(frozen=True, slots=True)  # positional on purpose: RequeueAfter(30)
class RequeueAfter:
    """Process the key again after ``seconds`` (``<= 0``: as soon as possible)."""

    seconds: float


Result: TypeAlias = DoneType | RequeueAfter | None


class ReconcileError(Exception):
    """Base of the errors a reconciler raises on purpose."""


class RetryableError(ReconcileError):
    """A transient failure (conflict, timeout, dependency not ready): retry with backoff.

    Unknown exceptions are treated the same way.
    """


class PermanentError(ReconcileError):
    """Bad input that retrying cannot fix: do not retry until the key changes."""
