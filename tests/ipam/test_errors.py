"""Each IPAM error names the Event reason users see; the strings are a public contract."""

from __future__ import annotations

import pytest

from ovnctl.ipam import errors

# Users filter pod Events by these reasons (docs/allocation.md): never change one silently.
REASONS = {
    errors.PoolExhaustedError: "SubnetExhausted",
    errors.MACExhaustedError: "MACSpaceExhausted",
    errors.InvalidAddressError: "InvalidStaticIP",
    errors.InvalidMACError: "InvalidMAC",
    errors.AddressOutOfRangeError: "StaticIPOutOfRange",
    errors.AddressFamilyError: "StaticIPWrongFamily",
    errors.AddressConflictError: "StaticIPTaken",
    errors.ReservedAddressError: "StaticIPReserved",
    errors.GatewayAddressError: "StaticIPIsGateway",
    errors.MACConflictError: "MACTaken",
    errors.SharedAddressMoveError: "SharedAddressInUse",
    errors.UnknownSubnetError: "SubnetNotReady",
}


@pytest.mark.parametrize(
    ("cls", "reason"), REASONS.items(), ids=lambda v: getattr(v, "__name__", v)
)
def test_allocation_errors_name_their_event_reason(
    cls: type[errors.IPAMError], reason: str
) -> None:
    """An instance carries its class's reason, subclasses included (MAC exhaustion, gateway)."""
    assert cls("detail", value="x").reason == reason


def test_other_ipam_errors_fall_back_to_allocation_failed() -> None:
    """An error without a reason of its own reports the generic one."""
    assert errors.AllocationError("detail", value="x").reason == "AllocationFailed"
    assert errors.DuplicateSubnetError("detail", value="x").reason == "AllocationFailed"
