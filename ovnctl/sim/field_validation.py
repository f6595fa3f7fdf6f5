"""Server-side field validation: the ``fieldValidation`` query parameter of writes.

kube-apiserver decodes a create, update or patch body strictly unless told
not to, and reports what a lenient decode would silently lose: fields the
object's schema does not declare (for a custom resource: what pruning drops,
including unknown ``metadata`` fields) and fields given twice in one JSON
object (the last one wins). ``fieldValidation`` says what to do with them:

* ``Ignore``: nothing (the fields are pruned, the duplicates resolved);
* ``Warn`` (the default when the parameter is absent): one ``Warning`` header
  per field, ``unknown field "spec.foo"`` / ``duplicate field "spec.foo"``;
* ``Strict``: refuse the write. A create or PUT answers 400 BadRequest
  ``Subnet in version "v1" cannot be handled as a Subnet: strict decoding
  error: unknown field "spec.foo"``; a patch answers 422 Invalid on the field
  ``patch`` (``The request is invalid: patch: Invalid value: "{...}": strict
  decoding error: ...`` in kubectl), as upstream's ``jsonPatcher`` does.

kubectl apply, create and replace send ``fieldValidation=Strict`` (kubectl
>= 1.27 with the default ``--validate=true``; ``kubectl patch`` and ``label``
send none, so the server's Warn applies), so on a real cluster, and here,
``kubectl apply`` of YAML with a misspelt field fails.

It runs where kube-apiserver decodes: on the request body (create, PUT) or
the patched object (patch), before admission webhooks. Fields a mutating
webhook adds are pruned silently, never reported, as upstream. Unknown fields
are found for custom resources with a schema only: the embedded server has
no OpenAPI for built-in kinds, so for them only duplicates are reported.

The functions here are pure (no store, no HTTP): the webhook dispatcher
(:mod:`ovnctl.sim.webhook_dispatch`) calls them with the schema the store's
:class:`~ovnctl.sim.enforcement.SchemaEnforcer` holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ovnctl.sim.errors import ApiError
from ovnctl.sim.pruning import OBJECT_META_FIELDS, Node
from ovnctl.sim.schema import FieldError, format_value, invalid

__all__ = ["FieldValidation", "loads", "unknown_fields"]

IGNORE, WARN, STRICT = "Ignore", "Warn", "Strict"
# What upstream's ValidateFieldValidation accepts ("" is the default, Warn).
_ALLOWED = ("", IGNORE, STRICT, WARN)
# The fields of one JSON patch operation (upstream decodes ops into this struct).
_JSON_PATCH_OP_FIELDS = frozenset({"op", "path", "from", "value"})


class _Duplicate(Exception):  # not a ValueError: the JSON itself is fine
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Duplicate
    return obj


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as parsed, repeats kept, to find where the duplicates are."""


def _plain(value: Any) -> Any:
    if isinstance(value, _Pairs):
        return {k: _plain(v) for k, v in value}  # the last of repeated keys wins, as in Go
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _duplicate_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, _Pairs):
        seen: set[str] = set()
        for key, child in value:
            sub = f"{path}.{key}" if path else key
            if key in seen:
                yield sub
            seen.add(key)
            yield from _duplicate_paths(child, sub)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _duplicate_paths(child, f"{path}[{index}]")


def loads(raw: bytes) -> tuple[Any, tuple[str, ...]]:
    """A JSON body and the paths of its duplicate fields (``spec.x``, ``[1].path``).

    The common case (no repeats) is one parse; only a body with a repeated key
    is parsed again to say where. Raises ``ValueError`` for malformed JSON.
    """
    try:
        return json.loads(raw, object_pairs_hook=_unique), ()
    except _Duplicate:
        tree = json.loads(raw, object_pairs_hook=_Pairs)
        return _plain(tree), tuple(_duplicate_paths(tree, ""))


def _walk(
    value: Any,
    node: Node,
    path: str,
    *,
    keep_meta: bool,
    pruned: list[str],
    metas: list[str],
) -> None:
    """Collect what :func:`ovnctl.sim.pruning.coerce` would prune (same rules, no copy)."""
    if isinstance(value, dict):
        for key, child in value.items():
            sub_path = f"{path}.{key}" if path else key
            if keep_meta:
                if key in ("apiVersion", "kind") and isinstance(child, str):
                    continue
                if key == "metadata" and isinstance(child, dict):
                    metas.extend(f"{sub_path}.{k}" for k in child if k not in OBJECT_META_FIELDS)
                    continue
            sub = node.properties.get(key) or node.additional
            if sub is None:
                if not node.preserve:
                    pruned.append(sub_path)
            elif not sub.inert:
                _walk(child, sub, sub_path, keep_meta=sub.embedded, pruned=pruned, metas=metas)
    elif isinstance(value, list) and node.items is not None and not node.items.inert:
        items = node.items
        for index, child in enumerate(value):
            _walk(
                child,
                items,
                f"{path}[{index}]",
                keep_meta=items.embedded,
                pruned=pruned,
                metas=metas,
            )


def unknown_fields(obj: Any, root: Node) -> list[str]:
    """The paths pruning drops from ``obj``, in kube-apiserver's order.

    Upstream lists the object's unknown ``metadata`` fields first, then the
    schema's pruned paths sorted, then unknown fields in the ``metadata`` of
    embedded resources.
    """
    pruned: list[str] = []
    metas: list[str] = []
    _walk(obj, root, "", keep_meta=True, pruned=pruned, metas=metas)
    own = [m for m in metas if m.startswith("metadata.")]
    embedded = [m for m in metas if not m.startswith("metadata.")]
    return [*own, *sorted(pruned), *embedded]


def _json_patch_errors(patch: Any) -> Iterator[str]:
    """Unknown fields of JSON patch operations (``[0].foo``), as upstream's strict decode."""
    if isinstance(patch, list):
        for index, op in enumerate(patch):
            if isinstance(op, Mapping):
                for key in op:
                    if key not in _JSON_PATCH_OP_FIELDS:
                        yield f'json patch unknown field "[{index}].{key}"'


@dataclass
class FieldValidation:
    """One write's directive, its body's duplicate fields and where warnings go."""

    directive: str
    duplicates: tuple[str, ...] = ()
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_query(
        cls,
        query: Mapping[str, str],
        options_kind: str,
        *,
        duplicates: tuple[str, ...] = (),
        warnings: list[str] | None = None,
    ) -> FieldValidation:
        """The directive of a request; 422 naming the value if it is not one upstream knows."""
        value = query.get("fieldValidation", "")
        if value not in _ALLOWED:
            supported = ", ".join(json.dumps(v) for v in _ALLOWED)
            raise invalid(
                kind=options_kind,
                group="meta.k8s.io",
                name="",
                errors=[
                    FieldError(
                        "FieldValueNotSupported",
                        "fieldValidation",
                        f"Unsupported value: {json.dumps(value)}: supported values: {supported}",
                    )
                ],
            )
        return cls(value or WARN, duplicates, [] if warnings is None else warnings)

    def _report(self, found: list[str], refuse: ApiError | None) -> None:
        if not found or self.directive == IGNORE:
            return
        if self.directive == STRICT and refuse is not None:
            raise refuse
        self.warnings.extend(found)

    def _found(self, obj: Any, root: Node | None) -> list[str]:
        found = [f'duplicate field "{path}"' for path in self.duplicates]
        if root is not None:
            found.extend(f'unknown field "{path}"' for path in unknown_fields(obj, root))
        return found

    def check_body(self, kind: str, version: str, body: Any, root: Node | None) -> None:
        """Create and PUT: warn, or refuse with 400 as upstream's ``transformDecodeError``."""
        if self.directive == IGNORE:
            return
        found = self._found(body, root)
        if found:
            self._report(
                found,
                ApiError.bad_request(
                    f'{kind} in version "{version}" cannot be handled as a {kind}: '
                    f"strict decoding error: {', '.join(found)}"
                ),
            )

    def check_patch(self, patch: Any, json_patch: bool) -> list[str]:
        """What the patch document itself has (duplicates, unknown op fields); kept for later."""
        if self.directive == IGNORE:
            return []
        if json_patch:
            prefix = "json patch "
            return [f'{prefix}duplicate field "{p}"' for p in self.duplicates] + list(
                _json_patch_errors(patch)
            )
        return [f'duplicate field "{p}"' for p in self.duplicates]

    def check_patched(self, patch_errors: list[str], patched: Any, root: Node | None) -> None:
        """A patch's result: warn, or refuse with 422 on ``patch`` as upstream's jsonPatcher."""
        if self.directive == IGNORE:
            return
        found = list(patch_errors)
        if root is not None:
            found.extend(f'unknown field "{path}"' for path in unknown_fields(patched, root))
        if not found:
            return
        text = json.dumps(patched, separators=(",", ":"), sort_keys=True)  # as Go marshals maps
        self._report(
            found,
            invalid(
                kind="",
                group="",
                name="",
                errors=[
                    FieldError(
                        "FieldValueInvalid",
                        "patch",
                        f"Invalid value: {format_value(text)}: strict decoding error: "
                        + ", ".join(found),
                    )
                ],
            ),
        )
