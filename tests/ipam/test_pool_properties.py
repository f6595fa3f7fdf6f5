"""Property test: pools never leak addresses, and no address ever has two owners."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ovnctl.ipam import (
    AddressLimit,
    AllocationError,
    Family,
    SubnetPool,
    parse_pool_ips,
)
from ovnctl.ipam.addresses import parse_ip

OWNERS = st.sampled_from([f"o{i}" for i in range(12)])
POOLS = {
    "low": ["10.0.0.2..10.0.0.5"],
    "mid": ["10.0.0.8/30", "10.0.0.20"],
    "wide": ["10.0.0.24..10.0.0.30"],
}


class PoolMachine(RuleBasedStateMachine):
    """Random pooled, unpooled and static allocations and releases on one /27."""

    def __init__(self) -> None:
        super().__init__()
        self.subnet = SubnetPool("s", "10.0.0.0/27", exclude_ips=["10.0.0.6"])
        self.pools = {n: AddressLimit(n, parse_pool_ips(e)) for n, e in POOLS.items()}
        self.pool_of: dict[str, str | None] = {}
        self.statics: set[str] = set()

    @initialize()
    def start(self) -> None:
        pass

    @rule(owner=OWNERS, pool=st.sampled_from([*POOLS, None]))
    def allocate(self, owner: str, pool: str | None) -> None:
        held = self.subnet.get(owner)
        try:
            self.subnet.allocate(owner, within=self.pools[pool] if pool else None)
        except AllocationError:
            return
        if held is None:
            self.pool_of[owner] = pool

    @rule(owner=OWNERS, last=st.integers(min_value=1, max_value=30))
    def static(self, owner: str, last: int) -> None:
        if owner in self.subnet:
            return
        try:
            self.subnet.allocate(owner, ips=f"10.0.0.{last}")
        except AllocationError:
            return
        self.pool_of[owner] = None
        self.statics.add(owner)

    @rule(owner=OWNERS)
    def release(self, owner: str) -> None:
        self.subnet.release(owner)
        self.pool_of.pop(owner, None)
        self.statics.discard(owner)

    @invariant()
    def pooled_addresses_stay_in_their_pool(self) -> None:
        for owner, pool in self.pool_of.items():
            allocation = self.subnet.get(owner)
            assert allocation is not None
            if pool is not None and owner not in self.statics:
                _, value = parse_ip(allocation.ips[0])
                assert value in self.pools[pool].ranges[Family.V4], (owner, pool, allocation)

    @invariant()
    def one_owner_per_address(self) -> None:
        ips = [a.ips[0] for a in self.subnet.allocations()]
        assert len(ips) == len(set(ips))
        for allocation in self.subnet.allocations():
            assert self.subnet.owner_of(allocation.ips[0]) == allocation.owner

    @invariant()
    def free_and_held_are_disjoint(self) -> None:
        pool = self.subnet.pool(Family.V4)
        for address in pool.held:
            assert address not in pool.free


TestPools = PoolMachine.TestCase
TestPools.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
