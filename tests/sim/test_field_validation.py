"""Server-side field validation (``?fieldValidation=Ignore|Warn|Strict``) on writes.

Unknown fields (what pruning drops) and duplicate fields are warned about by
default, refused under Strict (400 on create and PUT, 422 on ``patch`` for a
patch), and say nothing under Ignore, as kube-apiserver does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.sim.conftest import CRDS, WIDGETS, Api, widget_crd

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "integer", "default": 3},
                "mode": {"type": "string"},
                "ports": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"name": {"type": "string"}}},
                },
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "template": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {"spec": {"type": "object"}},
                },
            },
        },
        "status": {"type": "object", "properties": {"phase": {"type": "string"}}},
    },
}
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"


@pytest.fixture
async def widgets(api: Api) -> Api:
    status, body = await api.post(CRDS, widget_crd(SCHEMA, status=True))
    assert status == 201, body
    return api


async def send(
    api: Api,
    method: str,
    path: str,
    body: Any,
    *,
    validation: str | None = None,
    content_type: str = "application/json",
) -> tuple[int, Any, list[str]]:
    """One request: ``(status, body, Warning header texts)``; ``body`` may be raw JSON text."""
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    params = {"fieldValidation": validation} if validation is not None else None
    async with api.session.request(
        method, api.url + path, data=data, params=params, headers={"Content-Type": content_type}
    ) as response:
        warnings = [h.removeprefix('299 - "')[:-1] for h in response.headers.getall("Warning", [])]
        return response.status, await response.json(), [w.replace('\\"', '"') for w in warnings]


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": spec,
    }


async def test_default_is_warn_and_the_field_is_pruned(widgets: Api) -> None:
    """Without the parameter an unknown field is a Warning header and is dropped."""
    status, body, warnings = await send(widgets, "POST", WIDGETS, widget("w", mode="a", bogus=1))
    assert status == 201, body
    assert warnings == ['unknown field "spec.bogus"']
    assert body["spec"] == {"mode": "a", "size": 3}


async def test_warn_lists_fields_in_upstream_order(widgets: Api) -> None:
    """Own metadata first, then pruned paths sorted, then embedded metadata; nested paths."""
    obj = widget(
        "w",
        zeta=1,
        ports=[{"name": "a", "nested": True}],
        alpha=None,
        extra={"anything": 1},
        template={"apiVersion": "v1", "kind": "X", "metadata": {"name": "t", "junk": 1}},
    )
    obj["metadata"]["unknownMeta"] = "x"
    status, body, warnings = await send(widgets, "POST", WIDGETS, obj, validation="Warn")
    assert status == 201, body
    assert warnings == [
        'unknown field "metadata.unknownMeta"',
        'unknown field "spec.alpha"',
        'unknown field "spec.ports[0].nested"',
        'unknown field "spec.zeta"',
        'unknown field "spec.template.metadata.junk"',
    ]


async def test_strict_create_is_refused_with_400(widgets: Api) -> None:
    """Strict refuses a create as kube-apiserver does; nothing is stored."""
    status, body, _ = await send(
        widgets, "POST", WIDGETS, widget("w", bogus=1, other=2), validation="Strict"
    )
    assert status == 400
    assert body["reason"] == "BadRequest"
    assert body["message"] == (
        'Widget in version "v1" cannot be handled as a Widget: strict decoding error: '
        'unknown field "spec.bogus", unknown field "spec.other"'
    )
    assert (await widgets.get(f"{WIDGETS}/w"))[0] == 404


async def test_ignore_says_nothing(widgets: Api) -> None:
    """Ignore prunes silently, as before field validation existed."""
    status, body, warnings = await send(
        widgets, "POST", WIDGETS, widget("w", bogus=1), validation="Ignore"
    )
    assert (status, warnings) == (201, [])
    assert "bogus" not in body["spec"]


async def test_a_clean_object_gets_no_warning_under_strict(widgets: Api) -> None:
    """Declared fields, preserved subtrees and defaults are not unknown fields."""
    obj = widget("w", mode="a", extra={"free": {"form": 1}})
    status, body, warnings = await send(widgets, "POST", WIDGETS, obj, validation="Strict")
    assert (status, warnings) == (201, []), body


async def test_duplicate_fields(widgets: Api) -> None:
    """A key given twice is reported with its path; the last value wins, as in Go."""
    raw = (
        '{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"},'
        ' "spec": {"mode": "a", "mode": "b", "ports": [{"name": "x", "name": "y"}]}}'
    )
    status, body, warnings = await send(widgets, "POST", WIDGETS, raw)
    assert status == 201, body
    assert warnings == ['duplicate field "spec.mode"', 'duplicate field "spec.ports[0].name"']
    assert body["spec"]["mode"] == "b"
    status, body, _ = await send(widgets, "POST", WIDGETS, raw, validation="Strict")
    assert status == 400
    assert body["message"].endswith(
        'strict decoding error: duplicate field "spec.mode", duplicate field "spec.ports[0].name"'
    )


async def test_put_strict_and_warn(widgets: Api) -> None:
    """PUT is checked like create: 400 under Strict, a warning under Warn."""
    _, created = await widgets.post(WIDGETS, widget("w", mode="a"))
    updated = {**created, "spec": {"mode": "b", "bogus": 1}}
    status, body, _ = await send(widgets, "PUT", f"{WIDGETS}/w", updated, validation="Strict")
    assert status == 400
    assert body["message"].endswith('strict decoding error: unknown field "spec.bogus"')
    status, body, warnings = await send(widgets, "PUT", f"{WIDGETS}/w", updated)
    assert status == 200, body
    assert warnings == ['unknown field "spec.bogus"']
    assert body["spec"] == {"mode": "b", "size": 3}


@pytest.mark.parametrize(
    ("content_type", "patch"),
    [
        ("application/merge-patch+json", {"spec": {"bogus": 1}}),
        ("application/json-patch+json", [{"op": "add", "path": "/spec/bogus", "value": 1}]),
    ],
)
async def test_patch_strict_is_422_on_patch(widgets: Api, content_type: str, patch: Any) -> None:
    """A Strict patch that adds an unknown field is 422 on the field ``patch``, as upstream."""
    await widgets.post(WIDGETS, widget("w", mode="a"))
    status, body, _ = await send(
        widgets, "PATCH", f"{WIDGETS}/w", patch, validation="Strict", content_type=content_type
    )
    assert status == 422
    assert body["reason"] == "Invalid"
    [cause] = body["details"]["causes"]
    assert cause["field"] == "patch"
    assert cause["message"].startswith('Invalid value: "{\\"apiVersion\\":')
    assert cause["message"].endswith('strict decoding error: unknown field "spec.bogus"')
    assert body["message"].startswith(' "" is invalid: patch: Invalid value: ')
    status, body, warnings = await send(
        widgets, "PATCH", f"{WIDGETS}/w", patch, content_type=content_type
    )
    assert status == 200, body
    assert warnings == ['unknown field "spec.bogus"']
    assert "bogus" not in body["spec"]


async def test_patch_document_errors(widgets: Api) -> None:
    """Duplicates in a merge patch and unknown fields of JSON patch ops are reported first."""
    await widgets.post(WIDGETS, widget("w", mode="a"))
    status, _, warnings = await send(
        widgets,
        "PATCH",
        f"{WIDGETS}/w",
        '{"spec": {"mode": "b", "mode": "c", "bogus": 1}}',
        content_type="application/merge-patch+json",
    )
    assert status == 200
    assert warnings == ['duplicate field "spec.mode"', 'unknown field "spec.bogus"']
    status, _, warnings = await send(
        widgets,
        "PATCH",
        f"{WIDGETS}/w",
        [{"op": "replace", "path": "/spec/mode", "value": "d", "junk": 1}],
        content_type="application/json-patch+json",
    )
    assert status == 200
    assert warnings == ['json patch unknown field "[0].junk"']


async def test_status_writes_are_checked(widgets: Api) -> None:
    """The /status subresource decodes the same way: unknown status fields are reported."""
    _, created = await widgets.post(WIDGETS, widget("w", mode="a"))
    obj = {**created, "status": {"phase": "Up", "bogus": 1}}
    status, body, warnings = await send(widgets, "PUT", f"{WIDGETS}/w/status", obj)
    assert status == 200, body
    assert warnings == ['unknown field "status.bogus"']
    assert body["status"] == {"phase": "Up"}


async def test_an_unknown_directive_is_422(widgets: Api) -> None:
    """A value other than Ignore, Warn or Strict is refused, naming it, before any write."""
    status, body, _ = await send(widgets, "POST", WIDGETS, widget("w"), validation="Loose")
    assert status == 422
    assert body["message"] == (
        'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: '
        '"Loose": supported values: "", "Ignore", "Strict", "Warn"'
    )
    assert (await widgets.get(f"{WIDGETS}/w"))[0] == 404


async def test_builtin_kinds_report_only_duplicates(api: Api) -> None:
    """Built-in kinds have no schema here: unknown fields pass, duplicate fields are reported."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "bogus": 1}
    status, body, warnings = await send(api, "POST", CONFIGMAPS, cm, validation="Strict")
    assert (status, warnings) == (201, []), body
    raw = (
        '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d"},'
        ' "data": {"a": "1", "a": "2"}}'
    )
    status, body, _ = await send(api, "POST", CONFIGMAPS, raw, validation="Strict")
    assert status == 400
    assert body["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: '
        'strict decoding error: duplicate field "data.a"'
    )
