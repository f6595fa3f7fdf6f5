"""CNI error codes and the one exception that carries them from daemon to runtime.

The CNI spec reserves codes 1-99 (1.0.0, "Error" section) and leaves 100+ to
plugins. The node agent raises :class:`CniError` wherever it decides a
request cannot be served, the protocol carries ``code``/``msg``/``details``
verbatim to the plugin, and the plugin prints them as the spec's error
object, so the code a runtime sees is the one chosen where the failure was
understood.
"""

from __future__ import annotations

__all__ = [
    "ALLOCATION_INVALID",
    "CHECK_FAILED",
    "CONTAINER_UNKNOWN",
    "DATAPATH_FAILURE",
    "DECODE_FAILURE",
    "IFNAME_CLASH",
    "INCOMPATIBLE_VERSION",
    "INVALID_CONFIG",
    "INVALID_ENV",
    "IO_FAILURE",
    "POD_UNKNOWN",
    "TRY_AGAIN_LATER",
    "UNSUPPORTED_FIELD",
    "CniError",
]

# Codes defined by the CNI spec.
INCOMPATIBLE_VERSION = 1
UNSUPPORTED_FIELD = 2
CONTAINER_UNKNOWN = 3
"""The sandbox (its network namespace) does not exist: nothing to clean up."""
INVALID_ENV = 4
"""A ``CNI_*`` variable is missing or malformed; the message names it."""
IO_FAILURE = 5
DECODE_FAILURE = 6
"""The stdin configuration is not JSON (or not a JSON object)."""
INVALID_CONFIG = 7
"""The configuration decodes but a key has a wrong value; the message names it."""
TRY_AGAIN_LATER = 11
"""Transient: the daemon is unreachable or the pod's allocation is not written yet."""

# Plugin-specific codes (100 and up).
DATAPATH_FAILURE = 100
"""A netlink operation failed (the message carries the kernel's reason)."""
POD_UNKNOWN = 101
"""The pod named by ``CNI_ARGS`` is not (or no longer) scheduled to this node."""
IFNAME_CLASH = 102
"""The requested interface name already exists in the pod's network namespace."""
CHECK_FAILED = 103
"""CHECK found the interface differing from what ADD set up."""
ALLOCATION_INVALID = 104
"""The pod's allocation annotations are present but malformed."""


class CniError(Exception):
    """A failure with its CNI error code; ``details`` is optional longer context."""

    def __init__(self, code: int, msg: str, details: str = "") -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.details = details

    def __repr__(self) -> str:
        return f"CniError({self.code}, {self.msg!r})"
