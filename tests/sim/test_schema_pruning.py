"""CRD schema pruning and defaulting: unknown fields go, defaults come, on write and on read."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from ovnctl.sim import SimServer
from tests.sim.conftest import CRDS, WIDGETS, Api, widget_crd

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {
            "type": "object",
            "properties": {
                "size": {"type": "integer", "default": 3},
                "mode": {"type": "string"},
                "limits": {
                    "type": "object",
                    "default": {},
                    "properties": {"cpu": {"type": "string", "default": "1"}},
                },
                "ports": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "name": {"type": "string"},
                            "protocol": {"type": "string", "default": "TCP"},
                        },
                    },
                },
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "template": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {
                        "spec": {"type": "object", "properties": {"a": {"type": "string"}}}
                    },
                },
            },
        },
    },
}


@pytest.fixture
async def widgets(api: Api) -> Api:
    status, body = await api.post(CRDS, widget_crd(SCHEMA))
    assert status == 201, body
    return api


def widget(name: str = "w", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": name},
        "spec": spec,
    }


async def test_unknown_fields_are_dropped_silently(widgets: Api) -> None:
    """Fields the schema does not declare vanish, at any depth; the write succeeds."""
    body = widget(mode="a", bogus=1, ports=[{"name": "http", "junk": True}])
    body["topLevel"] = "x"
    body["metadata"]["notMeta"] = "x"
    status, created = await widgets.post(WIDGETS, body)
    assert status == 201, created
    assert "topLevel" not in created
    assert "notMeta" not in created["metadata"]
    assert "bogus" not in created["spec"]
    assert created["spec"]["ports"] == [{"name": "http", "protocol": "TCP"}]
    assert created["apiVersion"] == "example.com/v1"
    assert created["kind"] == "Widget"
    _, stored = await widgets.get(f"{WIDGETS}/w")
    assert stored == created


async def test_metadata_keeps_every_object_meta_field(widgets: Api) -> None:
    """metadata is not pruned by the schema: labels, annotations, finalizers, owners stay."""
    body = widget()
    body["metadata"].update(
        labels={"a": "b"},
        annotations={"c": "d"},
        finalizers=["example.com/f"],
        ownerReferences=[{"apiVersion": "v1", "kind": "Pod", "name": "p", "uid": "u"}],
    )
    _, created = await widgets.post(WIDGETS, body)
    for key in ("labels", "annotations", "finalizers", "ownerReferences"):
        assert created["metadata"][key] == body["metadata"][key]


async def test_preserve_unknown_fields_and_additional_properties_keep_fields(widgets: Api) -> None:
    """Under x-kubernetes-preserve-unknown-fields and additionalProperties nothing is pruned."""
    extra = {"anything": {"nested": [1, {"deep": True}]}}
    _, created = await widgets.post(WIDGETS, widget(extra=extra, labels={"x": "y", "z": "w"}))
    assert created["spec"]["extra"] == extra
    assert created["spec"]["labels"] == {"x": "y", "z": "w"}


async def test_embedded_resource_keeps_type_and_object_meta(widgets: Api) -> None:
    """An embedded resource keeps apiVersion, kind and ObjectMeta; its other fields are pruned."""
    template = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "t", "labels": {"a": "b"}, "bogus": 1},
        "spec": {"a": "x", "b": "y"},
        "other": 1,
    }
    _, created = await widgets.post(WIDGETS, widget(template=template))
    assert created["spec"]["template"] == {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "t", "labels": {"a": "b"}},
        "spec": {"a": "x"},
    }


async def test_defaults_are_filled_in_on_create_and_patch(widgets: Api) -> None:
    """Missing fields get their defaults, nested defaults too; removing one brings it back."""
    _, created = await widgets.post(WIDGETS, widget(mode="a"))
    assert created["spec"] == {"mode": "a", "size": 3, "limits": {"cpu": "1"}}
    status, patched = await widgets.patch(f"{WIDGETS}/w", {"spec": {"size": None}})
    assert status == 200
    assert patched["spec"]["size"] == 3
    assert patched["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


async def test_resending_an_object_without_its_defaults_is_a_no_op(widgets: Api) -> None:
    """A client that never sends the defaulted fields does not make a new version."""
    _, created = await widgets.post(WIDGETS, widget(mode="a"))
    sent = {**created, "spec": {"mode": "a"}}
    status, updated = await widgets.put(f"{WIDGETS}/w", sent)
    assert status == 200
    assert updated == created


async def test_crd_update_defaults_and_prunes_stored_objects_on_read(widgets: Api) -> None:
    """A default or removal added to the CRD shows on the next read, with no new version."""
    _, created = await widgets.post(WIDGETS, widget(mode="a"))
    _, crd = await widgets.get(f"{CRDS}/widgets.example.com")
    props = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
        "properties"
    ]
    props["color"] = {"type": "string", "default": "blue"}
    del props["mode"]
    status, body = await widgets.put(f"{CRDS}/widgets.example.com", crd)
    assert status == 200, body
    _, read = await widgets.get(f"{WIDGETS}/w")
    assert read["spec"]["color"] == "blue"
    assert "mode" not in read["spec"]
    assert read["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    _, listed = await widgets.get(WIDGETS)
    assert listed["items"] == [read]


async def test_schema_change_ends_watches_so_clients_relist(widgets: Api) -> None:
    """Watches of a kind whose stored objects now read differently end, as upstream."""
    await widgets.post(WIDGETS, widget(mode="a"))
    _, listed = await widgets.get(WIDGETS)
    params = {"watch": "true", "resourceVersion": listed["metadata"]["resourceVersion"]}
    async with widgets.session.get(widgets.url + WIDGETS, params=params) as response:
        _, crd = await widgets.get(f"{CRDS}/widgets.example.com")
        crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"][
            "color"
        ] = {"type": "string", "default": "blue"}
        await widgets.put(f"{CRDS}/widgets.example.com", crd)
        lines = await asyncio.wait_for(response.content.read(), 5)
    assert lines == b""  # a clean end of stream, no events


async def test_checks_can_be_turned_off() -> None:
    """schema_checks=False stores custom resources as sent (only for measuring the checks)."""
    async with (
        SimServer(schema_checks=False) as sim,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, sim.url)
        await api.post(CRDS, widget_crd(SCHEMA))
        status, created = await api.post(WIDGETS, widget(size="not an int", bogus=1))
        assert status == 201
        assert created["spec"] == {"size": "not an int", "bogus": 1}


async def test_pruned_writes_are_recorded(sim: SimServer, widgets: Api) -> None:
    """The server keeps which writes lost which fields, for tests that must lose none."""
    await widgets.post(WIDGETS, widget(mode="a", bogus={"x": 1}))
    assert list(sim.store.schemas.pruned) == [("Widget", "w", ("spec.bogus",))]
    assert json.dumps(list(sim.store.schemas.pruned))  # plain data
