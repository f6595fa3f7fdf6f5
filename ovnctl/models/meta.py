"""Object metadata read the same way everywhere, and Kubernetes' timestamps.

Every cache index function, parser and admission review starts by reading
``metadata``: its namespace and name, uid, generation, whether it is being
deleted. Objects may come from anywhere (a hand-written YAML, a fuzzer, an
older Kube-OVN), so a field of the wrong JSON type reads as absent, never as a
crash. These are plain functions over the ``metadata`` mapping, cheap enough
for the pod cache's per-event decode: call :func:`object_meta` once, then the
readers you need.

``now_rfc3339`` is the one clock reading in Kubernetes' wire formats: ``Time``
(whole seconds: Events, conditions) and ``MicroTime`` (Lease renewals).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

__all__ = [
    "meta_annotations",
    "meta_deleting",
    "meta_finalizers",
    "meta_generation",
    "meta_key",
    "meta_labels",
    "meta_name",
    "meta_owner_references",
    "meta_uid",
    "now_rfc3339",
    "object_meta",
]

_EMPTY: Mapping[str, Any] = {}


def object_meta(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """``body.metadata``, or an empty mapping when absent or not an object."""
    metadata = body.get("metadata")
    return metadata if isinstance(metadata, Mapping) else _EMPTY


def meta_name(metadata: Mapping[str, Any]) -> str | None:
    """``name`` when it is a non-empty string, else None."""
    name = metadata.get("name")
    return name if isinstance(name, str) and name else None


def meta_key(metadata: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(namespace, name)`` of a namespaced object, None unless both are non-empty strings."""
    namespace, name = metadata.get("namespace"), metadata.get("name")
    if isinstance(namespace, str) and isinstance(name, str) and namespace and name:
        return (namespace, name)
    return None


def meta_uid(metadata: Mapping[str, Any]) -> str:
    """``uid``; empty when absent, null or not a string (never the text ``"None"``)."""
    uid = metadata.get("uid")
    return uid if isinstance(uid, str) else ""


def meta_generation(metadata: Mapping[str, Any]) -> int:
    """``generation``; 0 when absent or not a number."""
    generation = metadata.get("generation")
    return generation if isinstance(generation, int) and not isinstance(generation, bool) else 0


def meta_deleting(metadata: Mapping[str, Any]) -> bool:
    """True once ``deletionTimestamp`` is set: the object waits only for its finalizers."""
    return bool(metadata.get("deletionTimestamp"))


def meta_finalizers(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """``finalizers``, in order; the non-strings a corrupt object may hold are left out."""
    finalizers = metadata.get("finalizers")
    if not isinstance(finalizers, list | tuple):
        return ()
    return tuple(f for f in finalizers if isinstance(f, str))


def meta_annotations(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    """``annotations`` (values as stored: callers keep the strings they need)."""
    annotations = metadata.get("annotations")
    return annotations if isinstance(annotations, Mapping) else _EMPTY


def meta_labels(metadata: Mapping[str, Any]) -> Mapping[str, Any]:
    """``labels`` (values as stored)."""
    labels = metadata.get("labels")
    return labels if isinstance(labels, Mapping) else _EMPTY


def meta_owner_references(metadata: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``ownerReferences`` that are objects, in order."""
    refs = metadata.get("ownerReferences")
    return [r for r in refs if isinstance(r, Mapping)] if isinstance(refs, list) else []


def now_rfc3339(*, micro: bool = False) -> str:
    """The current UTC time as Kubernetes writes it: ``Time`` (``2026-01-02T03:04:05Z``),
    or ``MicroTime`` (``2026-01-02T03:04:05.123456Z``) with ``micro``."""
    now = datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")
