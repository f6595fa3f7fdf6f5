"""The registry of served resources: built-in kinds and kinds defined by CRDs.

The store, the router and discovery all need the same facts about a resource
(kind, scope, short names, whether ``/status`` is a subresource); this module
is their single source. Built-in kinds are a fixed table; a CRD that is created
or updated through the API contributes one :class:`ResourceInfo` per served
version, and deleting it withdraws them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BUILTIN_RESOURCES", "Registry", "ResourceInfo", "resources_from_crd"]

_ALL_VERBS: tuple[str, ...] = (
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceInfo:
    """One served ``group/version/plural`` and what discovery says about it."""

    group: str
    version: str
    plural: str
    kind: str
    singular: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    status_subresource: bool = False
    builtin: bool = True
    # Versions of one CRD share one storage; the storage key ignores the version.
    storage_version: str = ""
    verbs: tuple[str, ...] = _ALL_VERBS

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def storage_key(self) -> tuple[str, str]:
        """Objects of all versions of a kind live under one key: ``(group, plural)``."""
        return (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


def _core(
    plural: str,
    kind: str,
    *,
    namespaced: bool,
    short: tuple[str, ...] = (),
    status: bool = False,
    group: str = "",
    version: str = "v1",
    categories: tuple[str, ...] = (),
) -> ResourceInfo:
    return ResourceInfo(
        group=group,
        version=version,
        plural=plural,
        kind=kind,
        singular=kind.lower(),
        namespaced=namespaced,
        short_names=short,
        status_subresource=status,
        categories=categories,
        storage_version=version,
    )


# The kinds a Kube-OVN-style controller, Kopf and kubectl touch. Others can be
# added by applying a CRD for them (the store does not care which is which).
BUILTIN_RESOURCES: tuple[ResourceInfo, ...] = (
    _core("namespaces", "Namespace", namespaced=False, short=("ns",), status=True),
    _core("pods", "Pod", namespaced=True, short=("po",), status=True, categories=("all",)),
    _core("nodes", "Node", namespaced=False, short=("no",), status=True),
    _core("configmaps", "ConfigMap", namespaced=True, short=("cm",)),
    _core("services", "Service", namespaced=True, short=("svc",), status=True),
    _core("events", "Event", namespaced=True, short=("ev",)),
    _core("events", "Event", namespaced=True, short=("ev",), group="events.k8s.io"),
    _core("leases", "Lease", namespaced=True, group="coordination.k8s.io"),
    # What ovnctl's manifests/ declare, so ``kubectl apply -k manifests/`` finds them.
    _core("serviceaccounts", "ServiceAccount", namespaced=True, short=("sa",)),
    _core(
        "deployments",
        "Deployment",
        namespaced=True,
        short=("deploy",),
        status=True,
        group="apps",
        categories=("all",),
    ),
    _core(
        "daemonsets",
        "DaemonSet",
        namespaced=True,
        short=("ds",),
        status=True,
        group="apps",
        categories=("all",),
    ),
    _core("roles", "Role", namespaced=True, group="rbac.authorization.k8s.io"),
    _core("rolebindings", "RoleBinding", namespaced=True, group="rbac.authorization.k8s.io"),
    _core("clusterroles", "ClusterRole", namespaced=False, group="rbac.authorization.k8s.io"),
    _core(
        "clusterrolebindings",
        "ClusterRoleBinding",
        namespaced=False,
        group="rbac.authorization.k8s.io",
    ),
    # Admission webhook configurations (ovnctl.sim.webhooks): kube-apiserver calls them.
    _core(
        "validatingwebhookconfigurations",
        "ValidatingWebhookConfiguration",
        namespaced=False,
        group="admissionregistration.k8s.io",
        categories=("api-extensions",),
    ),
    _core(
        "mutatingwebhookconfigurations",
        "MutatingWebhookConfiguration",
        namespaced=False,
        group="admissionregistration.k8s.io",
        categories=("api-extensions",),
    ),
    _core(
        "customresourcedefinitions",
        "CustomResourceDefinition",
        namespaced=False,
        short=("crd", "crds"),
        status=True,
        group="apiextensions.k8s.io",
    ),
)


def resources_from_crd(crd: Mapping[str, Any]) -> list[ResourceInfo]:
    """The resources a CRD serves: one per ``served`` version (bad shapes yield none)."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group")
    plural = names.get("plural")
    kind = names.get("kind")
    if not (isinstance(group, str) and isinstance(plural, str) and isinstance(kind, str)):
        return []
    versions = spec.get("versions") or []
    storage = next(
        (v.get("name", "") for v in versions if isinstance(v, dict) and v.get("storage")),
        "",
    )
    result: list[ResourceInfo] = []
    for version in versions:
        if not isinstance(version, dict) or not version.get("served", True):
            continue
        subresources = version.get("subresources") or spec.get("subresources") or {}
        result.append(
            ResourceInfo(
                group=group,
                version=str(version.get("name", "")),
                plural=plural,
                kind=kind,
                singular=str(names.get("singular") or kind.lower()),
                namespaced=spec.get("scope", "Namespaced") == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                status_subresource="status" in subresources,
                builtin=False,
                storage_version=storage,
            )
        )
    return result


@dataclass(slots=True)
class Registry:
    """Served resources, looked up by ``(group, version, plural)`` on every request."""

    _by_gvr: dict[tuple[str, str, str], ResourceInfo] = field(default_factory=dict)
    _by_crd: dict[str, list[ResourceInfo]] = field(default_factory=dict)

    @classmethod
    def with_builtins(cls) -> Registry:
        registry = cls()
        for info in BUILTIN_RESOURCES:
            registry._by_gvr[(info.group, info.version, info.plural)] = info
        return registry

    def get(self, group: str, version: str, plural: str) -> ResourceInfo | None:
        return self._by_gvr.get((group, version, plural))

    def all(self) -> Iterable[ResourceInfo]:
        return self._by_gvr.values()

    def set_crd(self, crd_name: str, infos: list[ResourceInfo]) -> None:
        """Serve exactly ``infos`` for the CRD ``crd_name`` (replacing what it served before)."""
        self.remove_crd(crd_name)
        for info in infos:
            self._by_gvr[(info.group, info.version, info.plural)] = info
        self._by_crd[crd_name] = infos

    def remove_crd(self, crd_name: str) -> list[ResourceInfo]:
        infos = self._by_crd.pop(crd_name, [])
        for info in infos:
            self._by_gvr.pop((info.group, info.version, info.plural), None)
        return infos

    def versions_of(self, storage_key: tuple[str, str]) -> list[ResourceInfo]:
        return [info for info in self._by_gvr.values() if info.storage_key == storage_key]
