"""A VM recreated under its old name while its release is still awaiting the API.

A release deletes the IP object, then frees the address. A VM deleted and
recreated with the same name has NICs of the same names; if its new launcher
pod is allocated while the old release still awaits the API, the IPAM hands it
the old address, which the release then frees: a second pod gets it later and
one address has two owners. Each test holds one of the release's requests
open at a gate, recreates the VM behind it, then lets the request go.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from ovnctl.controller import Controller
from ovnctl.k8s.api import NotFound, Resource
from ovnctl.k8s.resources import IPS, PODS, VIRTUAL_MACHINE_INSTANCES, VIRTUAL_MACHINES
from tests.controller.conftest import call, eventually
from tests.controller.objects import create_all, kube_ovn_nad, pod, subnet, virtual_machine

ALLOCATED = "attachnet.default.ovn.kubernetes.io/allocated"
IP = "attachnet.default.ovn.kubernetes.io/ip_address"
NIC = "vm1.default.attachnet.default.ovn"


class Gate:
    """Holds the controller's first ``verb`` of ``resource`` open until :meth:`open`."""

    def __init__(self, verb: str, resource: Resource) -> None:
        self.verb = verb
        self.resource = resource
        self.entered = threading.Event()
        self._release = threading.Event()

    def install(self, controller: Controller) -> None:
        original = getattr(controller.api, self.verb)

        async def gated(resource: Resource, **kwargs: Any) -> Any:
            if resource == self.resource and not self.entered.is_set():
                self.entered.set()
                await asyncio.to_thread(self._release.wait, 30)
            return await original(resource, **kwargs)

        setattr(controller.api, self.verb, gated)

    def open(self) -> None:
        self._release.set()


async def _annotations(kube, name: str) -> dict[str, str]:
    try:
        body = await kube.get(PODS, name=name, namespace="default")
    except NotFound:
        return {}
    return dict(body["metadata"].get("annotations") or {})


async def _consistent(kube, controller: Controller, pod_name: str) -> tuple[bool, str]:
    """The pod's address has an IP object saying so, and the IPAM holds it for the NIC."""
    annotations = await _annotations(kube, pod_name)
    if ALLOCATED not in annotations:
        return False, "not allocated"
    try:
        ip_object = await kube.get(IPS, name=NIC)
    except NotFound:
        return False, f"{annotations[IP]} has no IP object"
    holder = await call(controller, lambda c: c.ipam.subnet("attach").owner_of(annotations[IP]))
    ok = ip_object["spec"]["ipAddress"] == annotations[IP] and holder == NIC
    return ok, f"IP object {ip_object['spec']['ipAddress']}, IPAM holder {holder!r}"


@pytest.mark.parametrize(
    "gate",
    [
        pytest.param(Gate("delete", IPS), id="ip-object-delete"),
        pytest.param(Gate("get", VIRTUAL_MACHINE_INSTANCES), id="vmi-absence-check"),
    ],
)
async def test_vm_recreated_during_release_never_shares_an_address(
    start_controller, kube, gate: Gate
) -> None:
    """The recreated VM's pod ends with an address that is recorded and held, never a freed one."""
    await create_all(
        kube,
        kube_ovn_nad("attachnet"),
        subnet("attach", "172.17.0.0/24", provider="attachnet.default.ovn"),
        virtual_machine("vm1"),
    )
    controller = await start_controller(primary_network=False)
    await create_all(kube, pod("virt-launcher-vm1-aaaaa", networks="attachnet", vm="vm1"))
    await eventually(
        lambda: _annotations(kube, "virt-launcher-vm1-aaaaa"), until=lambda a: ALLOCATED in a
    )
    await call(controller, gate.install)

    # The VM goes: its release starts and stops at the gate.
    await kube.delete(VIRTUAL_MACHINES, name="vm1", namespace="default")
    await kube.delete(PODS, name="virt-launcher-vm1-aaaaa", namespace="default")
    await eventually(lambda: asyncio.to_thread(gate.entered.wait, 0.05), until=bool)

    # Recreated under the same name; its new pod is handled while the release waits.
    await create_all(
        kube,
        virtual_machine("vm1"),
        pod("virt-launcher-vm1-bbbbb", networks="attachnet", vm="vm1"),
    )
    key = ("default", "virt-launcher-vm1-bbbbb")

    async def handled() -> bool:
        if ALLOCATED in await _annotations(kube, key[1]):
            return True
        return bool(await call(controller, lambda c: key in c.waits))

    await eventually(handled, until=bool)
    gate.open()

    await eventually(lambda: _consistent(kube, controller, key[1]), until=lambda r: r[0])
    # And a newcomer never gets that address.
    await create_all(kube, pod("other", networks="attachnet"))
    other = await eventually(lambda: _annotations(kube, "other"), until=lambda a: ALLOCATED in a)
    vm_pod = await _annotations(kube, key[1])
    assert other[IP] != vm_pod[IP]
