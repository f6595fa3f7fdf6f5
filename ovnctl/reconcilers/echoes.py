"""The pod records the pod reconciler's own annotation patches will bring back.

Half the pod events of an allocation burst are the watch's echo of the pod
reconciler's own patch, and reconciling such an echo finds nothing to do. The
pod reconciler notes, before each patch, the record the watch will show after
it; the key router asks, for each pod event, whether the record it sees is
exactly that, and then queues nothing. Both are handed the same
:class:`PatchEchoes`.
"""

from __future__ import annotations

from ovnctl.caches.pods import PodKey, PodRecord

__all__ = ["PatchEchoes"]


class PatchEchoes:
    """Per pod being patched: the record it will have when the watch echoes the patch."""

    def __init__(self) -> None:
        self._expected: dict[PodKey, PodRecord] = {}

    def expect(self, key: PodKey, record: PodRecord) -> None:
        """The pod reconciler is about to patch ``key`` into ``record`` (set before sending:
        the watch may deliver the echo before the answer)."""
        self._expected[key] = record

    def cancel(self, key: PodKey) -> None:
        """The patch failed: no echo will come."""
        self._expected.pop(key, None)

    def is_echo(self, key: PodKey, record: PodRecord | None) -> bool:
        """Is ``record`` (None: gone) just the watch's echo of the pod reconciler's own patch?

        Then reconciling it again would find nothing to do: the pod is exactly as the
        last pass left it. Each expectation is used once, by the pod's next event.
        """
        expected = self._expected.pop(key, None)
        return expected is not None and expected == record
