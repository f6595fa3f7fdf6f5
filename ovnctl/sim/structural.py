"""Whether a ``v1`` CRD's schemas are structural, as kube-apiserver requires before serving it.

Pruning and defaulting (:mod:`ovnctl.sim.pruning`) only make sense on a
*structural* schema: every field has one type, stated outside any
``allOf``/``anyOf``/``oneOf``/``not``. kube-apiserver refuses an
``apiextensions.k8s.io/v1`` CRD whose schema is not, with ``422 Invalid`` and
the offending node named (``spec.versions[0].schema.openAPIV3Schema.
properties[spec].type: Required value: must not be empty for specified object
fields``). :func:`check_crd_schemas` applies the main rules of
k8s.io/apiextensions-apiserver's structural validation; ``admission.
validate_crd`` calls it on every CRD create and update. The rules checked are
listed in docs/sim.md ("Structural schemas").
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ovnctl.sim.pruning import coerce, dropped_paths
from ovnctl.sim.schema import FieldError, compile_schema, format_value, invalid

__all__ = ["check_crd_schemas", "structural_errors"]

# Keys a v1 CRD schema may not use at all (JSONSchemaProps fields v1 forbids).
_FORBIDDEN = {
    "$ref": "$ref is not supported",
    "$schema": "$schema is not supported",
    "id": "id is not supported",
    "definitions": "definitions is not supported",
    "dependencies": "dependencies is not supported",
    "patternProperties": "patternProperties is not supported",
    "additionalItems": "additionalItems cannot be set to false",
}
# What may appear inside allOf/anyOf/oneOf/not: value validations only, no structure.
_NOT_IN_JUNCTORS = (
    "type",
    "nullable",
    "default",
    "description",
    "title",
    "additionalProperties",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-list-type",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-map-type",
)
_SCALARS = ("string", "integer", "number", "boolean")


def _child(path: str, key: str) -> str:
    return f"{path}.{key}"


def _node_errors(node: Mapping[str, Any], path: str, *, where: str) -> Iterator[FieldError]:
    """Errors of one structural node (``where``: root, property, items or additional)."""
    for key, reason in _FORBIDDEN.items():
        if key in node and not (key == "additionalItems" and node[key] is not False):
            yield FieldError("FieldValueForbidden", _child(path, key), f"Forbidden: {reason}")
    if node.get("uniqueItems") is True:
        yield FieldError(
            "FieldValueForbidden",
            _child(path, "uniqueItems"),
            "Forbidden: uniqueItems cannot be set to true since the runtime complexity "
            "becomes quadratic",
        )
    type_ = node.get("type")
    int_or_string = node.get("x-kubernetes-int-or-string") is True
    preserve = node.get("x-kubernetes-preserve-unknown-fields")
    if preserve is not None and preserve is not True:
        yield FieldError(
            "FieldValueInvalid",
            _child(path, "x-kubernetes-preserve-unknown-fields"),
            f"Invalid value: {format_value(preserve)}: must be true or undefined",
        )
    if int_or_string and type_:
        yield FieldError(
            "FieldValueInvalid",
            _child(path, "type"),
            f"Invalid value: {format_value(type_)}: must be empty if "
            "x-kubernetes-int-or-string is true",
        )
    elif not type_ and not int_or_string and preserve is not True:
        detail = {
            "root": "must not be empty at the root",
            "property": "must not be empty for specified object fields",
            "items": "must not be empty for specified array items",
            "additional": "must not be empty for specified additionalProperties",
        }[where]
        yield FieldError("FieldValueRequired", _child(path, "type"), f"Required value: {detail}")
    if where == "root" and type_ and type_ != "object":
        yield FieldError(
            "FieldValueInvalid",
            _child(path, "type"),
            f"Invalid value: {format_value(type_)}: must be object at the root",
        )
    if type_ == "array" and not isinstance(node.get("items"), Mapping):
        yield FieldError(
            "FieldValueRequired", _child(path, "items"), "Required value: must be specified"
        )
    if "properties" in node and "additionalProperties" in node:
        yield FieldError(
            "FieldValueForbidden",
            _child(path, "additionalProperties"),
            "Forbidden: additionalProperties and properties are mutual exclusive",
        )
    if node.get("x-kubernetes-embedded-resource") is True:
        if type_ != "object":
            yield FieldError(
                "FieldValueInvalid",
                _child(path, "type"),
                f"Invalid value: {format_value(type_)}: must be object if "
                "x-kubernetes-embedded-resource is true",
            )
        if not node.get("properties") and preserve is not True:
            yield FieldError(
                "FieldValueRequired",
                _child(path, "properties"),
                "Required value: must not be empty if x-kubernetes-embedded-resource is true "
                "without x-kubernetes-preserve-unknown-fields",
            )
    yield from _list_type_errors(node, path)
    yield from _default_errors(node, path)
    for junctor in ("allOf", "anyOf", "oneOf"):
        for index, sub in enumerate(node.get(junctor) or []):
            if isinstance(sub, Mapping):
                yield from _junctor_errors(sub, f"{path}.{junctor}[{index}]", node)
    if isinstance(node.get("not"), Mapping):
        yield from _junctor_errors(node["not"], f"{path}.not", node)


def _list_type_errors(node: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    list_type = node.get("x-kubernetes-list-type")
    if list_type is None:
        return
    if list_type not in ("atomic", "set", "map"):
        yield FieldError(
            "FieldValueNotSupported",
            _child(path, "x-kubernetes-list-type"),
            f"Unsupported value: {format_value(list_type)}: "
            'supported values: "atomic", "set", "map"',
        )
        return
    if node.get("type") != "array":
        yield FieldError(
            "FieldValueInvalid",
            _child(path, "type"),
            f"Invalid value: {format_value(node.get('type'))}: must be array if "
            "x-kubernetes-list-type is specified",
        )
        return
    items: Mapping[str, Any] = node["items"] if isinstance(node.get("items"), Mapping) else {}
    if (
        list_type == "set"
        and items.get("type") not in _SCALARS
        and not items.get("x-kubernetes-int-or-string")
    ):
        yield FieldError(
            "FieldValueInvalid",
            _child(path, "items.type"),
            f"Invalid value: {format_value(items.get('type'))}: must be a scalar type if "
            "x-kubernetes-list-type is set",
        )
    if list_type == "map":
        keys = node.get("x-kubernetes-list-map-keys")
        if not keys:
            yield FieldError(
                "FieldValueRequired",
                _child(path, "x-kubernetes-list-map-keys"),
                "Required value: must not be empty if x-kubernetes-list-type is map",
            )
            return
        properties = items.get("properties") or {}
        required = items.get("required") or []
        for key in keys:
            if key not in properties:
                yield FieldError(
                    "FieldValueInvalid",
                    _child(path, "x-kubernetes-list-map-keys"),
                    f"Invalid value: {format_value(keys)}: entries must all be names of item "
                    "properties",
                )
            elif key not in required and "default" not in properties[key]:
                yield FieldError(
                    "FieldValueRequired",
                    f"{path}.items.properties[{key}]",
                    "Required value: all map keys must be required or have a default value",
                )


def _default_errors(node: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    """A default must itself be valid, and already pruned (kube-apiserver refuses both)."""
    if "default" not in node or node["default"] is None:
        return
    default = node["default"]
    compiled = compile_schema({k: v for k, v in node.items() if k != "default"})
    if any(dropped_paths(default, coerce(default, compiled.root))):
        yield FieldError(
            "FieldValueInvalid",
            _child(path, "default"),
            f"Invalid value: {format_value(default)}: must not have unknown fields",
        )
    for error in compiled.validate(default):
        yield FieldError(
            error.reason,
            _child(path, "default") + (f".{error.field}" if error.field else ""),
            error.message,
        )


def _junctor_errors(
    node: Mapping[str, Any], path: str, outer: Mapping[str, Any]
) -> Iterator[FieldError]:
    """Inside a junctor only value validations, on fields the structure already declares."""
    int_or_string_pattern = outer.get("x-kubernetes-int-or-string") is True and node.get(
        "type"
    ) in ("integer", "string")
    for key in _NOT_IN_JUNCTORS:
        if key in node and not (key == "type" and int_or_string_pattern):
            yield FieldError(
                "FieldValueForbidden",
                _child(path, key),
                "Forbidden: must be empty to be structural",
            )
    for name, sub in (node.get("properties") or {}).items():
        declared = (outer.get("properties") or {}).get(name)
        if declared is None:
            yield FieldError(
                "FieldValueRequired",
                f"{path}.properties[{name}]",
                "Required value: must have a corresponding property in the structural schema",
            )
        elif isinstance(sub, Mapping):
            yield from _junctor_errors(sub, f"{path}.properties[{name}]", declared)
    if isinstance(node.get("items"), Mapping):
        if not isinstance(outer.get("items"), Mapping):
            yield FieldError(
                "FieldValueRequired",
                f"{path}.items",
                "Required value: must have a corresponding items in the structural schema",
            )
        else:
            yield from _junctor_errors(node["items"], f"{path}.items", outer["items"])


def _walk(node: Mapping[str, Any], path: str, *, where: str) -> Iterator[FieldError]:
    yield from _node_errors(node, path, where=where)
    for name, sub in (node.get("properties") or {}).items():
        sub_path = f"{path}.properties[{name}]"
        if not isinstance(sub, Mapping):
            yield FieldError("FieldValueInvalid", sub_path, "Invalid value: must be an object")
            continue
        if where == "root" and name == "metadata":
            yield from _metadata_errors(sub, sub_path)
            continue
        if where == "root" and name in ("apiVersion", "kind") and sub.get("type") != "string":
            yield FieldError(
                "FieldValueInvalid",
                _child(sub_path, "type"),
                f"Invalid value: {format_value(sub.get('type'))}: must be string",
            )
        yield from _walk(sub, sub_path, where="property")
    if isinstance(node.get("items"), Mapping):
        yield from _walk(node["items"], _child(path, "items"), where="items")
    if isinstance(node.get("additionalProperties"), Mapping):
        yield from _walk(
            node["additionalProperties"], _child(path, "additionalProperties"), where="additional"
        )


def _metadata_errors(node: Mapping[str, Any], path: str) -> Iterator[FieldError]:
    """``metadata`` at the root may only be typed object and restrict name and generateName."""
    if node.get("type") not in (None, "object"):
        yield FieldError(
            "FieldValueInvalid",
            _child(path, "type"),
            f"Invalid value: {format_value(node.get('type'))}: must be object",
        )
    allowed = {"type", "description", "properties"}
    extra = set(node) - allowed
    props = node.get("properties") or {}
    if extra or set(props) - {"name", "generateName"}:
        yield FieldError(
            "FieldValueForbidden",
            path,
            "Forbidden: must not specify anything other than name and generateName, but "
            "metadata is implicitly specified",
        )


def structural_errors(crd: Mapping[str, Any]) -> list[FieldError]:
    """Why a v1 CRD's schemas are not structural (empty: they are)."""
    spec = crd.get("spec") or {}
    errors: list[FieldError] = []
    if spec.get("preserveUnknownFields") is True:
        errors.append(
            FieldError(
                "FieldValueInvalid",
                "spec.preserveUnknownFields",
                "Invalid value: true: must be false in order to use defaults in the schema",
            )
        )
    for index, version in enumerate(spec.get("versions") or []):
        if not isinstance(version, Mapping):
            continue
        path = f"spec.versions[{index}].schema.openAPIV3Schema"
        schema = (version.get("schema") or {}).get("openAPIV3Schema")
        if not isinstance(schema, Mapping):
            errors.append(
                FieldError("FieldValueRequired", path, "Required value: schemas are required")
            )
            continue
        errors.extend(_walk(schema, path, where="root"))
    return errors


def check_crd_schemas(crd: Mapping[str, Any]) -> None:
    """Raise the 422 kube-apiserver answers to a v1 CRD whose schemas are not structural."""
    errors = structural_errors(crd)
    if errors:
        raise invalid(
            kind="CustomResourceDefinition",
            group="apiextensions.k8s.io",
            name=str((crd.get("metadata") or {}).get("name", "")),
            errors=errors,
        )
