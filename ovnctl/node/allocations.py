"""This node's pods and their allocation annotations, and waiting for an allocation.

Where it sits: the node pod watch (:mod:`ovnctl.k8s.nodepods`) feeds
:class:`PodAllocations` with snapshots (after every LIST, swapped in whole, so
pods deleted while the watch was away do not linger) and events; the server
asks :meth:`PodAllocations.wait_allocation` on ADD. Only the allocation
annotations are kept per pod (:func:`keep_annotation`), never whole pods: a
node agent's memory follows its own pods' few keys, not the cluster.

Runs on the daemon's event loop; the watch thread hands its updates over with
``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from ovnctl.cni.errors import ALLOCATION_INVALID, POD_UNKNOWN, TRY_AGAIN_LATER, CniError
from ovnctl.models import AnnotationError, NicAllocation, read_allocation

__all__ = ["ALLOCATION_SUFFIXES", "PodAllocations", "keep_annotation"]

ALLOCATION_SUFFIXES = (
    ".kubernetes.io/allocated",
    ".kubernetes.io/ip_address",
    ".kubernetes.io/mac_address",
    ".kubernetes.io/cidr",
    ".kubernetes.io/gateway",
    ".kubernetes.io/logical_switch",
    ".kubernetes.io/virtualmachine",
)
"""The ``P.kubernetes.io/<what>`` keys the controller writes per provider (docs/models.md)."""


def keep_annotation(key: str) -> bool:
    """True for the allocation annotations of any provider."""
    return key.endswith(ALLOCATION_SUFFIXES)


PodKey = tuple[str, str]


class PodAllocations:
    """``(namespace, name)`` → allocation annotations, with waiters woken on every change."""

    def __init__(self) -> None:
        self._pods: dict[PodKey, dict[str, str]] = {}
        self._waiters: dict[PodKey, set[asyncio.Future[None]]] = {}
        self.synced = asyncio.Event()
        """Set once the first LIST is in: before that, "unknown pod" means nothing."""

    def __len__(self) -> int:
        return len(self._pods)

    def __contains__(self, key: object) -> bool:
        return key in self._pods

    def annotations(self, *, namespace: str, name: str) -> Mapping[str, str] | None:
        return self._pods.get((namespace, name))

    def replace_all(self, pods: Iterable[tuple[str, str, Mapping[str, str]]]) -> None:
        """Swap in a full LIST: ``(namespace, name, annotations)`` per pod."""
        fresh = {(ns, name): dict(annotations) for ns, name, annotations in pods}
        changed = set(fresh) ^ set(self._pods)
        changed |= {key for key in fresh if fresh[key] != self._pods.get(key)}
        self._pods = fresh
        self.synced.set()
        for key in changed:
            self._wake(key)

    def upsert(self, *, namespace: str, name: str, annotations: Mapping[str, str]) -> None:
        key = (namespace, name)
        self._pods[key] = dict(annotations)
        self._wake(key)

    def remove(self, *, namespace: str, name: str) -> None:
        key = (namespace, name)
        self._pods.pop(key, None)
        self._wake(key)

    async def wait_allocation(
        self,
        *,
        namespace: str,
        name: str,
        provider: str,
        timeout: float,  # noqa: ASYNC109
    ) -> NicAllocation:
        """The pod's allocation for ``provider`` once recorded, within ``timeout`` seconds.

        Raises :class:`CniError`: 101 when the pod is not on this node (never
        seen within the bound, or deleted while waiting), 11 when it is here
        but not allocated in time (the controller may be behind: the runtime
        retries), 104 when the annotations are malformed.
        """
        key = (namespace, name)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen = key in self._pods
        while True:
            annotations = self._pods.get(key)
            if annotations is not None:
                seen = True
                try:
                    allocation = read_allocation(annotations=annotations, provider=provider)
                except AnnotationError as exc:
                    raise CniError(
                        ALLOCATION_INVALID,
                        f"pod {namespace}/{name}: allocation for provider {provider!r} is "
                        f"malformed: {exc}",
                    ) from None
                if allocation is not None:
                    return allocation
            elif seen and self.synced.is_set():
                raise CniError(POD_UNKNOWN, f"pod {namespace}/{name} was deleted")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise self._timeout_error(namespace, name, provider, timeout, seen=seen)
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.setdefault(key, set()).add(waiter)
            try:
                await asyncio.wait_for(asyncio.shield(waiter), timeout=remaining)
            except TimeoutError:
                pass
            finally:
                waiters = self._waiters.get(key)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._waiters[key]

    def _timeout_error(
        self, namespace: str, name: str, provider: str, timeout: float, *, seen: bool
    ) -> CniError:
        if not seen:
            return CniError(
                POD_UNKNOWN,
                f"pod {namespace}/{name} is not scheduled to this node "
                f"(not seen within {timeout:g} s)",
                "CNI_ARGS K8S_POD_NAMESPACE/K8S_POD_NAME must name a pod whose "
                "spec.nodeName is this node",
            )
        return CniError(
            TRY_AGAIN_LATER,
            f"pod {namespace}/{name}: no allocation for provider {provider!r} within "
            f"{timeout:g} s ({provider}.kubernetes.io/allocated is not 'true')",
            "is the ovnctl controller running, and does a subnet serve this provider?",
        )

    def _wake(self, key: PodKey) -> None:
        for waiter in self._waiters.get(key, ()):
            if not waiter.done():
                waiter.set_result(None)
