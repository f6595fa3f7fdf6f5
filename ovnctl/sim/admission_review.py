"""``admission.k8s.io/v1`` ``AdmissionReview``: the request sent to a webhook, its answer checked.

Pure functions, following ``k8s.io/apiserver/pkg/admission/plugin/webhook``:

* :func:`review_request` builds the body POSTed to a webhook
  (``CreateV1AdmissionReview``).
* :func:`verify_response` checks the answer as ``VerifyAdmissionResponse``
  does (``admission.k8s.io/v1`` ``AdmissionReview``, same ``uid``, patch
  fields only from mutating webhooks) and raises :class:`CallError` otherwise.
* :func:`denial` is ``webhookerrors.ToStatusErr``: the ``Status`` a client
  sees when a webhook says no.
* :func:`apply_json_patch` applies a mutating webhook's ``JSONPatch``.

A :class:`CallError` is what ``failurePolicy: Ignore`` may swallow; anything
else (a denial, an unapplicable patch) always fails the request, as upstream.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonpatch

from ovnctl.sim.errors import ApiError
from ovnctl.sim.webhooks import Attributes

__all__ = [
    "ADMIN_USER",
    "CallError",
    "ReviewResponse",
    "apply_json_patch",
    "denial",
    "internal_error",
    "review_request",
    "verify_response",
]

ADMIN_USER: dict[str, Any] = {
    "username": "system:admin",
    "groups": ["system:masters", "system:authenticated"],
}
"""The user every request is made as: the embedded server has no authentication."""


class CallError(Exception):
    """Calling a webhook failed (``ErrCallingWebhook``): ``failurePolicy`` decides."""

    def __init__(self, webhook: str, reason: str) -> None:
        super().__init__(f"failed calling webhook {json.dumps(webhook)}: {reason}")
        self.webhook = webhook
        self.reason = reason


def internal_error(message: str) -> ApiError:
    """``apierrors.NewInternalError``: 500 with the message as the one cause."""
    return ApiError(
        code=500,
        reason="InternalError",
        message=f"Internal error occurred: {message}",
        details={"causes": [{"message": message}]},
    )


def review_request(uid: str, attrs: Attributes, *, group: str, version: str) -> dict[str, Any]:
    """The ``AdmissionReview`` for ``attrs``, as seen by a webhook matched at ``group/version``.

    ``kind``/``resource`` are the version the webhook's rule matched (they differ
    from ``requestKind``/``requestResource`` only under ``matchPolicy: Equivalent``);
    objects are sent with their ``apiVersion`` at that version.
    """
    api_version = f"{group}/{version}" if group else version

    def at_version(obj: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        if obj is None or obj.get("apiVersion") == api_version:
            return obj
        return {**obj, "apiVersion": api_version}

    request: dict[str, Any] = {
        "uid": uid,
        "kind": {"group": group, "version": version, "kind": attrs.kind},
        "resource": {"group": group, "version": version, "resource": attrs.plural},
        "requestKind": {"group": attrs.group, "version": attrs.version, "kind": attrs.kind},
        "requestResource": {
            "group": attrs.group,
            "version": attrs.version,
            "resource": attrs.plural,
        },
        "name": attrs.name,
        "namespace": attrs.namespace,
        "operation": attrs.operation,
        "userInfo": ADMIN_USER,
        "object": at_version(attrs.obj),
        "oldObject": at_version(attrs.old_obj),
        "dryRun": attrs.dry_run,
        "options": attrs.options,
    }
    if attrs.subresource:
        request["subResource"] = attrs.subresource
        request["requestSubResource"] = attrs.subresource
    if not attrs.name:
        del request["name"]  # omitempty, as for a create with generateName
    if not attrs.namespace:
        del request["namespace"]
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}


@dataclass(frozen=True, slots=True)
class ReviewResponse:
    """What a webhook answered, once checked."""

    allowed: bool
    patch: bytes | None  # decoded JSONPatch document (mutating webhooks only)
    result: dict[str, Any] | None  # response.status, a metav1.Status
    warnings: tuple[str, ...]


def verify_response(uid: str, review: Any, *, webhook: str, mutating: bool) -> ReviewResponse:
    """``VerifyAdmissionResponse`` for ``admission.k8s.io/v1``; :class:`CallError` if invalid."""

    def bad(reason: str) -> CallError:
        return CallError(webhook, f"received invalid webhook response: {reason}")

    if not isinstance(review, dict):
        raise bad("the body is not a JSON object")
    response = review.get("response")
    if not isinstance(response, dict):
        raise bad("webhook response was absent")
    if response.get("uid") != uid:
        raise bad(f"expected response.uid={json.dumps(uid)}, got {json.dumps(response.get('uid'))}")
    gvk = f"{review.get('apiVersion', '')}, Kind={review.get('kind', '')}"
    if gvk != "admission.k8s.io/v1, Kind=AdmissionReview":
        raise bad(
            f"expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got {gvk}"
        )
    raw_patch = response.get("patch")
    patch_type = response.get("patchType")
    patch: bytes | None = None
    if mutating:
        if raw_patch and patch_type is None:
            raise bad("webhook returned response.patch but not response.patchType")
        if not raw_patch and patch_type is not None:
            raise bad("webhook returned response.patchType but not response.patch")
        if raw_patch:
            if patch_type != "JSONPatch":
                raise CallError(webhook, f"unsupported patch type {json.dumps(patch_type)}")
            try:
                patch = base64.b64decode(str(raw_patch), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise bad(f"response.patch is not base64: {exc}") from None
    else:
        if raw_patch:
            raise bad("validating webhook may not return response.patch")
        if patch_type is not None:
            raise bad("validating webhook may not return response.patchType")
    result = response.get("status")
    warnings = response.get("warnings") or []
    return ReviewResponse(
        allowed=response.get("allowed") is True,
        patch=patch,
        result=dict(result) if isinstance(result, dict) else None,
        warnings=tuple(str(w) for w in warnings) if isinstance(warnings, list) else (),
    )


def denial(webhook: str, result: Mapping[str, Any] | None) -> ApiError:
    """``ToStatusErr``: the webhook's own code (at least 400), reason and message, prefixed."""
    status = dict(result or {})
    denied_by = f"admission webhook {json.dumps(webhook)} denied the request"
    code = status.get("code")
    code = code if isinstance(code, int) and not isinstance(code, bool) and code >= 400 else 400
    message, reason = status.get("message"), status.get("reason")
    if message:
        text = f"{denied_by}: {message}"
    elif reason:
        text = f"{denied_by}: {reason}"
    else:
        text = f"{denied_by} without explanation"
    details = status.get("details")
    return ApiError(
        code=code,
        reason=str(reason or ""),
        message=text,
        details=details if isinstance(details, dict) else None,
    )


def apply_json_patch(obj: Mapping[str, Any], patch: bytes, *, webhook: str) -> dict[str, Any]:
    """The object after a mutating webhook's JSONPatch; an undecodable patch is a CallError."""
    try:
        operations = json.loads(patch)
        parsed = jsonpatch.JsonPatch(operations)
    except (ValueError, TypeError, jsonpatch.JsonPatchException) as exc:
        raise CallError(webhook, f"received undecodable patch in webhook response: {exc}") from None
    if not operations:
        return dict(obj)
    try:
        patched = parsed.apply(obj)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError) as exc:
        raise internal_error(str(exc)) from None
    if not isinstance(patched, dict):
        raise internal_error(
            f"admission webhook {json.dumps(webhook)} made the object a non-object"
        )
    return patched
