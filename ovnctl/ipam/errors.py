"""Exceptions raised by the IPAM engine.

Every failure the IPAM can report is a subclass of :class:`IPAMError`, so a
reconciler can catch one base class and still tell causes apart by type. The
spec-parsing errors also derive from :class:`ValueError`, because the Subnet
validator in :mod:`ovnctl.models` treats them as bad input. Every message names
the offending value and, when known, the subnet, because these messages end up
verbatim in Subnet conditions and pod Events where a user has to act on them;
each class's ``reason`` is the Event reason that goes with the message.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AddressConflictError",
    "AddressFamilyError",
    "AddressOutOfRangeError",
    "AllocationError",
    "DuplicateSubnetError",
    "ExcludeIpsAddressError",
    "ExcludeIpsFamilyError",
    "ExcludeIpsOrderError",
    "ExcludeIpsSyntaxError",
    "GatewayAddressError",
    "IPAMError",
    "InvalidAddressError",
    "InvalidCIDRError",
    "InvalidExcludeIpsError",
    "InvalidGatewayError",
    "InvalidMACError",
    "InvalidSpecError",
    "MACConflictError",
    "MACExhaustedError",
    "PoolExhaustedError",
    "ReservedAddressError",
    "SharedAddressMoveError",
    "UnknownSubnetError",
]


def _prefix(subnet: str | None) -> str:
    return f"subnet {subnet!r}: " if subnet else ""


class IPAMError(Exception):
    """Base of every IPAM failure.

    ``value`` is the offending input as the user wrote it (an address, a MAC,
    a CIDR, an excludeIps entry, an owner key); ``subnet`` names the subnet
    when the failure belongs to one.
    """

    reason: ClassVar[str] = "AllocationFailed"
    """The machine-readable cause a pod Event carries (``reason``); each allocation
    failure names its own, so a reconciler reads ``exc.reason`` instead of mapping
    class names. Users filter Events by it: changing one is a breaking change."""

    def __init__(self, detail: str, *, value: str, subnet: str | None = None) -> None:
        self.detail = detail
        self.value = value
        self.subnet = subnet
        super().__init__(f"{_prefix(subnet)}{detail}")


# -- Subnet spec: cidrBlock, gateway, excludeIps -------------------------------------


class InvalidSpecError(IPAMError, ValueError):
    """A Subnet spec field cannot be parsed or contradicts the CIDR."""


class InvalidCIDRError(InvalidSpecError):
    """``cidrBlock`` is empty, malformed, or has two CIDRs of one family."""


class InvalidGatewayError(InvalidSpecError):
    """``gateway`` is malformed, of a family the subnet lacks, or outside its CIDR."""


class InvalidExcludeIpsError(InvalidSpecError):
    """Base of the errors for one malformed ``excludeIps`` entry."""


class ExcludeIpsSyntaxError(InvalidExcludeIpsError):
    """An ``excludeIps`` entry is not a string or has more than two parts split on ``..``."""


class ExcludeIpsAddressError(InvalidExcludeIpsError):
    """A part of an ``excludeIps`` entry is not a valid IP address."""


class ExcludeIpsFamilyError(InvalidExcludeIpsError):
    """An ``excludeIps`` entry mixes families or names a family the subnet lacks."""


class ExcludeIpsOrderError(InvalidExcludeIpsError):
    """An ``excludeIps`` range starts after it ends."""


# -- Allocation ----------------------------------------------------------------------


class AllocationError(IPAMError):
    """An allocation request cannot be satisfied; nothing was changed."""


class PoolExhaustedError(AllocationError):
    """No free address is left in one family of the subnet."""

    reason = "SubnetExhausted"


class MACExhaustedError(PoolExhaustedError):
    """No free MAC is left under the MAC prefix in the subnet (a long prefix, many NICs)."""

    reason = "MACSpaceExhausted"


class InvalidAddressError(AllocationError, ValueError):
    """A requested IP address is malformed."""

    reason = "InvalidStaticIP"


class InvalidMACError(AllocationError, ValueError):
    """A requested MAC address is malformed, multicast or all zeros."""

    reason = "InvalidMAC"


class AddressOutOfRangeError(AllocationError):
    """A requested IP address lies outside the subnet's CIDR."""

    reason = "StaticIPOutOfRange"


class AddressFamilyError(AllocationError):
    """A requested IP address is of a family the subnet lacks, or one family is asked twice."""

    reason = "StaticIPWrongFamily"


class AddressConflictError(AllocationError):
    """A requested IP address is held by another owner."""

    reason = "StaticIPTaken"

    def __init__(
        self, detail: str, *, value: str, subnet: str | None = None, holder: str = ""
    ) -> None:
        super().__init__(detail, value=value, subnet=subnet)
        self.holder = holder


class ReservedAddressError(AllocationError):
    """A requested IP address is the network or broadcast address of the CIDR."""

    reason = "StaticIPReserved"


class GatewayAddressError(ReservedAddressError):
    """A requested IP address is the subnet's gateway."""

    reason = "StaticIPIsGateway"


class MACConflictError(AllocationError):
    """A requested MAC address is held by another owner in the same subnet."""

    reason = "MACTaken"

    def __init__(
        self, detail: str, *, value: str, subnet: str | None = None, holder: str = ""
    ) -> None:
        super().__init__(detail, value=value, subnet=subnet)
        self.holder = holder


class SharedAddressMoveError(AllocationError):
    """A static request would move an address other holders still use (live migration)."""

    reason = "SharedAddressInUse"


# -- Registry --------------------------------------------------------------------------


class UnknownSubnetError(IPAMError, KeyError):
    """The registry has no subnet of that name."""

    reason = "SubnetNotReady"

    def __str__(self) -> str:
        # KeyError would repr() the message; keep it readable.
        return self.detail


class DuplicateSubnetError(IPAMError):
    """A subnet of that name is already registered."""
