"""Informer caches: what the reconcilers read instead of the API server.

Each cache is a pair: a pure *index function* that turns one watched object
into a small frozen record (parsed once per watch event, never per lookup),
and a read-only *view* over the :class:`~ovnctl.caches.index.MultiIndex` the
informers fill from those records. The watches and the bookkeeping of
deletions are :mod:`ovnctl.k8s`'s (a reflector thread per bulk kind,
:mod:`ovnctl.k8s.informers`; Kopf's watcher for Subnets only,
:mod:`ovnctl.k8s.kopf_subnets`); this package owns what is kept and how it is
looked up. It imports neither Kopf nor the Kubernetes client: a view takes any
``Mapping[key, Collection[record]]``, so tests feed plain dicts. See
``docs/architecture.md``.
"""

from ovnctl.caches.ipamclaims import IPAMClaimCache, IPAMClaimRecord, index_ipamclaim
from ovnctl.caches.ippools import (
    IPPoolCache,
    IPPoolRecord,
    index_ippool_by_name,
    index_ippool_by_namespace,
)
from ovnctl.caches.kubevirt import KubevirtCache, index_by_namespaced_name
from ovnctl.caches.nads import NadCache, index_nad_by_key
from ovnctl.caches.namespaces import NamespacePoolCache, index_namespace_pools
from ovnctl.caches.pods import (
    PodCache,
    PodKey,
    PodRecord,
    created_seconds,
    index_pod_by_key,
    index_pod_by_vm,
    index_pod_without_primary,
)
from ovnctl.caches.readiness import ReadinessGate
from ovnctl.caches.statefulsets import StatefulSetCache, StatefulSetRecord, index_statefulset
from ovnctl.caches.subnets import (
    SubnetCache,
    SubnetRecord,
    index_subnet_by_name,
    index_subnet_by_namespace,
    index_subnet_by_provider,
    index_subnet_default,
)
from ovnctl.caches.vips import VipCache, VipRecord, index_vip_by_name

__all__ = [
    "IPAMClaimCache",
    "IPAMClaimRecord",
    "IPPoolCache",
    "IPPoolRecord",
    "KubevirtCache",
    "NadCache",
    "NamespacePoolCache",
    "PodCache",
    "PodKey",
    "PodRecord",
    "ReadinessGate",
    "StatefulSetCache",
    "StatefulSetRecord",
    "SubnetCache",
    "SubnetRecord",
    "VipCache",
    "VipRecord",
    "created_seconds",
    "index_by_namespaced_name",
    "index_ipamclaim",
    "index_ippool_by_name",
    "index_ippool_by_namespace",
    "index_nad_by_key",
    "index_namespace_pools",
    "index_pod_by_key",
    "index_pod_by_vm",
    "index_pod_without_primary",
    "index_statefulset",
    "index_subnet_by_name",
    "index_subnet_by_namespace",
    "index_subnet_by_provider",
    "index_subnet_default",
    "index_vip_by_name",
]
