"""Pods waiting for something to change: retried when it does, not on a timer.

A pod that asks for a NAD that does not exist yet, a provider no subnet
serves, or a subnet with no free address cannot be allocated now, and
retrying it with backoff would only load the API server. Instead it waits
on *topics* (``nad:<ns>/<name>``, ``provider:<p>``, ``subnet:<name>``,
``nic:<name>``); the controller wakes a topic when a NAD or Subnet changes, an
address is released or a NIC's release ends, and the woken pods go back into
the work queue.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

__all__ = ["WaitList", "nad_topic", "nic_topic", "provider_topic", "subnet_topic"]

K = TypeVar("K", bound=Hashable)


def nad_topic(namespace: str, name: str) -> str:
    return f"nad:{namespace}/{name}"


def provider_topic(provider: str) -> str:
    return f"provider:{provider}"


def subnet_topic(subnet: str) -> str:
    return f"subnet:{subnet}"


def nic_topic(nic: str) -> str:
    """Woken when a release of ``nic`` ends (done or abandoned)."""
    return f"nic:{nic}"


class WaitList(Generic[K]):
    """Keys by the topics they wait on; a key waits on one set of topics at a time."""

    def __init__(self) -> None:
        self._by_topic: dict[str, set[K]] = {}
        self._by_key: dict[K, tuple[str, ...]] = {}

    def wait(self, key: K, topics: Iterable[str]) -> None:
        """``key`` now waits on ``topics`` (replacing what it waited on before)."""
        self.clear(key)
        wanted = tuple(dict.fromkeys(topics))
        if not wanted:
            return
        self._by_key[key] = wanted
        for topic in wanted:
            self._by_topic.setdefault(topic, set()).add(key)

    def clear(self, key: K) -> None:
        for topic in self._by_key.pop(key, ()):
            keys = self._by_topic.get(topic)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_topic[topic]

    def wake(self, topic: str) -> list[K]:
        """The keys waiting on ``topic``; they stop waiting (on every topic)."""
        keys = list(self._by_topic.get(topic, ()))
        for key in keys:
            self.clear(key)
        return keys

    def __contains__(self, key: object) -> bool:
        return key in self._by_key

    def __len__(self) -> int:
        return len(self._by_key)
