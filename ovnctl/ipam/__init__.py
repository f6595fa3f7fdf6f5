"""The IPAM engine: the pure core that decides addresses.

Reconcilers ask it which IP and MAC an owner (a pod, a VM, an attachment) gets
in a subnet, and it answers with frozen results or a specific
:class:`IPAMError`. It holds no Kubernetes, Kopf, asyncio, logging or I/O; the
controller feeds it Subnet specs and existing IP objects and writes whatever it
decides. See ``docs/ipam.md`` for the model and semantics.

Layout: :mod:`.addresses` (parsing, formatting), :mod:`.ranges` (interval
set), :mod:`.pool` (one CIDR), :mod:`.subnet` (one Subnet, dual-stack; the
commit phase), :mod:`.planning` (the plan phase: every check of a request),
:mod:`.holding` (what one owner holds), :mod:`.mac`, :mod:`.ippool` (IPPools
and ``ip_pool`` lists as ranges), :mod:`.registry` (all subnets),
:mod:`.results`, :mod:`.errors`.
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
    MACExhaustedError,
    PoolExhaustedError,
    ReservedAddressError,
    SharedAddressMoveError,
    UnknownSubnetError,
)
from ovnctl.ipam.ippool import (
    AddressLimit,
    PoolEntryError,
    PoolProblem,
    PoolUsageCounts,
    check_overlaps,
    check_pool,
    limit_of,
    overlap,
    parse_ip_list,
    parse_pool_ips,
    pool_usage,
    without,
)
from ovnctl.ipam.mac import DEFAULT_MAC_PREFIX
from ovnctl.ipam.registry import IPAM
from ovnctl.ipam.results import (
    Allocation,
    AllocationRecord,
    ConflictReason,
    PoolUsage,
    RebuildConflict,
    RebuildReport,
    SubnetUsage,
    UpdateConflict,
    UpdateReport,
)
from ovnctl.ipam.subnet import SubnetPool

__all__ = [
    "DEFAULT_MAC_PREFIX",
    "IPAM",
    "AddressConflictError",
    "AddressFamilyError",
    "AddressLimit",
    "AddressOutOfRangeError",
    "AddressRange",
    "Allocation",
    "AllocationError",
    "AllocationRecord",
    "ConflictReason",
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
    "MACExhaustedError",
    "PoolEntryError",
    "PoolExhaustedError",
    "PoolProblem",
    "PoolUsage",
    "PoolUsageCounts",
    "RebuildConflict",
    "RebuildReport",
    "ReservedAddressError",
    "SharedAddressMoveError",
    "SubnetPool",
    "SubnetUsage",
    "UnknownSubnetError",
    "UpdateConflict",
    "UpdateReport",
    "check_overlaps",
    "check_pool",
    "format_ip",
    "limit_of",
    "overlap",
    "parse_cidr_block",
    "parse_exclude_ips",
    "parse_gateway",
    "parse_ip_list",
    "parse_pool_ips",
    "pool_usage",
    "without",
]
