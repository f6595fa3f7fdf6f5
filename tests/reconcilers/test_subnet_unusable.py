"""subnet_unusable: the Ready verdict of an IPPool or Vip whose spec.subnet cannot be used."""

from __future__ import annotations

from ovnctl.reconcilers.conditions import subnet_unusable
from tests.controller.objects import subnet
from tests.reconcilers.factories import Rig


def verdict(rig: Rig, name: str) -> tuple[str, str] | None:
    found = subnet_unusable(
        name, subnets=rig.caches.subnets, serves=rig.serving.__contains__, ipam=rig.ipam
    )
    return None if found is None else (found.reason, found.message)


def test_missing_subnet_is_not_found(rig: Rig) -> None:
    """A subnet absent from the cache: SubnetNotFound, naming spec.subnet and the value."""
    assert verdict(rig, "nope") == ("SubnetNotFound", "spec.subnet: 'nope' does not exist")


def test_subnet_not_serving_is_not_ready(rig: Rig) -> None:
    """A cached subnet that does not serve (or is not in the IPAM): SubnetNotReady."""
    rig.add_subnet(subnet("s1", "10.16.0.0/24"), serve=False)
    assert verdict(rig, "s1") == (
        "SubnetNotReady",
        "spec.subnet: 's1' is not Ready (see its conditions)",
    )
    rig.serving.add("s1")  # serves, but never registered in the IPAM
    assert verdict(rig, "s1") is not None


def test_ready_subnet_is_usable(rig: Rig) -> None:
    """A subnet that serves and is registered: no verdict."""
    rig.add_subnet(subnet("s1", "10.16.0.0/24"))
    assert verdict(rig, "s1") is None
