"""CRD schemas of custom resources: compiled once per CRD version, then enforced on writes.

kube-apiserver does three things to every custom resource it decodes, from the
``openAPIV3Schema`` of the object's version: it *prunes* fields the schema does
not declare, *defaults* missing fields, and *validates* the result, refusing a
bad write with ``422 Invalid``. This module holds a version's schema in both
forms those steps need:

* a :class:`~ovnctl.sim.pruning.Node` tree for pruning, defaulting and the
  ``x-kubernetes-list-type`` uniqueness checks (:mod:`ovnctl.sim.pruning`,
  written by hand because they are Kubernetes extensions, not JSON Schema);
* a ``jsonschema`` validator for everything JSON Schema says (types, required,
  enum, pattern, bounds, lengths, item counts, formats, nullable), whose
  errors are translated into the ``field.Error`` wording of kube-apiserver;
* the same translated schema compiled to Python by ``fastjsonschema``, which
  only answers "valid or not" but ~50x faster: almost every write is valid,
  and jsonschema's walk (tens of microseconds per field) would otherwise
  double the server's cost per write. jsonschema runs only when the fast
  check fails, and its verdict is the one that counts.

The store (:mod:`ovnctl.sim.store`) calls :func:`schemas_from_crd` when a CRD
is written, through :class:`ovnctl.sim.enforcement.SchemaEnforcer`, whose
``enforce`` runs :meth:`CompiledSchema.validate` on every write of its objects.
Compiling is cached by the schema's content, so the many servers a test suite
starts with the same CRDs compile each schema once per process.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import fastjsonschema
import jsonschema

from ovnctl.sim.errors import ApiError
from ovnctl.sim.pruning import Node, build_node, coerce, list_errors

__all__ = [
    "CompiledSchema",
    "FieldError",
    "compile_schema",
    "format_value",
    "invalid",
    "schemas_from_crd",
]


@dataclass(frozen=True, slots=True)
class FieldError:
    """One ``field.Error`` of k8s.io/apimachinery: its cause reason, field path and body."""

    reason: str  # FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, ...
    field: str
    message: str  # the ErrorBody: "Invalid value: 1: spec.x in body should be ..."

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


def format_value(value: Any) -> str:
    """A bad value as ``field.Error`` prints it: strings quoted, scalars bare, else JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"))


def invalid(*, kind: str, group: str, name: str, errors: Iterable[FieldError]) -> ApiError:
    """The 422 ``Invalid`` Status kube-apiserver answers (``errors.NewInvalid``).

    kubectl prints it from ``details.causes``: ``The Subnet "x" is invalid:
    spec.cidrBlock: Invalid value: ...``.
    """
    unique: list[FieldError] = []
    for error in errors:
        if error not in unique:
            unique.append(error)
    qualified = f"{kind}.{group}" if group else kind
    text = ", ".join(str(e) for e in unique)
    if len(unique) > 1:
        text = f"[{text}]"
    return ApiError(
        code=422,
        reason="Invalid",
        message=f'{qualified} "{name}" is invalid: {text}',
        details={
            "name": name,
            "group": group,
            "kind": kind,
            "causes": [
                {"reason": e.reason, "message": e.message, "field": e.field} for e in unique
            ],
        },
    )


# --- formats -----------------------------------------------------------------------------------

# kube-openapi's strfmt layouts for date-time: RFC 3339 with optional fraction and zone.
_DATE_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})?$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("byte")
def _is_byte(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


@_FORMATS.checks("date-time")
@_FORMATS.checks("datetime")
def _is_date_time(value: object) -> bool:
    return not isinstance(value, str) or bool(_DATE_TIME.match(value))


@_FORMATS.checks("date")
def _is_date(value: object) -> bool:
    return not isinstance(value, str) or bool(_DATE.match(value))


@_FORMATS.checks("uuid")
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or bool(_UUID.match(value))


# int32 and int64 are formats of integers. kube-openapi checks formats of strings
# only, so kube-apiserver accepts any integer there (a number outside int64 is
# not an integer once decoded, so it fails the type check instead); so does this.


_FAST_FORMATS = {
    "byte": _is_byte,
    "date-time": _is_date_time,
    "datetime": _is_date_time,
    "date": _is_date,
    "uuid": _is_uuid,
}


# --- translation to JSON Schema -----------------------------------------------------------------

_TYPE_NAMES = {bool: "boolean", int: "integer", float: "number", str: "string"}
# Keys jsonschema checks, copied as they are (the rest are Kubernetes extensions,
# descriptions, defaults or keys translated below).
_PLAIN_KEYS = (
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "multipleOf",
    "required",
    "format",
)


def _translate(node: Mapping[str, Any]) -> dict[str, Any]:
    """An OpenAPI v3 (Kubernetes flavour) schema node as a draft-7 JSON Schema.

    Only the validating keys are kept: jsonschema walks every key of a schema
    on every object, so descriptions and extensions would only cost time.
    """
    out: dict[str, Any] = {}
    nullable = bool(node.get("nullable"))
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string", "null"] if nullable else ["integer", "string"]
    elif isinstance(node.get("type"), str) and node["type"]:
        out["type"] = [node["type"], "null"] if nullable else node["type"]
    for key in _PLAIN_KEYS:
        if key in node:
            out[key] = node[key]
    if node.get("format") not in ("byte", "date-time", "datetime", "date", "uuid"):
        out.pop("format", None)
    if node.get("exclusiveMinimum") is True and "minimum" in node:
        out["exclusiveMinimum"] = out.pop("minimum")
    if node.get("exclusiveMaximum") is True and "maximum" in node:
        out["exclusiveMaximum"] = out.pop("maximum")
    properties = node.get("properties")
    if isinstance(properties, Mapping):
        translated = {k: _translate(v) for k, v in properties.items() if isinstance(v, Mapping)}
        translated = {k: v for k, v in translated.items() if v}
        if translated:
            out["properties"] = translated
    additional = node.get("additionalProperties")
    if isinstance(additional, Mapping):
        sub = _translate(additional)
        if sub:
            out["additionalProperties"] = sub
    items = node.get("items")
    if isinstance(items, Mapping):
        sub = _translate(items)
        if sub:
            out["items"] = sub
    for junctor in ("allOf", "anyOf", "oneOf"):
        if isinstance(node.get(junctor), list):
            out[junctor] = [_translate(s) for s in node[junctor] if isinstance(s, Mapping)]
    if isinstance(node.get("not"), Mapping):
        out["not"] = _translate(node["not"])
    return out


def _path(parts: Iterable[str | int]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return _TYPE_NAMES.get(type(value), "string")


def _number(value: Any) -> str:
    return repr(value) if isinstance(value, float) and not value.is_integer() else str(int(value))


def _field_errors(error: jsonschema.ValidationError) -> list[FieldError]:
    """kube-apiserver's wording of one jsonschema error (its kubeOpenAPIErrorToFieldError)."""
    keyword = str(error.validator)
    path = _path(error.absolute_path)
    where = f"{path} in body" if path else "body"  # kube-openapi's "<field> in body"
    value: Any = error.instance
    rule: Any = error.validator_value
    shown = format_value(value)

    def bad(message: str, value_text: str = shown) -> FieldError:
        return FieldError("FieldValueInvalid", path, f"Invalid value: {value_text}: {message}")

    if keyword == "required":
        return [
            FieldError("FieldValueRequired", f"{path}.{p}" if path else p, "Required value")
            for p in rule
            if isinstance(value, dict) and p not in value
        ]
    if keyword == "type":
        expected = ",".join(t for t in ([rule] if isinstance(rule, str) else rule) if t != "null")
        actual = json.dumps(_type_name(value))
        return [
            FieldError(
                "FieldValueTypeInvalid",
                path,
                f"Invalid value: {actual}: {where} must be of type {expected}: {actual}",
            )
        ]
    if keyword == "enum":
        supported = ", ".join(
            json.dumps(v) if isinstance(v, str) else format_value(v) for v in rule
        )
        return [
            FieldError(
                "FieldValueNotSupported",
                path,
                f"Unsupported value: {shown}: supported values: {supported}",
            )
        ]
    if keyword == "format":
        return [
            FieldError(
                "FieldValueTypeInvalid",
                path,
                f"Invalid value: {shown}: {where} must be of type {rule}: {shown}",
            )
        ]
    if keyword == "maxLength":
        return [
            FieldError("FieldValueTooLong", path, f"Too long: may not be more than {rule} bytes")
        ]
    if keyword == "maxItems":
        return [
            FieldError(
                "FieldValueTooMany", path, f"Too many: {len(value)}: must have at most {rule} items"
            )
        ]
    if keyword == "maxProperties":
        return [
            FieldError(
                "FieldValueTooMany", path, f"Too many: {len(value)}: must have at most {rule} items"
            )
        ]
    if keyword == "minItems":
        return [bad(f"{where} should have at least {rule} items", str(len(value)))]
    if keyword == "minProperties":
        return [bad(f"{where} should have at least {rule} properties", str(len(value)))]
    bounds = {
        "minimum": "greater than or equal to",
        "exclusiveMinimum": "greater than",
        "maximum": "less than or equal to",
        "exclusiveMaximum": "less than",
    }
    if keyword in bounds:
        return [bad(f"{where} should be {bounds[keyword]} {_number(rule)}")]
    messages = {
        "pattern": f"{where} should match '{rule}'",
        "minLength": f"{where} should be at least {rule} chars long",
        "multipleOf": f"{where} should be a multiple of {rule}",
        "anyOf": f"{where} must validate at least one schema (anyOf)",
        "oneOf": f"{where} must validate one and only one schema (oneOf)",
        "not": f"{where} must not validate the schema (not)",
    }
    return [bad(messages.get(keyword, error.message))]


# --- one compiled version ----------------------------------------------------------------------


class CompiledSchema:
    """One CRD version's ``openAPIV3Schema``, ready to prune, default and validate objects."""

    __slots__ = ("_fast", "_validator", "root")

    def __init__(self, openapi: Mapping[str, Any]) -> None:
        self.root: Node = build_node(openapi)
        translated = _translate(openapi)
        self._validator = jsonschema.Draft7Validator(translated, format_checker=_FORMATS)
        self._fast = fastjsonschema.compile(
            translated, formats=_FAST_FORMATS, use_default=False, use_formats=True
        )

    def coerce(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Pruned and defaulted, as kube-apiserver decodes it; ``obj`` is not changed."""
        result: dict[str, Any] = coerce(obj, self.root, root=True)
        return result

    def fast_valid(self, obj: Mapping[str, Any]) -> bool:
        """Whether the JSON Schema keywords pass (fastjsonschema: no error details)."""
        try:
            self._fast(obj)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def schema_errors(self, obj: Mapping[str, Any]) -> list[FieldError]:
        """Every JSON Schema keyword that fails (jsonschema), in kube-apiserver's words."""
        return [e for error in self._validator.iter_errors(obj) for e in _field_errors(error)]

    def validate(self, obj: Mapping[str, Any]) -> list[FieldError]:
        """Every schema violation of a (coerced) object, in kube-apiserver's words."""
        errors = [] if self.fast_valid(obj) else self.schema_errors(obj)
        if self.root.has_list_types:
            errors.extend(
                FieldError("FieldValueDuplicate", path, f"Duplicate value: {format_value(v)}")
                for path, v in list_errors(obj, self.root)
            )
        if len(errors) > 1:
            # A value of the wrong type fails its enum or pattern too; say only the type.
            typed = {e.field for e in errors if e.reason == "FieldValueTypeInvalid"}
            errors = [
                e for e in errors if e.reason == "FieldValueTypeInvalid" or e.field not in typed
            ]
        return errors


@functools.lru_cache(maxsize=512)
def _compile_cached(canonical: str) -> CompiledSchema:
    return CompiledSchema(json.loads(canonical))


def compile_schema(openapi: Mapping[str, Any]) -> CompiledSchema:
    """The compiled schema; compiled once per distinct schema content in this process."""
    return _compile_cached(json.dumps(openapi, sort_keys=True, separators=(",", ":")))


def schemas_from_crd(crd: Mapping[str, Any]) -> dict[str, CompiledSchema]:
    """Version name -> compiled schema, for each version of a CRD that has a schema."""
    spec = crd.get("spec") or {}
    shared = (spec.get("validation") or {}).get("openAPIV3Schema")
    result: dict[str, CompiledSchema] = {}
    for version in spec.get("versions") or []:
        if not isinstance(version, Mapping):
            continue
        openapi = (version.get("schema") or {}).get("openAPIV3Schema") or shared
        if isinstance(openapi, Mapping):
            result[str(version.get("name", ""))] = compile_schema(openapi)
    return result
