"""What a northbound call raises, mapped onto the work queue's reconcile contract.

Reconcilers let these propagate: the worker pool retries a
:class:`~ovnctl.queue.results.RetryableError` with backoff and forgets a
:class:`~ovnctl.queue.results.PermanentError` until the key changes again
(:mod:`ovnctl.queue.results`). Nothing of ovsdbapp leaks out: its timeouts,
connection errors and failed transactions all become :class:`NorthboundUnavailable`
or :class:`NorthboundTransactionError`, so callers never import it.
"""

from __future__ import annotations

from ovnctl.queue.results import PermanentError, RetryableError

__all__ = [
    "ForeignObjectError",
    "MissingSwitchError",
    "NorthboundError",
    "NorthboundTransactionError",
    "NorthboundUnavailable",
]


class NorthboundError(RetryableError):
    """Base of the northbound client's transient failures."""


class NorthboundUnavailable(NorthboundError):
    """Not connected to any NB member (down, restarting, unreachable) or a call timed out.

    Nothing was lost: every ensure is idempotent, so the retry finds and
    completes whatever the interrupted transaction did or did not commit.
    """


class NorthboundTransactionError(NorthboundError):
    """The NB refused or failed a transaction (constraint, conflict with another writer)."""


class MissingSwitchError(NorthboundError):
    """A port's logical switch does not exist (yet): its subnet has not been ensured.

    Retryable: the subnet reconciler normally creates the switch shortly.
    """


class ForeignObjectError(PermanentError):
    """The name belongs to a row ovnctl does not own (no ``external_ids:vendor=ovnctl``).

    ovnctl never modifies or removes such rows. Retrying cannot help until a
    person removes or renames the other row, so this is permanent for the key.
    """

    def __init__(self, *, table: str, name: str) -> None:
        super().__init__(f"{table} {name!r} exists and is not owned by ovnctl; leaving it alone")
        self.table = table
        self.name = name
