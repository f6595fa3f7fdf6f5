"""Admission webhooks and CRD schemas together, in kube-apiserver's order.

The body is decoded (pruned, defaulted) before mutating webhooks see it;
what they return is pruned and defaulted again and then validated by the
schema, so a validating webhook sees the object as it will be stored, a field
a mutating webhook adds that the schema does not declare is dropped silently
(even under ``fieldValidation=Strict``), and a mutating patch that breaks the
schema fails the request with 422.
"""

from __future__ import annotations

from typing import Any

import pytest

from ovnctl.sim import SimServer
from tests.sim.conftest import CRDS, WIDGETS, Api, widget_crd
from tests.sim.webhook_server import (
    MWC,
    VWC,
    HookServer,
    jsonpatch_response,
    mutating_configuration,
    rule,
    validating_configuration,
    webhook,
)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "integer", "default": 3},
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "limits": {
                    "type": "object",
                    "properties": {"cpu": {"type": "string", "default": "1"}},
                },
            },
        }
    },
}
RULES = [rule("CREATE", "UPDATE", group="example.com", resources=("widgets",))]


@pytest.fixture
async def widgets(api: Api, hooks: HookServer) -> Api:
    """The Widget CRD, a mutating webhook on /m and a validating one on /v (both allow)."""
    await api.create(CRDS, widget_crd(SCHEMA))
    for path, configuration, name in (
        (MWC, mutating_configuration, "m"),
        (VWC, validating_configuration, "v"),
    ):
        hook = webhook(f"{name}.ovnctl.test", hooks.client_config(f"/{name}"), rules=RULES)
        await api.create(path, configuration(name, hook))
    return api


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": spec,
    }


async def test_mutating_webhook_sees_the_decoded_request(widgets: Api, hooks: HookServer) -> None:
    """The first mutating webhook gets the body pruned and defaulted, as upstream decodes it."""
    status, body = await widgets.post(WIDGETS, widget("w", mode="fast", bogus=1))
    assert status == 201, body
    [request] = hooks.requests("/m")
    assert request["object"]["spec"] == {"mode": "fast", "size": 3}


async def test_unknown_field_from_mutating_webhook_is_pruned(
    widgets: Api, hooks: HookServer, sim: SimServer
) -> None:
    """A field a mutating patch adds outside the schema is dropped before storage, silently."""
    hooks.handlers["/m"] = lambda req: jsonpatch_response(
        {"op": "add", "path": "/spec/injected", "value": "x"},
        {"op": "add", "path": "/spec/limits", "value": {}},
    )
    async with widgets.session.post(
        widgets.url + WIDGETS, json=widget("w", mode="fast"), params={"fieldValidation": "Strict"}
    ) as response:
        body = await response.json()
        assert response.status == 201, body
        assert "Warning" not in response.headers  # upstream reports only the client's fields
    # Stored pruned, and the webhook's new object got its nested defaults.
    assert body["spec"] == {"mode": "fast", "size": 3, "limits": {"cpu": "1"}}
    assert sim.store.get(sim.store.resource("example.com", "v1", "widgets"), None, "w").obj[
        "spec"
    ] == {"mode": "fast", "size": 3, "limits": {"cpu": "1"}}
    # The validating webhook saw exactly that: pruned and defaulted.
    [validated] = hooks.requests("/v")
    assert validated["object"]["spec"] == body["spec"]


async def test_validating_webhook_sees_pruned_and_defaulted_update(
    widgets: Api, hooks: HookServer
) -> None:
    """On a patch too, the validating webhook sees the object as it will be stored."""
    await widgets.post(WIDGETS, widget("w", mode="fast"))
    status, body = await widgets.patch(f"{WIDGETS}/w", {"spec": {"limits": {}, "bogus": True}})
    assert status == 200, body
    update = hooks.requests("/v")[-1]
    assert update["operation"] == "UPDATE"
    assert update["object"]["spec"] == {"mode": "fast", "size": 3, "limits": {"cpu": "1"}}
    assert update["oldObject"]["spec"] == {"mode": "fast", "size": 3}


@pytest.mark.parametrize("operation", ["create", "patch"])
async def test_mutating_patch_that_breaks_the_schema_is_422(
    widgets: Api, hooks: HookServer, operation: str
) -> None:
    """A mutating webhook's invalid result is refused by schema validation; no validating call."""
    if operation == "patch":
        await widgets.post(WIDGETS, widget("w", mode="fast"))
    validating_calls = len(hooks.requests("/v"))
    hooks.handlers["/m"] = lambda req: jsonpatch_response(
        {"op": "replace", "path": "/spec/mode", "value": "medium"}
    )
    if operation == "create":
        status, body = await widgets.post(WIDGETS, widget("w", mode="fast"))
    else:
        status, body = await widgets.patch(f"{WIDGETS}/w", {"spec": {"size": 4}})
    assert status == 422, body
    assert body["reason"] == "Invalid"
    assert [c["field"] for c in body["details"]["causes"]] == ["spec.mode"]
    assert 'Unsupported value: "medium"' in body["message"]
    assert len(hooks.requests("/v")) == validating_calls
    stored = await widgets.get(f"{WIDGETS}/w")
    if operation == "create":
        assert stored[0] == 404
    else:
        assert stored[1]["spec"] == {"mode": "fast", "size": 3}
