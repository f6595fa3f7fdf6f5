"""Which schema governs which custom resource, and the checks a write of one goes through.

The store (:mod:`ovnctl.sim.store`) owns one :class:`SchemaEnforcer`. When a
CRD is created or updated, :meth:`SchemaEnforcer.set_crd` compiles (or takes
from the cache) the schema of each of its versions; every create, update,
patch and ``/status`` write of a custom resource then passes through
:meth:`SchemaEnforcer.enforce`, which prunes and defaults the object
(:mod:`ovnctl.sim.pruning`) and validates it (:mod:`ovnctl.sim.schema`), as
kube-apiserver decodes and validates a custom resource:

* an update only reports errors in values it changed (kube-apiserver's
  validation ratcheting): an object stored before its CRD grew stricter can
  still have its status written;
* a ``/status`` write reports only errors under ``status``, since the rest of
  the object is the stored one (its spec changes are ignored by the store).

Built-in kinds are not schema-checked (the embedded server has no OpenAPI for
them). ``enabled=False`` turns all of it off; only the benchmark does that, to
measure what the checks cost.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Mapping
from typing import Any

from ovnctl.sim.pruning import dropped_paths
from ovnctl.sim.resources import ResourceInfo
from ovnctl.sim.schema import CompiledSchema, FieldError, invalid, schemas_from_crd

__all__ = ["PrunedWrite", "SchemaEnforcer"]

_MISSING = object()
_PATH_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _lookup(obj: Any, path: str) -> Any:
    """The value at a field path such as ``spec.acls[0].priority`` (``_MISSING`` if none)."""
    value = obj
    for index, key in _PATH_PART.findall(path):
        if index:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
        else:
            if not isinstance(value, Mapping) or key not in value:
                return _MISSING
            value = value[key]
    return value


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("["))
    return path[:cut] if cut > 0 else ""


def _unchanged(error: FieldError, old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Ratcheting: the failing value (for a missing field or a repeat: its parent) is as stored."""
    where = (
        _parent(error.field)
        if error.reason in ("FieldValueRequired", "FieldValueDuplicate")
        else error.field
    )
    if not where:
        return False
    before = _lookup(old, where)
    return before is not _MISSING and before == _lookup(new, where)


PrunedWrite = tuple[str, str, tuple[str, ...]]
"""``(kind, name, dropped field paths)`` of one write that pruning shortened."""


def _under_status(field: str) -> bool:
    return field == "status" or field.startswith(("status.", "status["))


class SchemaEnforcer:
    """The compiled schemas of every served CRD version, and the write-path checks."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._schemas: dict[tuple[str, str, str], CompiledSchema] = {}  # (group, plural, version)
        self._by_crd: dict[str, list[tuple[str, str, str]]] = {}
        # The latest writes that lost fields to pruning: kube-apiserver drops them
        # silently, so tests look here to prove their writes keep every field.
        self.pruned: collections.deque[PrunedWrite] = collections.deque(maxlen=1000)

    def set_crd(self, crd_name: str, crd: Mapping[str, Any]) -> bool:
        """Take the schemas of a created or updated CRD; whether any of them changed."""
        spec = crd.get("spec") or {}
        group = str(spec.get("group", ""))
        plural = str((spec.get("names") or {}).get("plural", ""))
        before = {k: self._schemas[k] for k in self._by_crd.get(crd_name, [])}
        self.drop_crd(crd_name)
        compiled = schemas_from_crd(crd)
        keys = [(group, plural, version) for version in compiled]
        for key in keys:
            self._schemas[key] = compiled[key[2]]
        self._by_crd[crd_name] = keys
        after = {k: self._schemas[k] for k in keys}
        # Compiled schemas are cached by content: the same schema is the same object.
        return before.keys() != after.keys() or any(before[k] is not after[k] for k in after)

    def drop_crd(self, crd_name: str) -> None:
        for key in self._by_crd.pop(crd_name, []):
            self._schemas.pop(key, None)

    def schema(self, info: ResourceInfo) -> CompiledSchema | None:
        """The schema that governs writes at ``info``'s version (``None``: none, or off)."""
        if not self.enabled or info.builtin:
            return None
        return self._schemas.get((info.group, info.plural, info.version))

    def enforce(
        self,
        info: ResourceInfo,
        obj: dict[str, Any],
        *,
        old: Mapping[str, Any] | None,
        subresource: str | None,
    ) -> dict[str, Any]:
        """``obj`` pruned and defaulted; raises 422 Invalid naming each bad field."""
        schema = self.schema(info)
        if schema is None:
            return obj
        obj = self._coerce(info, schema, obj)
        name = str((obj.get("metadata") or {}).get("name", ""))
        errors = schema.validate(obj)
        if errors and old is not None:
            errors = [e for e in errors if not _unchanged(e, old, obj)]
        if errors and subresource == "status":
            errors = [e for e in errors if _under_status(e.field)]
        if errors:
            raise invalid(kind=info.kind, group=info.group, name=name, errors=errors)
        return obj

    def decode_request(self, info: ResourceInfo, obj: dict[str, Any]) -> dict[str, Any]:
        """A request's object as kube-apiserver decodes it: pruned and defaulted, unvalidated.

        What admission webhooks are sent: upstream decodes the body (pruning and
        defaulting it) before mutating admission, and validates only after it.
        """
        schema = self.schema(info)
        return obj if schema is None else self._coerce(info, schema, obj)

    def _coerce(
        self, info: ResourceInfo, schema: CompiledSchema, sent: dict[str, Any]
    ) -> dict[str, Any]:
        """Prune and default, recording what pruning dropped (see ``pruned``)."""
        obj = schema.coerce(sent)
        if obj is not sent:
            dropped = tuple(dropped_paths(sent, obj))
            if dropped:
                name = str((obj.get("metadata") or {}).get("name", ""))
                self.pruned.append((info.kind, name, dropped))
        return obj

    def decode(self, storage_key: tuple[str, str], obj: dict[str, Any]) -> dict[str, Any]:
        """A stored object as it reads now: pruned and defaulted by its version's schema."""
        if not self.enabled:
            return obj
        version = str(obj.get("apiVersion", "")).rpartition("/")[2]
        schema = self._schemas.get((storage_key[0], storage_key[1], version))
        return obj if schema is None else schema.coerce(obj)
