"""Which requests a webhook sees: rules (wildcards, subresources, scope), selectors, matchPolicy."""

from __future__ import annotations

from typing import Any

import pytest

from ovnctl.sim.webhooks import Attributes, Rule
from tests.sim.conftest import CRDS, NADS, Api, nad, widget_crd
from tests.sim.webhook_server import VWC, HookServer, rule, validating_configuration, webhook


def _attrs(
    plural: str = "pods",
    *,
    operation: str = "CREATE",
    group: str = "",
    version: str = "v1",
    subresource: str = "",
    namespace: str = "default",
) -> Attributes:
    return Attributes(
        operation=operation,
        group=group,
        version=version,
        plural=plural,
        kind="Kind",
        subresource=subresource,
        namespace=namespace,
        name="x",
        obj=None,
        old_obj=None,
        dry_run=False,
        options=None,
    )


def _rule(resources: list[str], *, scope: str = "*", operations: tuple[str, ...] = ("*",)) -> Rule:
    return Rule.parse(
        {
            "operations": list(operations),
            "apiGroups": ["*"],
            "apiVersions": ["*"],
            "resources": resources,
            "scope": scope,
        }
    )


@pytest.mark.parametrize(
    ("resources", "plural", "subresource", "expected"),
    [
        (["pods"], "pods", "", True),
        (["pods"], "pods", "status", False),
        (["*"], "pods", "", True),
        (["*"], "pods", "status", False),
        (["*/*"], "pods", "status", True),
        (["*/*"], "pods", "", True),
        (["pods/*"], "pods", "status", True),
        (["pods/*"], "pods", "", True),  # upstream's subMatch: "*" also matches no subresource
        (["*/status"], "subnets", "status", True),
        (["*/status"], "subnets", "", False),
        (["subnets/status"], "subnets", "status", True),
        (["subnets", "subnets/status"], "subnets", "status", True),
        (["ips"], "subnets", "", False),
    ],
)
def test_resource_and_subresource_wildcards(
    resources: list[str], plural: str, subresource: str, expected: bool
) -> None:
    """``*`` is every main resource; ``*/*`` everything; ``x/*`` x and its subresources."""
    attrs = _attrs(plural, subresource=subresource)
    assert _rule(resources).matches(attrs, attrs.group, attrs.version) is expected


@pytest.mark.parametrize(
    ("scope", "plural", "namespace", "expected"),
    [
        ("Namespaced", "pods", "default", True),
        ("Namespaced", "nodes", "", False),
        ("Namespaced", "namespaces", "default", False),
        ("Cluster", "nodes", "", True),
        ("Cluster", "namespaces", "default", True),
        ("Cluster", "pods", "default", False),
        ("*", "pods", "default", True),
        ("*", "nodes", "", True),
    ],
)
def test_scope(scope: str, plural: str, namespace: str, expected: bool) -> None:
    """Namespaces count as cluster-scoped although their requests carry a namespace."""
    attrs = _attrs(plural, namespace=namespace)
    assert _rule(["*"], scope=scope).matches(attrs, "", "v1") is expected


def test_operations_groups_and_versions() -> None:
    """Operations, apiGroups and apiVersions match exactly or by ``*``."""
    rule = Rule.parse(
        {
            "operations": ["CREATE", "UPDATE"],
            "apiGroups": ["kubeovn.io"],
            "apiVersions": ["v1"],
            "resources": ["subnets"],
        }
    )
    subnets = _attrs("subnets", group="kubeovn.io", namespace="")
    assert rule.matches(subnets, "kubeovn.io", "v1")
    assert not rule.matches(
        _attrs("subnets", group="kubeovn.io", operation="DELETE"), "kubeovn.io", "v1"
    )
    assert not rule.matches(subnets, "kubeovn.io", "v2")
    assert not rule.matches(subnets, "other.io", "v1")


async def _configure(api: Api, hooks: HookServer, **fields: Any) -> None:
    config = webhook("sel.ovnctl.test", hooks.client_config("/sel"), **fields)
    await api.create(VWC, validating_configuration("sel", config))


async def test_namespace_selector_reads_the_namespace_labels(api: Api, hooks: HookServer) -> None:
    """namespaceSelector matches the labels of the object's namespace."""
    await api.post(
        "/api/v1/namespaces", {"metadata": {"name": "watched", "labels": {"hooks": "on"}}}
    )
    await _configure(api, hooks, namespaceSelector={"matchLabels": {"hooks": "on"}})
    await api.post(NADS, nad("unwatched"))
    await api.post(
        "/apis/k8s.cni.cncf.io/v1/namespaces/watched/network-attachment-definitions", nad("w")
    )
    assert [(r["namespace"], r["name"]) for r in hooks.requests()] == [("watched", "w")]


async def test_namespace_selector_on_namespaces_and_cluster_scoped_objects(
    api: Api, hooks: HookServer
) -> None:
    """A Namespace is matched on its own new labels; cluster-scoped objects always match."""
    rules = [rule("CREATE", group="", resources=("namespaces", "nodes"))]
    await _configure(
        api,
        hooks,
        rules=rules,
        namespaceSelector={
            "matchExpressions": [{"key": "team", "operator": "In", "values": ["net"]}]
        },
    )
    await api.post("/api/v1/namespaces", {"metadata": {"name": "plain"}})
    await api.post("/api/v1/namespaces", {"metadata": {"name": "netns", "labels": {"team": "net"}}})
    await api.post("/api/v1/nodes", {"metadata": {"name": "node1"}})
    seen = [(r["resource"]["resource"], r["name"], r.get("namespace")) for r in hooks.requests()]
    assert seen == [("namespaces", "netns", "netns"), ("nodes", "node1", None)]


async def test_object_selector_matches_old_or_new_labels(api: Api, hooks: HookServer) -> None:
    """objectSelector sees an update that removes the label (the old object matches)."""
    await _configure(api, hooks, objectSelector={"matchLabels": {"tier": "a"}})
    await api.post(NADS, nad("labelled", tier="a"))
    await api.post(NADS, nad("other", tier="b"))
    await api.patch(f"{NADS}/labelled", {"metadata": {"labels": {"tier": None}}})
    await api.patch(f"{NADS}/other", {"metadata": {"labels": {"x": "y"}}})
    assert [(r["operation"], r["name"]) for r in hooks.requests()] == [
        ("CREATE", "labelled"),
        ("UPDATE", "labelled"),
    ]


@pytest.mark.parametrize(("policy", "called"), [("Equivalent", True), ("Exact", False)])
async def test_match_policy_equivalent_covers_other_versions(
    api: Api, hooks: HookServer, policy: str, called: bool
) -> None:
    """A v1 rule sees a v2 request under Equivalent (kind/resource at v1), not under Exact."""
    await api.create(CRDS, widget_crd(versions=("v1", "v2"), scope="Namespaced"))
    rules = [rule("CREATE", group="example.com", resources=("widgets",))]
    await _configure(api, hooks, rules=rules, matchPolicy=policy)
    widget = {"apiVersion": "example.com/v2", "kind": "Widget", "metadata": {"name": "w"}}
    status, _ = await api.post("/apis/example.com/v2/namespaces/default/widgets", widget)
    assert status == 201
    requests = hooks.requests()
    assert bool(requests) is called
    if called:
        (request,) = requests
        assert request["resource"]["version"] == "v1"
        assert request["requestResource"]["version"] == "v2"
        assert request["object"]["apiVersion"] == "example.com/v1"
