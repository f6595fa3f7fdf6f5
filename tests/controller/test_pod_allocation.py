"""Pods get addresses for their primary network and Multus attachments."""

from __future__ import annotations

from ovnctl.k8s.resources import IPS, PODS
from tests.controller.conftest import eventually
from tests.controller.objects import create_all, kube_ovn_nad, pod, subnet


async def test_pod_with_attachment_gets_both_addresses(start_controller, kube) -> None:
    """Primary and attachment addresses land as IP objects first, then one pod patch."""
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/16", default=True),
        kube_ovn_nad("attachnet"),
        subnet("attach", "172.17.0.0/24", provider="attachnet.default.ovn"),
    )
    await start_controller()
    await create_all(kube, pod("p1", networks="attachnet"))
    body = await eventually(
        lambda: kube.get(PODS, name="p1", namespace="default"),
        until=lambda p: (
            p["metadata"]
            .get("annotations", {})
            .get("attachnet.default.ovn.kubernetes.io/allocated")
            == "true"
        ),
    )
    annotations = body["metadata"]["annotations"]
    assert annotations["ovn.kubernetes.io/ip_address"] == "10.16.0.2"
    assert annotations["ovn.kubernetes.io/logical_switch"] == "ovn-default"
    assert annotations["attachnet.default.ovn.kubernetes.io/ip_address"] == "172.17.0.2"
    assert annotations["attachnet.default.ovn.kubernetes.io/cidr"] == "172.17.0.0/24"
    assert annotations["attachnet.default.ovn.kubernetes.io/gateway"] == "172.17.0.1"
    ip = await kube.get(IPS, name="p1.default.attachnet.default.ovn")
    assert ip["spec"]["ipAddress"] == "172.17.0.2"
    assert (
        ip["spec"]["macAddress"] == annotations["attachnet.default.ovn.kubernetes.io/mac_address"]
    )
    primary = await kube.get(IPS, name="p1.default")
    assert primary["spec"]["subnet"] == "ovn-default"


async def test_deleted_pod_releases_its_address(start_controller, kube) -> None:
    """Deleting a pod deletes its IP object and frees the address for the next pod."""
    await create_all(kube, subnet("ovn-default", "10.16.0.0/16", default=True))
    controller = await start_controller()
    await create_all(kube, pod("p1"))
    await eventually(lambda: _ips(kube), until=lambda names: "p1.default" in names)
    await kube.delete(PODS, name="p1", namespace="default")
    await eventually(lambda: _ips(kube), until=lambda names: "p1.default" not in names)
    await eventually(lambda: _held(controller), until=lambda held: "p1.default" not in held)
    await create_all(kube, pod("p2"))
    body = await eventually(
        lambda: kube.get(PODS, name="p2", namespace="default"),
        until=lambda p: "ovn.kubernetes.io/ip_address" in p["metadata"].get("annotations", {}),
    )
    assert body["metadata"]["annotations"]["ovn.kubernetes.io/ip_address"] == "10.16.0.2"


async def _ips(kube) -> set[str]:
    names: set[str] = set()
    async for page in kube.list_pages(IPS):
        names.update(item["metadata"]["name"] for item in page)
    return names


async def _held(controller) -> set[str]:
    return set(controller.ipam.owners())
