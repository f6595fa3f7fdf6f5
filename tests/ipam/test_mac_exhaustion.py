"""A full MAC space refuses an allocation before any address is taken (all or nothing).

A 5-octet MAC prefix leaves 255 MACs per subnet, fewer than a /23 has
addresses, so the MAC space can run out while addresses are still free. The
refusal must come in the plan phase: the subnet is left exactly as it was.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ovnctl.ipam import (
    IPAM,
    AllocationRecord,
    ConflictReason,
    IPAMError,
    MACExhaustedError,
    PoolExhaustedError,
    SubnetPool,
)

PREFIX = "0a:00:00:00:00"  # 8 random bits: 255 usable MACs
CIDR = "10.0.0.0/23,fd00::/119"


def _full_pool() -> SubnetPool:
    pool = SubnetPool("tiny", CIDR, mac_prefix=PREFIX, rng=random.Random(7))
    for i in range(255):
        pool.allocate(f"ns/p{i}/ovn")
    return pool


def _state(pool: SubnetPool) -> tuple[object, ...]:
    return (sorted(pool.allocations(), key=lambda a: a.owner), pool.usage(), len(pool))


def test_exhausted_mac_space_refuses_automatic_allocation_unchanged() -> None:
    """The 256th owner is refused with MACExhaustedError and no address is taken."""
    pool = _full_pool()
    before = _state(pool)
    with pytest.raises(MACExhaustedError) as refused:
        pool.allocate("ns/late/ovn")
    assert refused.value.subnet == "tiny"
    assert refused.value.value == PREFIX
    assert isinstance(refused.value, PoolExhaustedError)  # pods wait for room as for a full CIDR
    assert _state(pool) == before
    assert pool.owner_of("10.0.1.1") is None


def test_exhausted_mac_space_refuses_static_ip_request_unchanged() -> None:
    """A static IP without a static MAC is refused too, leaving the requested IP free."""
    pool = _full_pool()
    before = _state(pool)
    with pytest.raises(MACExhaustedError):
        pool.allocate("ns/late/ovn", ips="10.0.1.200")
    assert _state(pool) == before
    assert pool.owner_of("10.0.1.200") is None


@pytest.mark.parametrize("cidr", ["10.0.0.0/23", "10.0.0.0/23,fd00::/119"])
def test_both_spaces_full_refuse_alike_on_every_path(cidr: str) -> None:
    """With addresses and MACs both used up, the automatic path refuses as the planned one.

    The plan checks addresses before it draws a MAC, so a full subnet says "no address"
    (reason SubnetExhausted), whichever path the request takes; no MAC is drawn either.
    """
    refusals = []
    for planned in (False, True):
        # Each exclusion leaves 255 addresses in its family: as many as MACs.
        excludes = ["10.0.0.2..10.0.0.255", "fd00::2..fd00::100"][: cidr.count(",") + 1]
        pool = SubnetPool(
            "tiny", cidr, exclude_ips=excludes, mac_prefix=PREFIX, rng=random.Random(7)
        )
        for i in range(255):
            pool.allocate(f"ns/p{i}/ovn")
        with pytest.raises(PoolExhaustedError) as refused:
            pool.allocate("ns/late/ovn", ips=[] if planned else None)  # []: the plan phase
        refusals.append((type(refused.value), str(refused.value), refused.value.reason))
    assert refusals[0] == refusals[1]
    assert refusals[0][0] is PoolExhaustedError
    assert refusals[0][2] == "SubnetExhausted"


def test_static_mac_still_allocates_when_space_is_full() -> None:
    """A static MAC outside the prefix needs no generated one: it is served."""
    pool = _full_pool()
    allocation = pool.allocate("ns/late/ovn", mac="0e:00:00:00:00:01")
    assert allocation.mac == "0e:00:00:00:00:01"


def test_registry_keeps_no_owner_index_for_a_refused_owner() -> None:
    """Through the registry, a refused owner holds nothing anywhere."""
    ipam = IPAM(mac_prefix=PREFIX, seed=3)
    ipam.add_subnet("tiny", CIDR)
    for i in range(255):
        ipam.allocate("tiny", f"ns/p{i}/ovn")
    with pytest.raises(MACExhaustedError):
        ipam.allocate("tiny", "ns/late/ovn")
    assert ipam.lookup("ns/late/ovn") == ()
    assert "ns/late/ovn" not in set(ipam.owners())


def test_rebuild_record_without_mac_is_refused_when_space_is_full() -> None:
    """A record naming no MAC, when none is free, is reported and takes no address."""
    pool = _full_pool()
    before = _state(pool)
    report = pool.rebuild([AllocationRecord("ns/old/ovn", ("10.0.1.100",), "", "tiny")])
    assert [c.reason for c in report.conflicts] == [ConflictReason.MAC_EXHAUSTED]
    assert _state(pool) == before


OPS = st.lists(
    st.tuples(
        st.sampled_from(["auto", "static-ip", "static-mac", "release"]),
        st.integers(0, 299),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, seed=st.integers(0, 2**16))
def test_every_refusal_leaves_the_subnet_unchanged(ops: list[tuple[str, int]], seed: int) -> None:
    """Near a full MAC space, any refused request changes nothing; accepted ones stay unique."""
    pool = SubnetPool("tiny", CIDR, mac_prefix=PREFIX, rng=random.Random(seed))
    for i in range(250):
        pool.allocate(f"ns/p{i}/ovn")
    for op, n in ops:
        owner = f"ns/p{n}/ovn"
        before = _state(pool)
        try:
            if op == "auto":
                pool.allocate(owner)
            elif op == "static-ip":
                pool.allocate(owner, ips=f"10.0.{1 if n > 254 else 0}.{(n % 254) + 1}")
            elif op == "static-mac":
                pool.allocate(owner, mac=f"0a:00:00:00:00:{n % 256:02x}")
            else:
                pool.release(owner)
        except IPAMError:
            assert _state(pool) == before, f"{op} {owner} refused but changed the subnet"
        allocations = list(pool.allocations())
        macs = [a.mac for a in allocations]
        ips = [ip for a in allocations for ip in a.ips]
        assert len(set(macs)) == len(macs) <= 255
        assert len(set(ips)) == len(ips) == 2 * len(allocations)
        usage = pool.usage()
        assert usage.v4 is not None
        assert usage.v4.using == len(allocations)
