"""The IPAM engine: the pure core that decides addresses.

Reconcilers ask it which IP and MAC an owner (a pod, a VM, an attachment) gets
in a subnet, and it answers with frozen results or a specific
:class:`IPAMError`. It holds no Kubernetes, Kopf, asyncio, logging or I/O; the
controller feeds it Subnet specs and existing IP objects and writes whatever it
decides. See ``docs/ipam.md`` for the model and semantics.
"""

from ovnctl.ipam.addresses import (
    AddressRange,
    Family,
    format_ip,
    parse_cidr_block,
    parse_exclude_ips,
    parse_gateway,
)
from ovnctl.ipam.errors import (
    AddressConflictError,
    AddressFamilyError,
    AddressOutOfRangeError,
    AllocationError,
    DuplicateSubnetError,
    ExcludeIpsAddressError,
    ExcludeIpsFamilyError,
    ExcludeIpsOrderError,
    ExcludeIpsSyntaxError,
    GatewayAddressError,
    InvalidAddressError,
    InvalidCIDRError,
    InvalidExcludeIpsError,
    InvalidGatewayError,
    InvalidMACError,
    InvalidSpecError,
    IPAMError,
    MACConflictError,
    PoolExhaustedError,
    ReservedAddressError,
    SharedAddressMoveError,
    UnknownSubnetError,
)

__all__ = [
    "AddressConflictError",
    "AddressFamilyError",
    "AddressOutOfRangeError",
    "AddressRange",
    "AllocationError",
    "DuplicateSubnetError",
    "ExcludeIpsAddressError",
    "ExcludeIpsFamilyError",
    "ExcludeIpsOrderError",
    "ExcludeIpsSyntaxError",
    "Family",
    "GatewayAddressError",
    "IPAMError",
    "InvalidAddressError",
    "InvalidCIDRError",
    "InvalidExcludeIpsError",
    "InvalidGatewayError",
    "InvalidMACError",
    "InvalidSpecError",
    "MACConflictError",
    "PoolExhaustedError",
    "ReservedAddressError",
    "SharedAddressMoveError",
    "UnknownSubnetError",
    "format_ip",
    "parse_cidr_block",
    "parse_exclude_ips",
    "parse_gateway",
]
