"""The three PATCH dialects of the API server: JSON merge, strategic merge, JSON patch.

The store applies a patch to the current object and then runs the result
through the same rules as an update (preconditions, status subresource,
generation), exactly as the real server turns every patch into an update.

Strategic merge patch is implemented for the parts controllers and kubectl
actually send: nested maps (labels, annotations), ``null`` deletes, the
``$patch: replace|delete`` and ``$deleteFromPrimitiveList/...`` directives,
``$setElementOrder`` (accepted and ignored), finalizers merged as a set, and
lists of known kinds merged by their merge key (containers by name,
conditions by type, ownerReferences by uid, ...). Any other list is replaced,
which is also what upstream does for lists without a merge key.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from ovnctl.sim.errors import ApiError

__all__ = [
    "JSON_PATCH",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "apply_patch",
    "json_merge_patch",
    "strategic_merge_patch",
]

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# Field name -> merge key, for lists that strategic merge patch merges rather
# than replaces. Upstream looks these up per Go type; a name-based table covers
# the core kinds a controller patches.
_MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "conditions": "type",
    "ownerReferences": "uid",
    "imagePullSecrets": "name",
    "tolerations": "key",
    "hostAliases": "ip",
    "containerStatuses": "name",
    "initContainerStatuses": "name",
}
# Lists of scalars that strategic merge patch merges as sets.
_PRIMITIVE_MERGE: frozenset[str] = frozenset({"finalizers"})


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: maps merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


def _smp_list(field: str, target: list[Any], patch: list[Any]) -> list[Any]:
    if field in _PRIMITIVE_MERGE:
        merged = list(target)
        for item in patch:
            if item not in merged:
                merged.append(item)
        return merged
    key = _MERGE_KEYS.get(field)
    if key is None or not all(isinstance(item, dict) for item in [*target, *patch]):
        return copy.deepcopy(patch)
    merged = [copy.deepcopy(item) for item in target]
    for item in patch:
        directive = item.get("$patch")
        index = next((i for i, old in enumerate(merged) if old.get(key) == item.get(key)), None)
        if directive == "delete":
            if index is not None:
                merged.pop(index)
            continue
        clean = {k: v for k, v in item.items() if k != "$patch"}
        if index is None:
            merged.append(strategic_merge_patch({}, clean))
        elif directive == "replace":
            merged[index] = clean
        else:
            merged[index] = strategic_merge_patch(merged[index], clean)
    return merged


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Kubernetes strategic merge patch, for the directives and list kinds listed above."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = dict(target) if isinstance(target, dict) else {}
    deletions: dict[str, list[Any]] = {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            if isinstance(value, list):
                deletions[key.partition("/")[2]] = value
            continue
        if key.startswith(("$setElementOrder/", "$retainKeys", "$patch")):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _smp_list(key, result[key], value)
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    for key, removed in deletions.items():
        if isinstance(result.get(key), list):
            result[key] = [item for item in result[key] if item not in removed]
    return result


def apply_patch(
    *, target: dict[str, Any], patch: Any, content_type: str, strategic_allowed: bool
) -> dict[str, Any]:
    """Apply ``patch`` of ``content_type`` to ``target``; return the new object."""
    if content_type == MERGE_PATCH:
        if not isinstance(patch, dict):
            raise ApiError.bad_request("merge patch body must be a JSON object")
        result = json_merge_patch(target, patch)
    elif content_type == STRATEGIC_MERGE_PATCH:
        if not strategic_allowed:
            raise ApiError.unsupported_media_type(
                "the body of the request was in an unknown format - accepted media types "
                f"include: {JSON_PATCH}, {MERGE_PATCH}, {APPLY_PATCH}"
            )
        if not isinstance(patch, dict):
            raise ApiError.bad_request("strategic merge patch body must be a JSON object")
        result = strategic_merge_patch(target, patch)
    elif content_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise ApiError.bad_request("json patch body must be a JSON array of operations")
        try:
            result = jsonpatch.JsonPatch(patch).apply(target)
        except jsonpatch.JsonPatchTestFailed as exc:
            raise ApiError.invalid(
                f"the server rejected our request due to an error in our request: {exc}"
            ) from None
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise ApiError.invalid(
                f"the server rejected our request due to an error in our request: {exc}"
            ) from None
        except (TypeError, KeyError, ValueError, AttributeError) as exc:
            raise ApiError.bad_request(f"malformed json patch: {exc}") from None
    elif content_type == APPLY_PATCH:
        raise ApiError.unsupported_media_type(
            "server-side apply is not supported by the embedded API server; "
            "use client-side apply (kubectl apply without --server-side)"
        )
    else:
        raise ApiError.unsupported_media_type(
            f"the body of the request was in an unknown format {content_type!r} - accepted media "
            f"types include: {JSON_PATCH}, {MERGE_PATCH}, {STRATEGIC_MERGE_PATCH}"
        )
    if not isinstance(result, dict):
        raise ApiError.invalid("the patched object is not a JSON object")
    return result
