"""Label and field selectors on list (grammar and server-side filtering)."""

from __future__ import annotations

import pytest

from ovnctl.sim.errors import ApiError
from ovnctl.sim.selectors import parse_field_selector, parse_label_selector
from tests.sim.conftest import PODS, Api, pod


def _obj(**labels: str) -> dict[str, object]:
    return {"metadata": {"labels": labels}}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=a", {"app": "a"}, True),
        ("app==a", {"app": "a"}, True),
        ("app!=a", {"app": "b"}, True),
        ("app!=a", {}, True),
        ("app in (a, b)", {"app": "b"}, True),
        ("app in (a,b)", {"app": "c"}, False),
        ("app notin (a,b)", {}, True),
        ("app notin (a,b)", {"app": "a"}, False),
        ("app", {"app": ""}, True),
        ("!app", {"app": "x"}, False),
        ("!app", {}, True),
        ("app=a,tier in (x,y),!legacy", {"app": "a", "tier": "y"}, True),
        ("k8s.io/name=x", {"k8s.io/name": "x"}, True),
        ("", {}, True),
    ],
)
def test_label_selector_grammar(selector: str, labels: dict[str, str], expected: bool) -> None:
    """Each selector operator matches as the apimachinery labels package does."""
    assert parse_label_selector(selector)(_obj(**labels)) is expected


@pytest.mark.parametrize("bad", ["app in (a", "=a", "app=a b", "app in a,b)"])
def test_malformed_label_selector_is_400(bad: str) -> None:
    """Malformed selectors raise a 400 ApiError."""
    with pytest.raises(ApiError) as info:
        parse_label_selector(bad)
    assert info.value.code == 400


def test_field_selector_grammar() -> None:
    """Field selectors compare dotted paths with =, == and !=."""
    obj = {"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n1"}}
    assert parse_field_selector("spec.nodeName=n1")(obj)
    assert parse_field_selector("metadata.name==p,metadata.namespace=ns")(obj)
    assert not parse_field_selector("spec.nodeName!=n1")(obj)
    assert parse_field_selector("spec.nodeName!=")(obj)


async def test_list_with_label_selector(api: Api) -> None:
    """labelSelector filters a list on the server."""
    await api.post(PODS, pod("a", app="x", tier="1"))
    await api.post(PODS, pod("b", app="y"))
    await api.post(PODS, pod("c"))
    _, body = await api.get(PODS, labelSelector="app in (x,y),!tier")
    assert [i["metadata"]["name"] for i in body["items"]] == ["b"]


async def test_list_with_field_selector_on_node_name(api: Api) -> None:
    """fieldSelector=spec.nodeName selects pods of one node; != inverts it."""
    for name, node in (("a", "n1"), ("b", "n2")):
        body = pod(name)
        body["spec"]["nodeName"] = node
        await api.post(PODS, body)
    _, on_n1 = await api.get(PODS, fieldSelector="spec.nodeName=n1")
    _, not_n1 = await api.get(PODS, fieldSelector="spec.nodeName!=n1")
    assert [i["metadata"]["name"] for i in on_n1["items"]] == ["a"]
    assert [i["metadata"]["name"] for i in not_n1["items"]] == ["b"]


async def test_list_across_namespaces_with_namespace_field(api: Api) -> None:
    """/api/v1/pods lists all namespaces; metadata.namespace narrows it."""
    await api.post("/api/v1/namespaces", {"metadata": {"name": "other"}})
    await api.post(PODS, pod("a"))
    await api.post("/api/v1/namespaces/other/pods", pod("b"))
    _, everything = await api.get("/api/v1/pods")
    _, other = await api.get("/api/v1/pods", fieldSelector="metadata.namespace=other")
    assert len(everything["items"]) == 2
    assert [i["metadata"]["name"] for i in other["items"]] == ["b"]


async def test_malformed_selector_on_list_is_400(api: Api) -> None:
    """A malformed selector in a request is answered 400 with a Status."""
    status, body = await api.get(PODS, labelSelector="app in (a")
    assert status == 400
    assert body["kind"] == "Status"
