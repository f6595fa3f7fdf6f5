"""Everything ovnctl writes survives kube-apiserver's schema handling of the real CRDs.

The server enforces crds/ on every write and the ``sim`` fixture fails any test
whose writes lost a field to pruning. This test runs the flows that write
Subnet status, IP objects (pods, attachments, a KubeVirt VM), pod annotations
and Events, and checks more strictly still: every field of every Subnet and IP
is *declared* in crds/, not merely kept by ``x-kubernetes-preserve-unknown-
fields``, so it also survives Kube-OVN's own CRDs, which prune.
"""

from __future__ import annotations

import functools
from typing import Any

import yaml

from ovnctl.k8s.resources import EVENTS, IPS, PODS, SUBNETS
from ovnctl.sim.pruning import dropped_paths
from ovnctl.sim.schema import CompiledSchema
from tests.controller.conftest import REPO, eventually
from tests.controller.objects import create_all, kube_ovn_nad, pod, subnet, virtual_machine

ALLOCATED = "attachnet.default.ovn.kubernetes.io/allocated"


def _without_preserve(node: Any) -> Any:
    """The schema without x-kubernetes-preserve-unknown-fields: prunes all it does not declare."""
    if isinstance(node, dict):
        return {
            k: _without_preserve(v)
            for k, v in node.items()
            if k != "x-kubernetes-preserve-unknown-fields"
        }
    if isinstance(node, list):
        return [_without_preserve(v) for v in node]
    return node


async def _all(kube, resource) -> list[dict[str, Any]]:
    return [item async for page in kube.list_pages(resource) for item in page]


def _strict(name: str) -> CompiledSchema:
    crd = yaml.safe_load((REPO / "crds" / name).read_text())
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return CompiledSchema(_without_preserve(schema))


async def test_every_field_ovnctl_writes_is_declared_in_the_crds(
    start_controller, kube, sim
) -> None:
    """Subnet status, IP specs and the demo's Subnets lose nothing to a pruning schema."""
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/16", default=True, excludeIps=["10.16.0.1..10.16.0.9"]),
        kube_ovn_nad("attachnet"),
        subnet("attach", "172.17.0.0/24", provider="attachnet.default.ovn"),
        subnet("broken", "10.99.0.0/33"),  # refused: a status with a failing condition
        virtual_machine("vm1"),
    )
    await start_controller()
    await create_all(
        kube,
        pod("p1", networks="attachnet"),
        pod("virt-launcher-vm1-aaaaa", networks="attachnet", vm="vm1"),
    )
    for name in ("p1", "virt-launcher-vm1-aaaaa"):
        await eventually(
            functools.partial(kube.get, PODS, name=name, namespace="default"),
            until=lambda p: ALLOCATED in p["metadata"].get("annotations", {}),
        )
    subnets = await eventually(
        lambda: _all(kube, SUBNETS),
        until=lambda items: all(s.get("status", {}).get("conditions") for s in items),
    )
    ips = await _all(kube, IPS)
    events = await _all(kube, EVENTS)
    assert len(ips) >= 3
    assert events, "the refused subnet should have an event"
    strict = {"Subnet": _strict("subnet.yaml"), "IP": _strict("ip.yaml")}
    for obj in [*subnets, *ips]:
        coerced = strict[obj["kind"]].coerce(obj)
        assert list(dropped_paths(obj, coerced)) == [], obj["metadata"]["name"]
        assert strict[obj["kind"]].validate(coerced) == [], obj["metadata"]["name"]
    # Nothing any write sent was pruned by the CRDs as they are (the fixture checks
    # again at the end; here it is the point of the test).
    assert sim.call(lambda s: list(s.store.schemas.pruned)) == []
