"""NicReleaser alone: the durable record goes first, the address last.

Each release is driven against the recording writer; a held or failing DELETE
shows what the IPAM and the ledger say while (or after) it is in flight.
"""

from __future__ import annotations

import asyncio

import pytest

from ovnctl.k8s.api import Transient
from ovnctl.k8s.resources import IPS
from ovnctl.reconcilers.release import NicReleaser
from tests.controller.objects import subnet
from tests.reconcilers.factories import Rig, make_releaser
from tests.reconcilers.fakes import Call, FakeNorthbound


def held_nic(rig: Rig, nic: str, subnet_name: str = "s1", *, ip_object: bool = True) -> None:
    """``nic`` holds an address in ``subnet_name``, is recorded, and has an IP object."""
    rig.ipam.allocate(subnet_name, nic)
    rig.ledger.record(nic, owner=("default", nic.split(".")[0]), is_vm=False)
    if ip_object:
        rig.writer.seed(IPS, {"metadata": {"name": nic}, "spec": {}})


@pytest.fixture
def releaser(rig: Rig) -> NicReleaser:
    rig.add_subnet(subnet("s1", "10.16.0.0/24"))
    rig.add_subnet(subnet("s2", "10.17.0.0/24"))
    return make_releaser(rig)


async def test_ip_object_goes_before_the_address(rig: Rig, releaser: NicReleaser) -> None:
    """While the IP object's DELETE is in flight the address is still held and marked releasing."""
    held_nic(rig, "p1.default")
    seen: list[tuple[bool, bool]] = []

    def look(call: Call) -> None:
        if call.verb == "delete":
            seen.append((bool(rig.ipam.lookup("p1.default")), rig.ledger.releasing("p1.default")))

    rig.writer.on_call = look
    await releaser.release(["p1.default"])
    assert seen == [(True, True)]
    assert rig.ipam.lookup("p1.default") == ()
    assert rig.writer.get_object(IPS, "p1.default") is None
    assert not rig.ledger.releasing("p1.default")
    assert rig.ledger.owner_of("p1.default") is None


async def test_missing_ip_object_still_frees(rig: Rig, releaser: NicReleaser) -> None:
    """An IP object already gone (404) is what the release wanted: the address is freed."""
    held_nic(rig, "p1.default", ip_object=False)
    await releaser.release(["p1.default"])
    assert [c.failed for c in rig.writer.calls_to("delete", IPS)] == [""]
    assert rig.ipam.lookup("p1.default") == ()


async def test_failed_delete_keeps_the_address(rig: Rig, releaser: NicReleaser) -> None:
    """A 5xx on the DELETE leaves the address held and the NIC recorded, for the retry."""
    held_nic(rig, "p1.default")
    rig.writer.fail("delete", Transient, resource=IPS)
    with pytest.raises(Transient):
        await releaser.release(["p1.default"])
    assert rig.ipam.lookup("p1.default") != ()
    assert rig.ledger.owner_of("p1.default") is not None
    assert not rig.ledger.releasing("p1.default")  # the mark ends with the attempt
    assert rig.settled == ["p1.default"]  # waiters are woken: they look again
    assert rig.usage == []
    await releaser.release(["p1.default"])
    assert rig.ipam.lookup("p1.default") == ()


async def test_each_freed_subnet_is_reported_once(rig: Rig, releaser: NicReleaser) -> None:
    """Freed subnets are reported once each, in name order, after every NIC is released."""
    for nic, where in (("a.default", "s2"), ("b.default", "s1"), ("c.default", "s2")):
        held_nic(rig, nic, where)
    await releaser.release(["c.default", "a.default", "b.default"])
    assert rig.usage == ["s1", "s2"]
    assert rig.settled == ["a.default", "b.default", "c.default"]
    assert releaser.released == 3


async def test_a_nic_already_being_released_is_left_to_that_release(
    rig: Rig, releaser: NicReleaser
) -> None:
    """A second release of a NIC whose release is in flight sends nothing."""
    held_nic(rig, "p1.default")
    held = rig.writer.hold("delete", IPS)
    first = asyncio.create_task(releaser.release(["p1.default"]))
    await held.entered.wait()
    await releaser.release(["p1.default"])
    assert len(rig.writer.calls_to("delete", IPS)) == 1
    held.release()
    await first
    assert rig.settled == ["p1.default"]


async def test_port_is_deleted_only_where_there_is_one(rig: Rig) -> None:
    """With an NB, a NIC with a port, or on a subnet with a switch, has its port deleted."""
    rig.add_subnet(subnet("s1", "10.16.0.0/24"))
    rig.add_subnet(subnet("s2", "10.17.0.0/24"))
    rig.switches.add("s1")
    northbound = FakeNorthbound()
    releaser = make_releaser(rig, northbound=northbound)
    held_nic(rig, "on-switch.default", "s1")
    held_nic(rig, "no-switch.default", "s2")
    await releaser.release(["on-switch.default", "no-switch.default"])
    assert northbound.log == ["delete_port on-switch.default"]
