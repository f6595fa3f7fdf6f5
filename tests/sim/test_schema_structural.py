"""A v1 CRD whose schema is not structural is refused with 422, naming the node, as upstream."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.conftest import CRDS, Api, widget_crd

ROOT = "spec.versions[0].schema.openAPIV3Schema"


def with_spec(spec: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"spec": spec}}


@pytest.mark.parametrize(
    ("schema", "field", "message"),
    [
        (
            {"type": "object", "properties": {"spec": {"properties": {}}}},
            f"{ROOT}.properties[spec].type",
            "Required value: must not be empty for specified object fields",
        ),
        (
            with_spec({"type": "array", "items": {"description": "no type"}}),
            f"{ROOT}.properties[spec].items.type",
            "Required value: must not be empty for specified array items",
        ),
        (
            {"type": "string"},
            f"{ROOT}.type",
            'Invalid value: "string": must be object at the root',
        ),
        (
            with_spec(
                {
                    "type": "object",
                    "properties": {"a": {"type": "string"}},
                    "additionalProperties": {"type": "string"},
                }
            ),
            f"{ROOT}.properties[spec].additionalProperties",
            "Forbidden: additionalProperties and properties are mutual exclusive",
        ),
        (
            with_spec(
                {
                    "type": "object",
                    "properties": {"a": {"type": "string"}},
                    "anyOf": [{"type": "object"}],
                }
            ),
            f"{ROOT}.properties[spec].anyOf[0].type",
            "Forbidden: must be empty to be structural",
        ),
        (
            with_spec(
                {
                    "type": "object",
                    "properties": {"a": {"type": "string"}},
                    "oneOf": [{"properties": {"b": {"minLength": 1}}}],
                }
            ),
            f"{ROOT}.properties[spec].oneOf[0].properties[b]",
            "Required value: must have a corresponding property in the structural schema",
        ),
        (
            {
                "type": "object",
                "properties": {
                    "metadata": {"type": "object", "properties": {"labels": {"type": "object"}}}
                },
            },
            f"{ROOT}.properties[metadata]",
            "Forbidden: must not specify anything other than name and generateName, but "
            "metadata is implicitly specified",
        ),
        (
            with_spec({"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
            f"{ROOT}.properties[spec].uniqueItems",
            "Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes "
            "quadratic",
        ),
        (
            with_spec({"type": "object", "$ref": "#/definitions/x"}),
            f"{ROOT}.properties[spec].$ref",
            "Forbidden: $ref is not supported",
        ),
        (
            with_spec(
                {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "items": {"type": "object", "properties": {"name": {"type": "string"}}},
                }
            ),
            f"{ROOT}.properties[spec].x-kubernetes-list-map-keys",
            "Required value: must not be empty if x-kubernetes-list-type is map",
        ),
        (
            with_spec({"type": "string", "x-kubernetes-int-or-string": True}),
            f"{ROOT}.properties[spec].type",
            'Invalid value: "string": must be empty if x-kubernetes-int-or-string is true',
        ),
        (
            with_spec({"type": "integer", "default": "three"}),
            f"{ROOT}.properties[spec].default",
            'Invalid value: "string": body must be of type integer: "string"',
        ),
    ],
)
async def test_non_structural_schema_is_refused(
    api: Api, schema: dict[str, Any], field: str, message: str
) -> None:
    """Each structural rule, broken once: 422 with the node's path and upstream's words."""
    status, body = await api.post(CRDS, widget_crd(schema))
    assert status == 422, body
    assert body["reason"] == "Invalid"
    assert {"field": field, "message": message} in [
        {"field": c["field"], "message": c["message"]} for c in body["details"]["causes"]
    ]
    assert body["message"].startswith(
        'CustomResourceDefinition.apiextensions.k8s.io "widgets.example.com" is invalid: '
    )
    assert (await api.get(f"{CRDS}/widgets.example.com"))[0] == 404


async def test_a_version_without_a_schema_is_refused(api: Api) -> None:
    """apiextensions.k8s.io/v1 requires a schema for every version."""
    crd = widget_crd()
    del crd["spec"]["versions"][0]["schema"]
    status, body = await api.post(CRDS, crd)
    assert status == 422
    assert body["details"]["causes"][0] == {
        "reason": "FieldValueRequired",
        "message": "Required value: schemas are required",
        "field": ROOT,
    }


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        with_spec(
            {
                "type": "object",
                "properties": {
                    "port": {
                        "x-kubernetes-int-or-string": True,
                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                    },
                    "any": {"x-kubernetes-preserve-unknown-fields": True},
                    "size": {"type": "integer", "default": 1, "minimum": 0},
                    "name": {"type": "string"},
                },
                "oneOf": [{"required": ["size"]}, {"required": ["name"]}],
            }
        ),
    ],
)
async def test_structural_schemas_are_accepted(api: Api, schema: dict[str, Any]) -> None:
    """int-or-string, preserve-unknown-fields without a type and value-only junctors are fine."""
    status, body = await api.post(CRDS, widget_crd(schema))
    assert status == 201, body


async def test_an_update_to_a_non_structural_schema_keeps_the_old_crd(api: Api) -> None:
    """A refused CRD update changes nothing: the old schema still governs its objects."""
    _, crd = await api.post(CRDS, widget_crd())
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = {"properties": {}}
    status, body = await api.put(f"{CRDS}/widgets.example.com", crd)
    assert status == 422, body
    assert body["details"]["causes"][0]["field"] == f"{ROOT}.type"
    status, created = await api.post(
        "/apis/example.com/v1/widgets", {"metadata": {"name": "w"}, "spec": {"x": 1}}
    )
    assert status == 201
    assert created["spec"] == {"x": 1}
