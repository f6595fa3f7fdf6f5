"""Subnet updates: allocations stay, questionable ones are reported."""

from __future__ import annotations

import pytest

from ovnctl.ipam import ConflictReason, InvalidGatewayError, SubnetPool, UpdateConflict


def test_new_exclude_reports_held_addresses_and_keeps_them():
    """Newly excluded held addresses are reported and stay held; free space shrinks."""
    pool = SubnetPool("s", "10.0.0.0/24")
    a = pool.allocate("a")  # .2
    pool.allocate("b")  # .3
    report = pool.update(exclude_ips=["10.0.0.2..10.0.0.9"])
    assert report.conflicts == (
        UpdateConflict("a", "10.0.0.2", ConflictReason.EXCLUDED),
        UpdateConflict("b", "10.0.0.3", ConflictReason.EXCLUDED),
    )
    assert pool.get("a") == a
    assert pool.allocate("c").ips == ("10.0.0.10",)


def test_already_excluded_static_address_not_reported_again():
    """An address taken statically inside excludeIps is not re-reported on unrelated updates."""
    pool = SubnetPool("s", "10.0.0.0/24", exclude_ips=["10.0.0.5"])
    pool.allocate("a", ips="10.0.0.5")
    assert pool.update(exclude_ips=["10.0.0.5", "10.0.0.100"]).conflicts == ()


def test_new_gateway_collision_reported():
    """A new gateway on a held address is reported; the old gateway becomes free."""
    pool = SubnetPool("s", "10.0.0.0/29")
    pool.allocate("a")  # .2
    report = pool.update(gateway="10.0.0.2")
    assert report.conflicts == (UpdateConflict("a", "10.0.0.2", ConflictReason.GATEWAY),)
    assert pool.allocate("b").ips == ("10.0.0.1",)


def test_widened_cidr_keeps_allocations_and_adds_space():
    """Widening the CIDR keeps every allocation and adds free addresses."""
    pool = SubnetPool("s", "10.0.0.0/30")
    a = pool.allocate("a")
    report = pool.update(cidr_block="10.0.0.0/24")
    assert report.conflicts == ()
    assert pool.get("a") == a
    assert pool.allocate("b").ips == ("10.0.0.3",)  # the old broadcast is usable now


def test_narrowed_cidr_reports_outside_and_new_broadcast():
    """Narrowing reports allocations outside the CIDR and on its new broadcast address."""
    pool = SubnetPool("s", "10.0.0.0/24")
    pool.allocate("a", ips="10.0.0.3")
    pool.allocate("b", ips="10.0.0.100")
    report = pool.update(cidr_block="10.0.0.0/30")
    assert set(report.conflicts) == {
        UpdateConflict("a", "10.0.0.3", ConflictReason.RESERVED),
        UpdateConflict("b", "10.0.0.100", ConflictReason.OUTSIDE_CIDR),
    }
    usage = pool.usage().v4
    assert usage is not None
    assert usage.size == usage.available + usage.using + usage.reserved
    assert pool.release("b") is not None  # strays can still be released


def test_removed_family_drops_its_addresses():
    """Dual-stack to v4-only drops v6 addresses and reports them."""
    pool = SubnetPool("s", "10.0.0.0/24,fd00::/120")
    pool.allocate("a")
    report = pool.update(cidr_block="10.0.0.0/24")
    assert report.conflicts == (UpdateConflict("a", "fd00::2", ConflictReason.FAMILY_REMOVED),)
    assert pool.get("a").ips == ("10.0.0.2",)  # type: ignore[union-attr]


def test_added_family_is_filled_on_next_allocate():
    """v4 to dual-stack: existing owners get their v6 address on their next allocate."""
    pool = SubnetPool("s", "10.0.0.0/24")
    pool.allocate("a")
    pool.update(cidr_block="fd00::/120,10.0.0.0/24")
    assert pool.get("a").ips == ("10.0.0.2",)  # type: ignore[union-attr]
    assert pool.allocate("a").ips == ("fd00::2", "10.0.0.2")


def test_invalid_update_changes_nothing():
    """A bad spec raises and leaves the subnet as it was."""
    pool = SubnetPool("s", "10.0.0.0/24")
    pool.allocate("a")
    before = (pool.usage(), pool.cidr_block, pool.gateway)
    with pytest.raises(InvalidGatewayError, match="'s'"):
        pool.update(gateway="10.9.9.9")
    assert (pool.usage(), pool.cidr_block, pool.gateway) == before


def test_update_reports_exclude_warnings():
    """excludeIps warnings come back with the update report."""
    pool = SubnetPool("s", "10.0.0.0/24")
    report = pool.update(exclude_ips=["10.1.0.1"])
    assert len(report.warnings) == 1
    assert "10.1.0.1" in report.warnings[0]
