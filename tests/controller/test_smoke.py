"""The controller starts against the embedded API server and serves a Subnet."""

from __future__ import annotations

from ovnctl.k8s.resources import SUBNETS
from tests.controller.conftest import eventually


async def test_subnet_becomes_ready(start_controller, kube) -> None:
    """A plain IPv4 subnet reaches Ready with Kube-OVN's counts."""
    await start_controller()
    await kube.create(
        SUBNETS,
        {
            "apiVersion": "kubeovn.io/v1",
            "kind": "Subnet",
            "metadata": {"name": "net1"},
            "spec": {"cidrBlock": "10.16.0.0/24", "excludeIps": ["10.16.0.2..10.16.0.10"]},
        },
    )
    subnet = await eventually(
        lambda: kube.get(SUBNETS, name="net1"),
        until=lambda s: any(
            c["type"] == "Ready" and c["status"] == "True"
            for c in s.get("status", {}).get("conditions", [])
        ),
    )
    assert subnet["status"]["v4availableIPs"] == 244
