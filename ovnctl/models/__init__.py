"""Models and parsers: Kubernetes objects and annotations → small frozen records.

This layer sits between the watches and the reconcilers. The caches' indexes
store what these pure functions return (a :class:`NadConfig` per NAD, a
:class:`SubnetSpec` per Subnet); reconcilers parse a pod's annotations and
ownership here before asking the IPAM for addresses, and build the IP objects
and pod annotations they write from the helpers here. Nothing in this package
does I/O, imports Kopf or the Kubernetes client, or logs: every function is a
function of dicts and strings, and bad input comes back as a
:class:`ModelError` (or, for NADs, a result carrying ``error``) whose message
names the field and value, ready for an Event or a condition.
"""

from ovnctl.models.annotations import (
    LOGICAL_SWITCH_ANNOTATION,
    MIGRATION_JOB_ANNOTATION,
    NETWORK_STATUS_ANNOTATION,
    NETWORKS_ANNOTATION,
    SUBNET_LABEL,
    VM_NAME_LABEL,
    NicAllocation,
    ProviderKeys,
    StaticRequest,
    allocation_annotations,
    is_allocated,
    merge_requests,
    provider_keys,
    read_allocation,
    read_static_request,
)
from ovnctl.models.errors import (
    AnnotationError,
    IpObjectError,
    ModelError,
    NetworksAnnotationError,
    ProviderError,
    SubnetSpecError,
)
from ovnctl.models.ip_object import (
    IP_API_VERSION,
    IP_KIND,
    IpRecord,
    build_ip_object,
    ip_object_name,
    parse_ip_object,
)
from ovnctl.models.kubevirt import (
    STATEFULSET_POD_TYPE,
    VM_POD_TYPE,
    OwnerKind,
    PodOwner,
    pod_owner,
    statefulset_ordinal,
)
from ovnctl.models.nad import KUBE_OVN_TYPE, NadConfig, NadProblem, nad_problem, parse_nad
from ovnctl.models.networks import AttachmentRequest, parse_networks
from ovnctl.models.provider import (
    PRIMARY_PROVIDER,
    ProviderRef,
    is_primary,
    nad_provider,
    parse_provider,
)
from ovnctl.models.subnet import (
    DEFAULT_VPC,
    Protocol,
    SubnetConflict,
    SubnetSpec,
    conflicts_for,
    find_conflicts,
    parse_subnet,
    parse_subnet_spec,
)

__all__ = [
    "DEFAULT_VPC",
    "IP_API_VERSION",
    "IP_KIND",
    "KUBE_OVN_TYPE",
    "LOGICAL_SWITCH_ANNOTATION",
    "MIGRATION_JOB_ANNOTATION",
    "NETWORKS_ANNOTATION",
    "NETWORK_STATUS_ANNOTATION",
    "PRIMARY_PROVIDER",
    "STATEFULSET_POD_TYPE",
    "SUBNET_LABEL",
    "VM_NAME_LABEL",
    "VM_POD_TYPE",
    "AnnotationError",
    "AttachmentRequest",
    "IpObjectError",
    "IpRecord",
    "ModelError",
    "NadConfig",
    "NadProblem",
    "NetworksAnnotationError",
    "NicAllocation",
    "OwnerKind",
    "PodOwner",
    "Protocol",
    "ProviderError",
    "ProviderKeys",
    "ProviderRef",
    "StaticRequest",
    "SubnetConflict",
    "SubnetSpec",
    "SubnetSpecError",
    "allocation_annotations",
    "build_ip_object",
    "conflicts_for",
    "find_conflicts",
    "ip_object_name",
    "is_allocated",
    "is_primary",
    "merge_requests",
    "nad_problem",
    "nad_provider",
    "parse_ip_object",
    "parse_nad",
    "parse_networks",
    "parse_provider",
    "parse_subnet",
    "parse_subnet_spec",
    "pod_owner",
    "provider_keys",
    "read_allocation",
    "read_static_request",
    "statefulset_ordinal",
]
