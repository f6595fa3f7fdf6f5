"""Pruning, null pruning, defaulting and list-type uniqueness of custom resources.

These are the Kubernetes extensions to JSON Schema that kube-apiserver applies
when it decodes a custom resource (request bodies and stored objects alike),
in its order: unknown fields are pruned (k8s.io/apiextensions-apiserver
``pruning.Prune``), nulls the schema does not allow and has no default for are
dropped (``PruneNonNullableNullsWithoutDefaults``), then defaults are filled in
(``defaulting.Default``). The ``x-kubernetes-list-type: set|map`` uniqueness
is checked by validation (:mod:`ovnctl.sim.schema` calls :func:`list_errors`).

One pass does the three decode steps per node, copy-on-write: a stored
object's nested dicts may be shared with the request that produced the new
one (merge patches share unpatched branches), so nothing is changed in place
and an unchanged branch comes back as the very same object.

``metadata`` is never pruned by the schema. At the root (and in an
``x-kubernetes-embedded-resource``) ``apiVersion``, ``kind`` and ``metadata``
are kept, and ``metadata`` keeps only the fields of ``ObjectMeta``, as
kube-apiserver's decoding into ObjectMeta does.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["OBJECT_META_FIELDS", "Node", "build_node", "coerce", "dropped_paths", "list_errors"]

OBJECT_META_FIELDS = frozenset(
    {
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    }
)
_NO_DEFAULT = object()


class Node:
    """One node of a structural schema, as pruning and defaulting read it."""

    __slots__ = (
        "additional",
        "default",
        "defaults",
        "embedded",
        "has_list_types",
        "inert",
        "items",
        "list_type",
        "map_keys",
        "nullable",
        "preserve",
        "properties",
    )

    def __init__(self) -> None:
        self.properties: dict[str, Node] = {}
        self.additional: Node | None = None
        self.items: Node | None = None
        self.preserve = False
        self.embedded = False
        self.nullable = False
        self.default: Any = _NO_DEFAULT
        self.defaults: tuple[tuple[str, Any], ...] = ()  # properties with a default
        self.list_type: str | None = None
        self.map_keys: tuple[str, ...] = ()
        self.has_list_types = False  # in this node or below
        self.inert = True  # nothing below can be pruned or defaulted: skip the walk

    @property
    def has_default(self) -> bool:
        return self.default is not _NO_DEFAULT


def build_node(schema: Mapping[str, Any]) -> Node:
    """The pruning tree of a (structural) ``openAPIV3Schema``."""
    node = Node()
    node.preserve = schema.get("x-kubernetes-preserve-unknown-fields") is True
    node.embedded = schema.get("x-kubernetes-embedded-resource") is True
    node.nullable = schema.get("nullable") is True
    if "default" in schema:
        node.default = schema["default"]
    list_type = schema.get("x-kubernetes-list-type")
    if list_type in ("set", "map"):
        node.list_type = list_type
        node.map_keys = tuple(schema.get("x-kubernetes-list-map-keys") or ())
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        node.properties = {
            k: build_node(v) for k, v in properties.items() if isinstance(v, Mapping)
        }
    if isinstance(schema.get("additionalProperties"), Mapping):
        node.additional = build_node(schema["additionalProperties"])
    if isinstance(schema.get("items"), Mapping):
        node.items = build_node(schema["items"])
    node.defaults = tuple((k, p.default) for k, p in node.properties.items() if p.has_default)
    children = [*node.properties.values(), node.additional, node.items]
    node.has_list_types = node.list_type is not None or any(
        c is not None and c.has_list_types for c in children
    )
    # Inert: coerce() returns any value unchanged, so the walk can skip the subtree. Any
    # property may hold a null to drop, and an object without properties would lose every
    # key, so only scalars, arrays of inert items and preserved childless objects qualify.
    node.inert = (
        not node.embedded
        and not node.properties
        and node.additional is None
        and (node.items is None or (node.items.inert and not node.items.has_default))
        and (node.preserve or schema.get("type") != "object")
    )
    return node


def _copy(value: Any) -> Any:
    return copy.deepcopy(value) if isinstance(value, dict | list) else value


def coerce(value: Any, node: Node, *, root: bool = False) -> Any:
    """``value`` pruned, null-pruned and defaulted by ``node``; the same object if unchanged."""
    if isinstance(value, dict):
        return _coerce_object(value, node, keep_meta=root or node.embedded)
    if isinstance(value, list) and node.items is not None:
        items = node.items
        if items.inert and not items.has_default:
            return value
        out: list[Any] | None = None
        for index, item in enumerate(value):
            new = item
            if new is None and not items.nullable and items.has_default:
                new = _copy(items.default)
            if not items.inert:
                new = coerce(new, items)
            if new is not item:
                if out is None:
                    out = list(value)
                out[index] = new
        return value if out is None else out
    return value


def _coerce_meta(meta: dict[str, Any]) -> dict[str, Any]:
    if all(k in OBJECT_META_FIELDS for k in meta):
        return meta
    return {k: v for k, v in meta.items() if k in OBJECT_META_FIELDS}


def _coerce_object(obj: dict[str, Any], node: Node, *, keep_meta: bool) -> dict[str, Any]:
    out: dict[str, Any] | None = None
    properties = node.properties
    for key, value in obj.items():
        if keep_meta:
            if key in ("apiVersion", "kind") and isinstance(value, str):
                continue
            if key == "metadata" and isinstance(value, dict):
                new_meta = _coerce_meta(value)
                if new_meta is not value:
                    if out is None:
                        out = dict(obj)
                    out[key] = new_meta
                continue
        sub = properties.get(key) or node.additional
        if sub is None:
            if not node.preserve:  # pruned: the schema does not know this field
                if out is None:
                    out = dict(obj)
                del out[key]
            continue
        if value is None and not sub.nullable:
            if out is None:
                out = dict(obj)
            if sub.has_default:
                out[key] = coerce(_copy(sub.default), sub)
            else:
                del out[key]
            continue
        if sub.inert:
            continue
        new = coerce(value, sub)
        if new is not value:
            if out is None:
                out = dict(obj)
            out[key] = new
    for key, default in node.defaults:
        if key not in obj:
            if out is None:
                out = dict(obj)
            out[key] = coerce(_copy(default), properties[key])
    return obj if out is None else out


def list_errors(value: Any, node: Node, path: str = "") -> Iterator[tuple[str, Any]]:
    """``(field path, duplicate value)`` for each repeat in a ``set`` or ``map`` list."""
    if isinstance(value, dict):
        for key, child in value.items():
            sub = node.properties.get(key) or node.additional
            if sub is not None and sub.has_list_types:
                yield from list_errors(child, sub, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        if node.list_type is not None:
            seen: set[str] = set()
            for index, item in enumerate(value):
                if node.list_type == "map" and isinstance(item, dict):
                    shown: Any = {k: item.get(k) for k in node.map_keys}
                else:
                    shown = item
                # JSON text as the identity: 1, 1.0 and true stay distinct as in Go.
                identity = json.dumps(shown, sort_keys=True)
                if identity in seen:
                    yield f"{path}[{index}]", shown
                seen.add(identity)
        if node.items is not None and node.items.has_list_types:
            for index, item in enumerate(value):
                yield from list_errors(item, node.items, f"{path}[{index}]")


def dropped_paths(before: Any, after: Any, path: str = "") -> Iterator[str]:
    """Field paths with a (non-null) value in ``before`` that ``after`` no longer has."""
    if before is after:
        return
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for key, value in before.items():
            sub = f"{path}.{key}" if path else str(key)
            if key not in after:
                if value is not None:
                    yield sub
            else:
                yield from dropped_paths(value, after[key], sub)
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from dropped_paths(old, new, f"{path}[{index}]")
