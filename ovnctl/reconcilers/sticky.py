"""Sticky StatefulSet addresses: whether a gone pod's NICs are kept, and whose to revisit.

A pod controlled by a StatefulSet keeps its IP and MAC when it is deleted and
recreated (Kube-OVN's behaviour): its NICs are named after the pod
(``<pod>.<ns>[.<provider>]``) and recorded with ``podType: StatefulSet``, so
the recreated pod finds the same IPAM owner and gets the same allocation. The
address is released only when the StatefulSet is gone or scaled so that the
pod's ordinal is ``>= replicas``.

The pod reconciler asks :meth:`StickyAddresses.keeps` before releasing a
pod that is gone or finished. The decision reads the IP object state in the
ledger (rebuilt from IP objects at start-up, so it holds across restarts) and
the StatefulSet cache; a StatefulSet change asks :meth:`pods_to_revisit`
which recorded pods may now have to let go. A StatefulSet the cache has not
seen yet (its watch event lagging behind its pod's) counts as gone: the
address is released, never leaked; the recreated pod may then get another.
"""

from __future__ import annotations

from collections.abc import Callable

from ovnctl.caches import StatefulSetCache
from ovnctl.caches.pods import PodKey
from ovnctl.models import STATEFULSET_POD_TYPE, statefulset_ordinal
from ovnctl.reconcilers.ledger import NicLedger

__all__ = ["StickyAddresses"]


class StickyAddresses:
    """Decides whether a StatefulSet pod's addresses outlive the pod."""

    def __init__(
        self,
        *,
        ledger: NicLedger,
        statefulsets: StatefulSetCache,
        others: Callable[[PodKey], bool | None] = lambda key: None,
    ) -> None:
        self._ledger = ledger
        self._statefulsets = statefulsets
        self._others = others  # other keep rules (IPAMClaims); None: not theirs to say

    def statefulset_of(self, key: PodKey) -> str | None:
        """The StatefulSet a recorded pod's NICs were written for, or None."""
        for nic in self._ledger.nics_of_pod(key):
            state = self._ledger.written(nic)
            if state is not None and state.pod_type == STATEFULSET_POD_TYPE:
                return _statefulset_name(key[1])
        return None

    def keeps(self, key: PodKey) -> bool:
        """True when the pod ``key`` (gone or finished) must keep its addresses."""
        other = self._others(key)
        if other is not None:
            return other
        name = self.statefulset_of(key)
        if name is None:
            return False
        ordinal = statefulset_ordinal(key[1], name)
        record = self._statefulsets.get(key[0], name)
        return record is not None and ordinal is not None and ordinal < record.replicas

    def pods_to_revisit(self, namespace: str, statefulset: str) -> list[PodKey]:
        """Recorded pods of ``statefulset``: after it scaled or went, each is reconciled."""
        prefix = f"{statefulset}-"
        return [
            key
            for key in self._ledger.pods()
            if key[0] == namespace
            and key[1].startswith(prefix)
            and statefulset_ordinal(key[1], statefulset) is not None
        ]


def _statefulset_name(pod_name: str) -> str | None:
    name, sep, ordinal = pod_name.rpartition("-")
    return name if sep and name and ordinal.isdigit() else None
