"""Mutating webhooks beyond one patch: reinvocation, DELETE, retries when the object changes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ovnctl.sim import SimServer
from tests.sim.conftest import NADS, Api, nad
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


def _label_once(key: str) -> Any:
    """A handler that adds ``labels[key]`` unless it is there already."""

    def handler(request: dict[str, Any]) -> dict[str, Any]:
        labels = request["object"]["metadata"].get("labels") or {}
        if key in labels:
            return {"allowed": True}
        return jsonpatch_response({"op": "add", "path": f"/metadata/labels/{key}", "value": "1"})

    return handler


@pytest.mark.parametrize(("policy", "calls"), [("IfNeeded", 2), ("Never", 1)])
async def test_reinvocation_if_needed_sees_later_changes(
    api: Api, hooks: HookServer, policy: str, calls: int
) -> None:
    """An IfNeeded webhook called before another one changed the object is called again."""
    hooks.handlers["/a"] = _label_once("a")
    hooks.handlers["/b"] = _label_once("b")
    await api.create(
        MWC,
        mutating_configuration(
            "m",
            webhook("a.ovnctl.test", hooks.client_config("/a"), reinvocationPolicy=policy),
            webhook("b.ovnctl.test", hooks.client_config("/b")),
        ),
    )
    status, body = await api.post(NADS, nad("r", tier="x"))
    assert status == 201
    assert body["metadata"]["labels"] == {"tier": "x", "a": "1", "b": "1"}
    assert len(hooks.requests("/a")) == calls
    assert len(hooks.requests("/b")) == 1
    if calls == 2:
        assert hooks.requests("/a")[1]["object"]["metadata"]["labels"]["b"] == "1"


async def test_a_patch_on_delete_is_refused(api: Api, hooks: HookServer) -> None:
    """A mutating webhook cannot patch a DELETE (there is no object): 500, object kept."""
    hooks.handlers["/m"] = lambda req: jsonpatch_response(
        {"op": "add", "path": "/metadata/labels", "value": {}}
    )
    await api.post(NADS, nad("kept"))
    rules = [rule("DELETE")]
    await api.create(
        MWC,
        mutating_configuration(
            "m", webhook("m.ovnctl.test", hooks.client_config("/m"), rules=rules)
        ),
    )
    status, body = await api.delete(f"{NADS}/kept")
    assert status == 500
    assert "attempted to modify the object, which is not supported" in body["message"]
    assert (await api.get(f"{NADS}/kept"))[0] == 200


async def test_delete_collection_admits_each_object(api: Api, hooks: HookServer) -> None:
    """deletecollection sends one DELETE review per object; a refusal keeps the rest."""
    hooks.handlers["/d"] = lambda req: {
        "allowed": req["oldObject"]["metadata"]["name"] != "c-2",
        "status": {"code": 403, "message": "c-2 is pinned"},
    }
    rules = [rule("DELETE")]
    for i in (1, 2, 3):
        await api.post(NADS, nad(f"c-{i}", batch="c"))
    await api.create(
        VWC,
        validating_configuration(
            "d", webhook("d.ovnctl.test", hooks.client_config("/d"), rules=rules)
        ),
    )
    status, body = await api.request("DELETE", NADS, params={"labelSelector": "batch=c"})
    assert status == 403
    assert body["message"].endswith("denied the request: c-2 is pinned")
    assert [r["name"] for r in hooks.requests()] == ["c-1", "c-2"]
    names = [item["metadata"]["name"] for item in (await api.get(NADS))[1]["items"]]
    assert names == ["c-2", "c-3"]


async def test_a_change_during_validation_is_admitted_again(
    sim: SimServer, api: Api, hooks: HookServer
) -> None:
    """If the object changes while webhooks run, the update is admitted again on the new one."""
    first_call = asyncio.Event()
    go_on = asyncio.Event()

    async def slow_once(request: dict[str, Any]) -> dict[str, Any]:
        if not first_call.is_set():
            first_call.set()
            await go_on.wait()
        return {"allowed": True}

    hooks.handlers["/v"] = slow_once
    await api.post(NADS, nad("raced"))
    rules = [rule("UPDATE")]
    await api.create(
        VWC,
        validating_configuration(
            "v",
            webhook(
                "v.ovnctl.test",
                hooks.client_config("/v"),
                rules=rules,
                objectSelector={
                    "matchExpressions": [{"key": "from", "operator": "In", "values": ["slow"]}]
                },
            ),
        ),
    )
    slow = asyncio.create_task(
        api.patch(f"{NADS}/raced", {"metadata": {"labels": {"from": "slow"}}})
    )
    await first_call.wait()
    # Meanwhile another writer changes the object (this write matches no webhook).
    assert (await api.patch(f"{NADS}/raced", {"metadata": {"annotations": {"x": "y"}}}))[0] == 200
    go_on.set()
    status, body = await slow
    assert status == 200
    assert body["metadata"]["labels"] == {"from": "slow"}
    assert body["metadata"]["annotations"] == {"x": "y"}
    requests = hooks.requests()
    assert len(requests) == 2
    assert requests[1]["oldObject"]["metadata"]["annotations"] == {"x": "y"}
