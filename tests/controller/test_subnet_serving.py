"""Which subnets pods may be given addresses from, between a spec edit and its reconcile.

A Ready subnet edited into an invalid spec must stop new allocations as soon as
the cache shows the edit, not only once its own reconcile runs: an address
handed out in between used to be held by a NIC nothing recorded (a leak).
"""

from __future__ import annotations

from ovnctl.reconcilers.subnet_states import SubnetStates
from tests.caches.test_subnet_cache import body, cache_of


def test_serves_only_ready_subnets_whose_cached_spec_is_valid() -> None:
    """Ready at the last reconcile and still valid and alive in the cache."""
    deleting = body("going", cidrBlock="10.18.0.0/24")
    deleting["metadata"]["deletionTimestamp"] = "2026-11-23T00:00:00Z"
    subnets = SubnetStates(
        subnets=cache_of(
            body("good", cidrBlock="10.16.0.0/24"),
            body("edited", cidrBlock="10.17.0.0/24", gateway="10.99.0.1"),  # now invalid
            body("never-ready", cidrBlock="10.19.0.0/24"),
            deleting,
        )
    )
    for name in ("good", "edited", "going", "gone"):
        subnets.set_ready(name, True)
    assert [n for n in ("good", "edited", "never-ready", "going", "gone") if subnets.serves(n)] == [
        "good"
    ]
