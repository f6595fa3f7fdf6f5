"""Rebuild at start-up from existing IP objects."""

from __future__ import annotations

from ovnctl.ipam import IPAM, AllocationRecord, ConflictReason


def _ipam() -> IPAM:
    ipam = IPAM(seed=1)
    ipam.add_subnet("s", "10.16.0.0/24,fd00::/120", exclude_ips=["10.16.0.100"])
    return ipam


def test_rebuild_records_and_next_allocation_avoids_them():
    """Rebuilt addresses and MACs are held; new allocations skip them."""
    ipam = _ipam()
    report = ipam.rebuild(
        [
            AllocationRecord("a", ("10.16.0.2,fd00::2",), "0e:00:00:00:00:01", "s"),
            AllocationRecord("b", ("10.16.0.3", "fd00::3"), "0e:00:00:00:00:02", "s"),
        ]
    )
    assert (report.recorded, report.conflicts) == (2, ())
    assert ipam.lookup("a")[0].ips == ("10.16.0.2", "fd00::2")
    assert ipam.allocate("s", "c").ips == ("10.16.0.4", "fd00::4")


def test_rebuild_conflicts_first_claim_wins():
    """Two owners claiming one address or one MAC: the second is reported and not recorded."""
    ipam = _ipam()
    report = ipam.rebuild(
        [
            AllocationRecord("a", ("10.16.0.2",), "0e:00:00:00:00:01", "s"),
            AllocationRecord("b", ("10.16.0.2",), "0e:00:00:00:00:02", "s"),
            AllocationRecord("c", ("10.16.0.3",), "0e:00:00:00:00:01", "s"),
        ]
    )
    assert report.recorded == 1
    reasons = [(c.record.owner, c.reason, c.holder) for c in report.conflicts]
    assert reasons == [("b", ConflictReason.IP_TAKEN, "a"), ("c", ConflictReason.MAC_TAKEN, "a")]
    assert ipam.lookup("b") == ()
    assert ipam.subnet("s").owner_of("10.16.0.3") is None
    assert "'s'" in report.conflicts[0].detail


def test_rebuild_refuses_invalid_and_reserved_records():
    """Malformed, wrong-family, gateway, outside and unknown-subnet records are reported."""
    ipam = _ipam()
    report = ipam.rebuild(
        [
            AllocationRecord("bad", ("10.16.0.x",), "", "s"),
            AllocationRecord("gw", ("10.16.0.1",), "", "s"),
            AllocationRecord("out", ("10.17.0.1",), "", "s"),
            AllocationRecord("bcast", ("10.16.0.255",), "", "s"),
            AllocationRecord("twice", ("10.16.0.5,10.16.0.6",), "", "s"),
            AllocationRecord("mac", ("10.16.0.7",), "zz", "s"),
            AllocationRecord("none", (), "", "s"),
            AllocationRecord("lost", ("10.16.0.8",), "", "nope"),
        ]
    )
    assert report.recorded == 0
    assert [c.reason for c in report.conflicts] == [
        ConflictReason.INVALID,
        ConflictReason.GATEWAY,
        ConflictReason.OUTSIDE_CIDR,
        ConflictReason.RESERVED,
        ConflictReason.INVALID,
        ConflictReason.INVALID,
        ConflictReason.INVALID,
        ConflictReason.UNKNOWN_SUBNET,
    ]
    assert ipam.usage("s").v4.using == 0  # type: ignore[union-attr]


def test_rebuild_accepts_excluded_and_missing_mac():
    """An excluded address (former static request) is accepted; a missing MAC is generated."""
    ipam = _ipam()
    report = ipam.rebuild([AllocationRecord("a", ("10.16.0.100",), "", "s")])
    assert report.conflicts == ()
    assert ipam.get("s", "a").mac.startswith("0e:")  # type: ignore[union-attr]


def test_rebuild_same_owner_twice():
    """An identical repeated record is accepted; a different one is a duplicate-owner conflict."""
    ipam = _ipam()
    record = AllocationRecord("a", ("10.16.0.2",), "0e:00:00:00:00:01", "s")
    report = ipam.rebuild(
        [record, record, AllocationRecord("a", ("10.16.0.9",), "0e:00:00:00:00:01", "s")]
    )
    assert report.recorded == 2
    assert [c.reason for c in report.conflicts] == [ConflictReason.DUPLICATE_OWNER]


def test_rebuild_keeps_holders_and_releases_cleanly():
    """Rebuilt holders are kept; releasing a rebuilt owner frees its address."""
    ipam = _ipam()
    ipam.rebuild([AllocationRecord("vm", ("10.16.0.2",), "", "s", frozenset({"pod-a"}))])
    assert ipam.get("s", "vm").holders == {"pod-a"}  # type: ignore[union-attr]
    ipam.release("vm")
    assert ipam.allocate("s", "x").ips == ("10.16.0.2", "fd00::2")


def test_rebuild_ten_thousand_records_round_trip():
    """10,000 records rebuild into the same allocations (speed is in the benchmark)."""
    source = IPAM(seed=1)
    source.add_subnet("s", "10.16.0.0/16")
    allocations = [source.allocate("s", f"ns/p{i}/ovn") for i in range(10_000)]
    target = IPAM(seed=2)
    target.add_subnet("s", "10.16.0.0/16")
    report = target.rebuild(AllocationRecord(a.owner, a.ips, a.mac, "s") for a in allocations)
    assert (report.recorded, report.conflicts) == (10_000, ())
    assert target.usage("s") == source.usage("s")
    assert target.get("s", "ns/p42/ovn") == source.get("s", "ns/p42/ovn")
