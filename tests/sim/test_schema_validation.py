"""CRD schema validation: every write of a custom resource is checked, 422 names the field."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.conftest import CRDS, WIDGETS, Api, widget_crd

# One schema with every check the embedded server makes.
SPEC: dict[str, Any] = {
    "type": "object",
    "required": ["size"],
    "properties": {
        "size": {"type": "integer", "minimum": 1, "maximum": 10},
        "label": {"type": "string", "minLength": 2, "maxLength": 5, "pattern": "^[a-z]+$"},
        "mode": {"type": "string", "enum": ["fast", "slow"]},
        "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
        "tags": {
            "type": "array",
            "items": {"type": "string"},
            "minItems": 1,
            "maxItems": 3,
            "x-kubernetes-list-type": "set",
        },
        "ports": {
            "type": "array",
            "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"],
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string"},
                    "port": {"type": "integer", "format": "int32"},
                },
            },
        },
        "since": {"type": "string", "format": "date-time"},
        "blob": {"type": "string", "format": "byte"},
        "target": {"x-kubernetes-int-or-string": True},
        "note": {"type": "string", "nullable": True},
        "replicas": {"type": "integer", "default": 1},
    },
}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": SPEC,
        "status": {
            "type": "object",
            "properties": {
                "phase": {"type": "string", "enum": ["Ready", "Failed"]},
                "count": {"type": "integer"},
            },
        },
    },
}


@pytest.fixture
async def widgets(api: Api) -> Api:
    status, body = await api.post(CRDS, widget_crd(SCHEMA, status=True))
    assert status == 201, body
    return api


def widget(name: str = "w", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": {"size": 3, **spec},
    }


async def test_wrong_type_is_refused_as_kube_apiserver_words_it(widgets: Api) -> None:
    """A string field given an integer: 422 Invalid, the message and cause name the field."""
    status, body = await widgets.post(WIDGETS, widget("bad", label=5))
    assert status == 422
    assert body["reason"] == "Invalid"
    assert body["message"] == (
        'Widget.example.com "bad" is invalid: spec.label: Invalid value: "integer": '
        'spec.label in body must be of type string: "integer"'
    )
    assert body["details"] == {
        "name": "bad",
        "group": "example.com",
        "kind": "Widget",
        "causes": [
            {
                "reason": "FieldValueTypeInvalid",
                "message": 'Invalid value: "integer": spec.label in body must be of type '
                'string: "integer"',
                "field": "spec.label",
            }
        ],
    }
    assert (await widgets.get(f"{WIDGETS}/bad"))[0] == 404


async def test_missing_required_field(widgets: Api) -> None:
    """A required field that is absent is FieldValueRequired."""
    body = widget("w")
    del body["spec"]["size"]
    status, answer = await widgets.post(WIDGETS, body)
    assert status == 422
    assert answer["details"]["causes"] == [
        {"reason": "FieldValueRequired", "message": "Required value", "field": "spec.size"}
    ]
    assert answer["message"].endswith("spec.size: Required value")


async def test_enum_lists_the_supported_values(widgets: Api) -> None:
    """A value outside the enum is FieldValueNotSupported, with the supported values."""
    status, body = await widgets.post(WIDGETS, widget(mode="medium"))
    assert status == 422
    (cause,) = body["details"]["causes"]
    assert cause == {
        "reason": "FieldValueNotSupported",
        "message": 'Unsupported value: "medium": supported values: "fast", "slow"',
        "field": "spec.mode",
    }


@pytest.mark.parametrize(
    ("spec", "field", "reason", "message"),
    [
        (
            {"size": 0},
            "spec.size",
            "FieldValueInvalid",
            "Invalid value: 0: spec.size in body should be greater than or equal to 1",
        ),
        (
            {"size": 11},
            "spec.size",
            "FieldValueInvalid",
            "Invalid value: 11: spec.size in body should be less than or equal to 10",
        ),
        (
            {"ratio": 0},
            "spec.ratio",
            "FieldValueInvalid",
            "Invalid value: 0: spec.ratio in body should be greater than 0",
        ),
        (
            {"label": "a"},
            "spec.label",
            "FieldValueInvalid",
            'Invalid value: "a": spec.label in body should be at least 2 chars long',
        ),
        (
            {"label": "abcdef"},
            "spec.label",
            "FieldValueTooLong",
            "Too long: may not be more than 5 bytes",
        ),
        (
            {"label": "AB"},
            "spec.label",
            "FieldValueInvalid",
            "Invalid value: \"AB\": spec.label in body should match '^[a-z]+$'",
        ),
        (
            {"tags": []},
            "spec.tags",
            "FieldValueInvalid",
            "Invalid value: 0: spec.tags in body should have at least 1 items",
        ),
        (
            {"tags": ["a", "b", "c", "d"]},
            "spec.tags",
            "FieldValueTooMany",
            "Too many: 4: must have at most 3 items",
        ),
        (
            {"since": "yesterday"},
            "spec.since",
            "FieldValueTypeInvalid",
            'Invalid value: "yesterday": spec.since in body must be of type date-time: "yesterday"',
        ),
        (
            {"blob": "not base64!"},
            "spec.blob",
            "FieldValueTypeInvalid",
            'Invalid value: "not base64!": spec.blob in body must be of type byte: "not base64!"',
        ),
        (
            {"target": True},
            "spec.target",
            "FieldValueTypeInvalid",
            'Invalid value: "boolean": spec.target in body must be of type integer,string: '
            '"boolean"',
        ),
        ({"tags": ["a", "a"]}, "spec.tags[1]", "FieldValueDuplicate", 'Duplicate value: "a"'),
        (
            {"ports": [{"name": "http", "port": 80}, {"name": "http", "port": 81}]},
            "spec.ports[1]",
            "FieldValueDuplicate",
            'Duplicate value: {"name":"http"}',
        ),
        ({"ports": [{"port": 80}]}, "spec.ports[0].name", "FieldValueRequired", "Required value"),
    ],
)
async def test_value_checks(
    widgets: Api, spec: dict[str, Any], field: str, reason: str, message: str
) -> None:
    """Bounds, lengths, patterns, item counts, formats, int-or-string and list uniqueness."""
    status, body = await widgets.post(WIDGETS, widget(**spec))
    assert status == 422, body
    assert body["details"]["causes"] == [{"reason": reason, "message": message, "field": field}]
    assert body["message"] == f'Widget.example.com "w" is invalid: {field}: {message}'


async def test_valid_values_are_accepted(widgets: Api) -> None:
    """The same checks let good values through, int-or-string either way, nullable nulls kept."""
    for index, target in enumerate((8080, "http")):
        status, body = await widgets.post(
            WIDGETS,
            widget(
                f"ok{index}",
                label="abc",
                mode="fast",
                ratio=0.5,
                tags=["a", "b"],
                ports=[{"name": "http", "port": 80}, {"name": "dns", "port": 53}],
                since="2024-05-01T10:00:00Z",
                blob="aGVsbG8=",
                target=target,
                note=None,
            ),
        )
        assert status == 201, body
        assert body["spec"]["target"] == target
        assert body["spec"]["note"] is None


async def test_several_errors_are_listed_in_one_message(widgets: Api) -> None:
    """Every violation is reported, in brackets, as kube-apiserver aggregates them."""
    status, body = await widgets.post(WIDGETS, widget(size="3", mode="x"))
    assert status == 422
    assert body["message"].startswith('Widget.example.com "w" is invalid: [')
    assert {c["field"] for c in body["details"]["causes"]} == {"spec.size", "spec.mode"}


async def test_non_nullable_null_is_dropped_or_defaulted(widgets: Api) -> None:
    """null where the schema allows none: dropped, or the default if there is one."""
    status, body = await widgets.post(WIDGETS, widget(label=None, replicas=None))
    assert status == 201, body
    assert "label" not in body["spec"]
    assert body["spec"]["replicas"] == 1
    body = widget("w2")
    body["spec"]["size"] = None  # dropped, so the required field is missing
    status, answer = await widgets.post(WIDGETS, body)
    assert status == 422
    assert answer["details"]["causes"][0]["field"] == "spec.size"


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type"),
    [
        ("PUT", "w", None, "application/json"),
        ("PATCH", "w", {"spec": {"mode": "medium"}}, "application/merge-patch+json"),
        (
            "PATCH",
            "w",
            [{"op": "add", "path": "/spec/mode", "value": "medium"}],
            "application/json-patch+json",
        ),
    ],
)
async def test_every_write_verb_is_validated(
    widgets: Api, method: str, path: str, body: Any, content_type: str
) -> None:
    """PUT, merge patch and JSON patch are refused alike, and the stored object is kept."""
    _, created = await widgets.post(WIDGETS, widget())
    if body is None:
        body = {**created, "spec": {**created["spec"], "mode": "medium"}}
    status, answer = await widgets.request(
        method, f"{WIDGETS}/{path}", body, content_type=content_type
    )
    assert status == 422, answer
    assert answer["details"]["causes"][0]["field"] == "spec.mode"
    _, stored = await widgets.get(f"{WIDGETS}/w")
    assert stored == created


async def test_dry_run_is_validated_too(widgets: Api) -> None:
    """A dry-run create gets the same 422 a real one would."""
    status, body = await widgets.request(
        "POST", WIDGETS, widget(mode="x"), params={"dryRun": "All"}
    )
    assert status == 422
    assert body["details"]["causes"][0]["field"] == "spec.mode"


async def test_status_subresource_validates_status_and_ignores_spec(widgets: Api) -> None:
    """/status checks the status it writes; spec sent there is ignored, as upstream."""
    await widgets.post(WIDGETS, widget())
    status, body = await widgets.patch(f"{WIDGETS}/w/status", {"status": {"phase": "Lost"}})
    assert status == 422
    assert body["details"]["causes"][0]["field"] == "status.phase"
    status, body = await widgets.patch(
        f"{WIDGETS}/w/status", {"spec": {"mode": "bogus"}, "status": {"phase": "Ready", "x": 1}}
    )
    assert status == 200, body
    assert body["status"] == {"phase": "Ready"}  # status.x pruned
    assert "mode" not in body["spec"]


async def test_main_resource_write_ignores_status(widgets: Api) -> None:
    """With a status subresource, a bad status sent to the main resource is ignored, not refused."""
    await widgets.post(WIDGETS, widget())
    status, body = await widgets.patch(
        f"{WIDGETS}/w", {"spec": {"mode": "slow"}, "status": {"phase": "Lost"}}
    )
    assert status == 200, body
    assert body["spec"]["mode"] == "slow"
    assert "status" not in body


async def test_unchanged_invalid_values_ratchet(widgets: Api) -> None:
    """After a CRD grows stricter, old values may stay; only changed values must pass."""
    await widgets.post(WIDGETS, widget(tags=["a", "b"]))
    _, crd = await widgets.get(f"{CRDS}/widgets.example.com")
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
        "tags"
    ]["maxItems"] = 1
    status, body = await widgets.put(f"{CRDS}/widgets.example.com", crd)
    assert status == 200, body
    status, body = await widgets.patch(f"{WIDGETS}/w", {"spec": {"mode": "slow"}})
    assert status == 200, body  # spec.tags is still too long, but unchanged
    status, body = await widgets.patch(f"{WIDGETS}/w/status", {"status": {"phase": "Ready"}})
    assert status == 200, body
    status, body = await widgets.patch(f"{WIDGETS}/w", {"spec": {"tags": ["a", "b", "c"]}})
    assert status == 422
    assert body["details"]["causes"][0]["reason"] == "FieldValueTooMany"
