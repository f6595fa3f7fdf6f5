"""Static IP and MAC requests: every refusal, exclusions, moves."""

from __future__ import annotations

import pytest

from ovnctl.ipam import (
    AddressConflictError,
    AddressFamilyError,
    AddressOutOfRangeError,
    AllocationError,
    GatewayAddressError,
    InvalidAddressError,
    InvalidMACError,
    MACConflictError,
    ReservedAddressError,
    SubnetPool,
)


@pytest.fixture
def pool() -> SubnetPool:
    """A v4 /24 named 'net1' with x.2..x.10 excluded and one holder of .20 and a MAC."""
    p = SubnetPool("net1", "10.16.0.0/24", exclude_ips=["10.16.0.2..10.16.0.10"])
    p.allocate("other", ips="10.16.0.20", mac="0e:00:00:00:00:20")
    return p


@pytest.mark.parametrize(
    ("kwargs", "error", "value"),
    [
        ({"ips": "10.16.1.5"}, AddressOutOfRangeError, "10.16.1.5"),
        ({"ips": "fd00::5"}, AddressFamilyError, "fd00::5"),
        ({"ips": "10.16.0.5,10.16.0.6"}, AddressFamilyError, "10.16.0.6"),
        ({"ips": "10.16.0.20"}, AddressConflictError, "10.16.0.20"),
        ({"ips": "10.16.0.1"}, GatewayAddressError, "10.16.0.1"),
        ({"ips": "10.16.0.0"}, ReservedAddressError, "10.16.0.0"),
        ({"ips": "10.16.0.255"}, ReservedAddressError, "10.16.0.255"),
        ({"ips": "10.16.0.x"}, InvalidAddressError, "10.16.0.x"),
        ({"ips": "10.16.0.5/24"}, InvalidAddressError, "10.16.0.5/24"),
        ({"mac": "0e:00:00:00:00"}, InvalidMACError, "0e:00:00:00:00"),
        ({"mac": "01:00:5e:00:00:01"}, InvalidMACError, "01:00:5e:00:00:01"),
        ({"mac": "0E:00:00:00:00:20"}, MACConflictError, "0e:00:00:00:00:20"),
    ],
)
def test_static_request_errors(pool, kwargs, error, value):
    """Each bad static request raises its own class naming the value and subnet; no change."""
    before = pool.usage()
    with pytest.raises(error) as info:
        pool.allocate("me", **kwargs)
    assert value in str(info.value)
    assert "subnet 'net1'" in str(info.value)
    assert isinstance(info.value, AllocationError)
    assert pool.get("me") is None
    assert pool.usage() == before


def test_conflict_errors_name_the_holder(pool):
    """IP and MAC conflicts carry and name the current holder."""
    with pytest.raises(AddressConflictError) as ip_info:
        pool.allocate("me", ips="10.16.0.20")
    assert ip_info.value.holder == "other"
    assert "'other'" in str(ip_info.value)
    with pytest.raises(MACConflictError) as mac_info:
        pool.allocate("me", mac="0e:00:00:00:00:20")
    assert mac_info.value.holder == "other"


def test_excluded_address_may_be_requested(pool):
    """A requested IP inside excludeIps is allowed, as Kube-OVN allows it."""
    assert pool.allocate("me", ips="10.16.0.5").ips == ("10.16.0.5",)


def test_requested_mac_is_normalised(pool):
    """A requested MAC is stored in lowercase colon form."""
    assert pool.allocate("me", mac="0A-BB-CC-DD-EE-FF").mac == "0a:bb:cc:dd:ee:ff"


def test_static_request_is_idempotent(pool):
    """Asking again for the address already held returns the same allocation."""
    first = pool.allocate("me", ips="10.16.0.30", mac="0e:00:00:00:00:30")
    assert pool.allocate("me", ips="10.16.0.30", mac="0e:00:00:00:00:30") == first
    assert pool.allocate("me") == first


def test_static_request_moves_atomically(pool):
    """An owner asking for a different address moves: old released, new taken, MAC kept."""
    first = pool.allocate("me", ips="10.16.0.30")
    moved = pool.allocate("me", ips="10.16.0.31")
    assert moved.ips == ("10.16.0.31",)
    assert moved.mac == first.mac
    assert pool.owner_of("10.16.0.30") is None
    assert pool.allocate("next").ips == ("10.16.0.11",)
    assert pool.allocate("next2", ips="10.16.0.30").ips == ("10.16.0.30",)


def test_failed_move_keeps_the_old_address(pool):
    """A move to an address held by someone else fails and keeps the old one."""
    first = pool.allocate("me", ips="10.16.0.30")
    with pytest.raises(AddressConflictError):
        pool.allocate("me", ips="10.16.0.20")
    assert pool.get("me") == first


def test_mac_move(pool):
    """Asking for a different MAC moves the MAC; the old one becomes free."""
    first = pool.allocate("me")
    moved = pool.allocate("me", mac="0e:00:00:00:00:99")
    assert moved.ips == first.ips
    assert pool.owner_of_mac(first.mac) is None
    assert pool.owner_of_mac("0e:00:00:00:00:99") == "me"


def test_dual_stack_partial_static_request_auto_fills_other_family():
    """A static v4 in a dual-stack subnet gets the lowest free v6 alongside."""
    pool = SubnetPool("d", "10.0.0.0/24,fd00::/120")
    assert pool.allocate("o", ips=["10.0.0.50"]).ips == ("10.0.0.50", "fd00::2")


def test_dual_stack_static_failure_changes_nothing():
    """A good v4 plus a conflicting v6 leaves both families untouched."""
    pool = SubnetPool("d", "10.0.0.0/24,fd00::/120")
    pool.allocate("x", ips="fd00::9")
    before = pool.usage()
    with pytest.raises(AddressConflictError, match="fd00::9"):
        pool.allocate("o", ips="10.0.0.50,fd00::9")
    assert pool.usage() == before
