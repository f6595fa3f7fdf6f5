"""What the API server checks and fills in on a write, before the store keeps it.

Upstream's admission, validation and create strategies, for what ovnctl's
clients and tests rely on: the body's apiVersion, kind, namespace and name
agree with the URL; labels, annotations and finalizers have the right types;
names are DNS-1123 subdomains; namespaces and pods get their initial status;
a CRD is validated and gets ``Established``. An update (PUT or patch) keeps
what the client may not change (:func:`carry_over`: server metadata, the status
or everything but it around a status subresource, no new finalizers while
deleting) and is guarded by its preconditions (:func:`check_preconditions`:
uid and resourceVersion). All functions are pure: they take a body and return
or raise :class:`~ovnctl.sim.errors.ApiError`; the store
(:mod:`ovnctl.sim.store`) calls them and owns everything stateful.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any

from ovnctl.sim.errors import ApiError
from ovnctl.sim.objects import StorageKey
from ovnctl.sim.patching import apply_patch
from ovnctl.sim.resources import ResourceInfo
from ovnctl.sim.structural import check_crd_schemas

__all__ = [
    "CRD_KEY",
    "NS_KEY",
    "SERVER_META",
    "SUFFIX_ALPHABET",
    "carry_over",
    "check_body",
    "check_name",
    "check_namespace_open",
    "check_preconditions",
    "check_subresource",
    "defaults_on_create",
    "patched_body",
    "spec_changed",
    "timestamp",
    "validate_crd",
]

CRD_KEY: StorageKey = ("apiextensions.k8s.io", "customresourcedefinitions")
NS_KEY: StorageKey = ("", "namespaces")
# DNS-1123 subdomain: what upstream requires of most object names.
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""generateName suffix alphabet, as in k8s.io/apiserver (no vowels, no look-alikes)."""
SERVER_META = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds")
"""Metadata fields a client cannot set or change through create/update."""


def timestamp() -> str:
    """Now, as the API server writes times (RFC 3339, seconds, UTC)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_name(info: ResourceInfo, name: Any) -> None:
    """Object names are DNS-1123 subdomains of at most 253 characters."""
    if not isinstance(name, str) or len(name) > 253 or not _NAME_RE.match(name):
        raise ApiError.invalid(
            f'{info.kind} "{name}" is invalid: metadata.name: Invalid value: {name!r}: '
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            "characters, '-' or '.'",
            kind=info.kind,
            name=str(name),
        )


def check_body(
    info: ResourceInfo, namespace: str | None, body: Any, *, url_name: str | None
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError.bad_request("the request body must be a JSON object")
    api_version = body.get("apiVersion")
    kind = body.get("kind")
    if api_version is not None and api_version != info.api_version:
        raise ApiError.bad_request(
            f"the API version in the data ({api_version}) does not match the expected "
            f"API version ({info.api_version})"
        )
    if kind is not None and kind != info.kind:
        raise ApiError.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({info.kind})"
        )
    meta = body.get("metadata")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ApiError.bad_request("metadata must be a JSON object")
    body_ns = meta.get("namespace")
    if info.namespaced and body_ns and namespace and body_ns != namespace:
        raise ApiError.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    body_name = meta.get("name")
    if url_name is not None and body_name and body_name != url_name:
        raise ApiError.bad_request(
            f"the name of the object ({body_name}) does not match the name on the URL ({url_name})"
        )
    for key in ("labels", "annotations"):
        value = meta.get(key)
        if value is not None and (
            not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values())
        ):
            raise ApiError.invalid(f"metadata.{key}: values must be strings", kind=info.kind)
    finalizers = meta.get("finalizers")
    if finalizers is not None and (
        not isinstance(finalizers, list) or not all(isinstance(f, str) for f in finalizers)
    ):
        raise ApiError.invalid("metadata.finalizers must be a list of strings", kind=info.kind)
    return {**body, "apiVersion": info.api_version, "kind": info.kind, "metadata": dict(meta)}


def defaults_on_create(info: ResourceInfo, obj: dict[str, Any]) -> None:
    """What upstream's create strategies fill in for the kinds that matter here."""
    if info.storage_key == NS_KEY:
        obj["status"] = {"phase": "Active"}
    elif info.storage_key == ("", "pods"):
        obj["status"] = {"phase": "Pending"}
    elif info.storage_key == CRD_KEY:
        validate_crd(obj)
        names = (obj.get("spec") or {}).get("names") or {}
        now = timestamp()
        obj["status"] = {
            "acceptedNames": names,
            "storedVersions": [
                v.get("name") for v in obj["spec"].get("versions", []) if v.get("storage")
            ],
            "conditions": [
                {
                    "type": cond,
                    "status": "True",
                    "reason": reason,
                    "message": message,
                    "lastTransitionTime": now,
                }
                for cond, reason, message in (
                    ("NamesAccepted", "NoConflicts", "no conflicts found"),
                    (
                        "Established",
                        "InitialNamesAccepted",
                        "the initial names have been accepted",
                    ),
                )
            ],
        }


def validate_crd(obj: dict[str, Any]) -> None:
    spec = obj.get("spec")
    name = obj["metadata"].get("name")
    if not isinstance(spec, dict):
        raise ApiError.invalid("spec: Required value", kind="CustomResourceDefinition", name=name)
    names = spec.get("names") or {}
    group, plural = spec.get("group"), names.get("plural")
    if not (isinstance(group, str) and group and isinstance(plural, str) and plural):
        raise ApiError.invalid(
            "spec.group and spec.names.plural are required",
            kind="CustomResourceDefinition",
            name=name,
        )
    if not names.get("kind"):
        raise ApiError.invalid(
            "spec.names.kind: Required value", kind="CustomResourceDefinition", name=name
        )
    if name != f"{plural}.{group}":
        raise ApiError.invalid(
            f'metadata.name: Invalid value: {name!r}: must be spec.names.plural+"."+spec.group',
            kind="CustomResourceDefinition",
            name=name,
        )
    versions = spec.get("versions")
    if (
        not isinstance(versions, list)
        or not versions
        or not all(isinstance(v, dict) for v in versions)
    ):
        raise ApiError.invalid(
            "spec.versions: Required value", kind="CustomResourceDefinition", name=name
        )
    if sum(1 for v in versions if v.get("storage")) != 1:
        raise ApiError.invalid(
            "spec.versions: Invalid value: must have exactly one version marked as storage version",
            kind="CustomResourceDefinition",
            name=name,
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        raise ApiError.invalid(
            'spec.scope: Unsupported value: supported values: "Cluster", "Namespaced"',
            kind="CustomResourceDefinition",
            name=name,
        )
    check_crd_schemas(obj)  # a v1 CRD's schemas must be structural


def spec_changed(info: ResourceInfo, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether ``generation`` must grow: anything outside metadata (and status) changed."""
    ignored = {"metadata", "status"} if info.status_subresource else {"metadata"}
    keys = (set(old) | set(new)) - ignored
    return any(old.get(k) != new.get(k) for k in keys)


def patched_body(
    info: ResourceInfo,
    current: dict[str, Any],
    patch: Any,
    *,
    content_type: str,
    on_patched: Callable[[Any], None] | None,
) -> dict[str, Any]:
    """``current`` with ``patch`` applied; ``on_patched`` sees it first (field validation).

    The store's patch and webhook admission (which patches before calling the
    webhooks) both start here; strategic merge is for built-in kinds only.
    """
    patched = apply_patch(
        target=current, patch=patch, content_type=content_type, strategic_allowed=info.builtin
    )
    if on_patched is not None:
        on_patched(patched)
    return patched


def check_namespace_open(
    info: ResourceInfo, namespace: str, meta: Mapping[str, Any] | None
) -> None:
    """NamespaceLifecycle: no create in a missing (404) or terminating (403) namespace.

    ``meta`` is the namespace's metadata, ``None`` if there is no such namespace.
    """
    if meta is None:
        raise ApiError.not_found(kind="namespaces", name=namespace)
    if meta.get("deletionTimestamp"):
        raise ApiError(
            code=403,
            reason="Forbidden",
            message=(
                f"{info.plural} is forbidden: unable to create new content in namespace "
                f"{namespace} because it is being terminated"
            ),
        )


def check_subresource(info: ResourceInfo, subresource: str | None) -> None:
    """Only ``status`` exists, and only where declared: anything else is 404, as upstream."""
    if subresource is None:
        return
    if subresource != "status" or not info.status_subresource:
        raise ApiError(
            code=404,
            reason="NotFound",
            message=(
                f"the server could not find the requested resource ({info.plural}/{subresource})"
            ),
        )


def check_preconditions(
    info: ResourceInfo, current: dict[str, Any], *, resource_version: Any, uid: Any
) -> None:
    """A resourceVersion or uid in the written object must be the stored one (409 otherwise).

    Upstream's storage layer refuses an update whose object carries another
    uid, so a client can put ``metadata.uid`` in a patch to make sure it
    never writes to a deleted and recreated namesake.
    """
    meta = current["metadata"]
    if resource_version is not None and str(resource_version) != meta["resourceVersion"]:
        raise ApiError.conflict(kind=info.plural, name=meta["name"], group=info.group)
    stored = meta.get("uid")
    if uid and uid != stored:
        raise ApiError(
            code=409,
            reason="Conflict",
            message=f"Precondition failed: UID in precondition: {uid}, "
            f"UID in object meta: {stored}",
        )


def carry_over(
    info: ResourceInfo, old: dict[str, Any], new: dict[str, Any], *, subresource: str | None
) -> dict[str, Any]:
    """The object an update stores before schemas and versions: what the client may change.

    A ``/status`` write changes only ``status``; a main write keeps the stored
    status when the kind has a status subresource, keeps the server's metadata
    (uid, timestamps, name, namespace, generation) and may not add finalizers
    to an object being deleted (422). ``apiVersion`` and ``kind`` are the stored ones.
    """
    old_meta = old["metadata"]
    if subresource == "status":
        merged = {k: v for k, v in old.items() if k != "status"}
        if "status" in new:
            merged["status"] = new["status"]
        new = merged
        new["metadata"] = dict(old_meta)
    else:
        if info.status_subresource:
            new.pop("status", None)
            if "status" in old:
                new["status"] = old["status"]
        meta = new["metadata"] = dict(new.get("metadata") or {})
        for server_field in (*SERVER_META, "name", "namespace"):
            if server_field in old_meta:
                meta[server_field] = old_meta[server_field]
            else:
                meta.pop(server_field, None)
        meta["generation"] = old_meta.get("generation", 1)
        if old_meta.get("deletionTimestamp"):
            added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
            if added:
                raise ApiError(
                    code=422,
                    reason="Invalid",
                    message=(
                        f'{info.kind} "{old_meta["name"]}" is invalid: metadata.finalizers: '
                        "Forbidden: no new finalizers can be added if the object is being "
                        "deleted"
                    ),
                )
        if not meta.get("finalizers"):
            meta.pop("finalizers", None)
    new["apiVersion"] = old["apiVersion"]
    new["kind"] = info.kind
    return new
