"""Admission webhook configurations: their validation, defaults, and which requests they match.

``admissionregistration.k8s.io/v1`` ``ValidatingWebhookConfiguration`` and
``MutatingWebhookConfiguration`` objects are stored like any other object.
This module is the pure half of calling them, mirroring kube-apiserver's
``admissionregistration`` validation and defaulting and the
``k8s.io/apiserver/pkg/admission/plugin/webhook`` predicates:

* :func:`prepare_configuration` checks and defaults a configuration on every
  write (the store calls it), so a bad one is refused with ``422 Invalid``
  naming the field, and a good one reads back with upstream's defaults.
* :class:`Webhook` is one parsed webhook; :meth:`Webhook.matches` applies its
  ``rules`` (operation, group, version, resource/subresource, scope), its
  ``namespaceSelector`` and its ``objectSelector`` to one request.
* :func:`webhooks_from` turns the stored configurations into the ordered
  list the dispatcher (:mod:`ovnctl.sim.webhook_dispatch`) calls.

Nothing here does I/O; the HTTPS calls are :mod:`ovnctl.sim.webhook_client`.
"""

from __future__ import annotations

import base64
import binascii
import re
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ovnctl.sim.errors import ApiError
from ovnctl.sim.objects import StorageKey, Stored

__all__ = [
    "ADMISSION_GROUP",
    "CONFIGURATION_KEYS",
    "MUTATING_KEY",
    "VALIDATING_KEY",
    "Attributes",
    "LabelMatcher",
    "Rule",
    "Webhook",
    "label_selector",
    "prepare_configuration",
    "webhooks_from",
]

ADMISSION_GROUP = "admissionregistration.k8s.io"
VALIDATING_KEY: StorageKey = (ADMISSION_GROUP, "validatingwebhookconfigurations")
MUTATING_KEY: StorageKey = (ADMISSION_GROUP, "mutatingwebhookconfigurations")
CONFIGURATION_KEYS = frozenset({VALIDATING_KEY, MUTATING_KEY})

_OPERATIONS = ("CREATE", "UPDATE", "DELETE", "CONNECT")
_SCOPES = ("Cluster", "Namespaced", "*")
_FAILURE_POLICIES = ("Fail", "Ignore")
_MATCH_POLICIES = ("Exact", "Equivalent")
_SIDE_EFFECTS = ("None", "NoneOnDryRun")
_REINVOCATION = ("Never", "IfNeeded")
_REVIEW_VERSIONS = ("v1", "v1beta1")
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED_RE = re.compile(rf"^{_DNS_LABEL}(\.{_DNS_LABEL})*$")
_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


# --- validation and defaults (on write) ------------------------------------------------------


class _Errors:
    """Field errors collected over one object, reported as one ``422 Invalid`` like upstream."""

    def __init__(self) -> None:
        self.causes: list[dict[str, str]] = []

    def add(self, reason: str, field: str, detail: str) -> None:
        self.causes.append({"reason": reason, "field": field, "message": detail})

    def required(self, field: str, detail: str = "") -> None:
        self.add(
            "FieldValueRequired",
            field,
            f"{field}: Required value" + (f": {detail}" if detail else ""),
        )

    def invalid(self, field: str, value: Any, detail: str) -> None:
        self.add("FieldValueInvalid", field, f"{field}: Invalid value: {_show(value)}: {detail}")

    def unsupported(self, field: str, value: Any, supported: Iterable[str]) -> None:
        allowed = ", ".join(f'"{s}"' for s in supported)
        self.add(
            "FieldValueNotSupported",
            field,
            f"{field}: Unsupported value: {_show(value)}: supported values: {allowed}",
        )

    def raise_if_any(self, kind: str, name: str) -> None:
        if not self.causes:
            return
        messages = [c["message"] for c in self.causes]
        joined = messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"
        raise ApiError(
            code=422,
            reason="Invalid",
            message=f'{kind}.{ADMISSION_GROUP} "{name}" is invalid: {joined}',
            details={
                "name": name,
                "group": ADMISSION_GROUP,
                "kind": kind,
                "causes": self.causes,
            },
        )


def _show(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _check_string_list(
    errors: _Errors,
    field: str,
    value: Any,
    *,
    allowed: Iterable[str] | None = None,
    empty_ok: bool = False,
) -> list[str]:
    if not isinstance(value, list) or not value:
        errors.required(field)
        return []
    items: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not (item or empty_ok):
            errors.invalid(f"{field}[{i}]", item, "must be a non-empty string")
        elif allowed is not None and item not in allowed:
            errors.unsupported(f"{field}[{i}]", item, allowed)
        else:
            items.append(item)
    if "*" in items and len(items) > 1:
        errors.invalid(field, items, "if '*' is present, must not specify other values")
    return items


def _check_rule(errors: _Errors, field: str, rule: Any) -> None:
    if not isinstance(rule, dict):
        errors.invalid(field, rule, "must be an object")
        return
    _check_string_list(
        errors, f"{field}.operations", rule.get("operations"), allowed=(*_OPERATIONS, "*")
    )
    # "" is the core group.
    _check_string_list(errors, f"{field}.apiGroups", rule.get("apiGroups"), empty_ok=True)
    _check_string_list(errors, f"{field}.apiVersions", rule.get("apiVersions"))
    for i, resource in enumerate(
        _check_string_list(errors, f"{field}.resources", rule.get("resources"))
    ):
        if resource.startswith("/") or resource.endswith("/") or resource.count("/") > 1:
            errors.invalid(
                f"{field}.resources[{i}]", resource, "must be 'resource' or 'resource/subresource'"
            )
    scope = rule.setdefault("scope", "*")
    if scope not in _SCOPES:
        errors.unsupported(f"{field}.scope", scope, _SCOPES)


def _check_selector(errors: _Errors, field: str, selector: Any) -> None:
    if not isinstance(selector, dict):
        errors.invalid(field, selector, "must be a label selector object")
        return
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in match_labels.items()
    ):
        errors.invalid(f"{field}.matchLabels", match_labels, "must map strings to strings")
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        where = f"{field}.matchExpressions[{i}]"
        if not isinstance(expr, dict) or not isinstance(expr.get("key"), str):
            errors.required(f"{where}.key")
            continue
        operator = expr.get("operator")
        values = expr.get("values") or []
        if operator not in _SELECTOR_OPERATORS:
            errors.unsupported(f"{where}.operator", operator, _SELECTOR_OPERATORS)
        elif operator in ("In", "NotIn") and not values:
            errors.required(
                f"{where}.values", "must be specified when `operator` is 'In' or 'NotIn'"
            )
        elif operator in ("Exists", "DoesNotExist") and values:
            errors.invalid(
                f"{where}.values",
                values,
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )


def _check_client_config(errors: _Errors, field: str, config: Any) -> None:
    if not isinstance(config, dict):
        errors.required(field)
        return
    url, service = config.get("url"), config.get("service")
    if (url is None) == (service is None):
        errors.required(field, "exactly one of url or service is required")
    elif url is not None:
        parsed = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme != "https":
            errors.invalid(f"{field}.url", url, "'https' is the only allowed URL scheme")
        elif not parsed.hostname:
            errors.invalid(f"{field}.url", url, "host must be specified")
        elif parsed.fragment or parsed.username:
            errors.invalid(f"{field}.url", url, "fragments and user information are not permitted")
    elif not isinstance(service, dict):
        errors.invalid(f"{field}.service", service, "must be an object")
    else:
        for key in ("namespace", "name"):
            if not isinstance(service.get(key), str) or not service.get(key):
                errors.required(f"{field}.service.{key}")
        path = service.get("path")
        if path is not None and (not isinstance(path, str) or not path.startswith("/")):
            errors.invalid(f"{field}.service.path", path, "must start with a '/'")
        port = service.setdefault("port", 443)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            errors.invalid(
                f"{field}.service.port", port, "port is not valid: must be between 1 and 65535"
            )
    bundle = config.get("caBundle")
    if bundle is not None:
        try:
            _decode_bundle(bundle)
        except (binascii.Error, ValueError):
            errors.invalid(
                f"{field}.caBundle", "<bytes>", "must be base64-encoded PEM certificates"
            )


def _decode_bundle(bundle: Any) -> bytes:
    """``caBundle`` bytes; line breaks inside the base64 are ignored, as Go's decoder does."""
    return base64.b64decode("".join(str(bundle).split()), validate=True)


def _check_webhook(errors: _Errors, field: str, hook: Any, *, mutating: bool) -> None:
    if not isinstance(hook, dict):
        errors.invalid(field, hook, "must be an object")
        return
    name = hook.get("name")
    if not isinstance(name, str) or not name:
        errors.required(f"{field}.name")
    elif not _QUALIFIED_RE.match(name) or name.count(".") < 2:
        errors.invalid(
            f"{field}.name",
            name,
            "should be a domain with at least three segments separated by dots",
        )
    versions = _check_string_list(
        errors, f"{field}.admissionReviewVersions", hook.get("admissionReviewVersions")
    )
    if versions and not set(versions) & set(_REVIEW_VERSIONS):
        errors.invalid(
            f"{field}.admissionReviewVersions",
            versions,
            'must include at least one of "v1", "v1beta1"',
        )
    side_effects = hook.get("sideEffects")
    if side_effects is None:
        errors.required(f"{field}.sideEffects")
    elif side_effects not in _SIDE_EFFECTS:
        errors.unsupported(f"{field}.sideEffects", side_effects, _SIDE_EFFECTS)
    rules = hook.get("rules") or []
    if not isinstance(rules, list):
        errors.invalid(f"{field}.rules", rules, "must be a list")
    else:
        for i, rule in enumerate(rules):
            _check_rule(errors, f"{field}.rules[{i}]", rule)
    _check_client_config(errors, f"{field}.clientConfig", hook.get("clientConfig"))
    for key, allowed, default in (
        ("failurePolicy", _FAILURE_POLICIES, "Fail"),
        ("matchPolicy", _MATCH_POLICIES, "Equivalent"),
        *((("reinvocationPolicy", _REINVOCATION, "Never"),) if mutating else ()),
    ):
        value = hook.setdefault(key, default)
        if value not in allowed:
            errors.unsupported(f"{field}.{key}", value, allowed)
    timeout = hook.setdefault("timeoutSeconds", 10)
    if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= 30:
        errors.invalid(
            f"{field}.timeoutSeconds", timeout, "the timeout value must be between 1 and 30 seconds"
        )
    for key in ("namespaceSelector", "objectSelector"):
        if hook.get(key) is None:
            hook[key] = {}
        _check_selector(errors, f"{field}.{key}", hook[key])
    if hook.get("matchConditions"):
        # CEL is not evaluated here; calling the webhook anyway would admit or deny
        # requests a real server would never send it, so refuse rather than pretend.
        errors.invalid(
            f"{field}.matchConditions",
            "<list>",
            "matchConditions (CEL) are not supported by the embedded API server (ovnctl sim)",
        )


def prepare_configuration(storage_key: StorageKey, obj: dict[str, Any]) -> None:
    """Check a webhook configuration being written and fill in upstream's defaults (in place).

    Raises ``ApiError`` 422 with one cause per bad field, as kube-apiserver does.
    """
    mutating = storage_key == MUTATING_KEY
    kind = "MutatingWebhookConfiguration" if mutating else "ValidatingWebhookConfiguration"
    name = str(obj["metadata"].get("name", ""))
    errors = _Errors()
    webhooks = obj.get("webhooks")
    if webhooks is None:
        webhooks = []
    if not isinstance(webhooks, list):
        errors.invalid("webhooks", webhooks, "must be a list")
        errors.raise_if_any(kind, name)
    # Defaults are written into copies: stored dicts are shared and never mutated.
    webhooks = [_copy_hook(h) for h in webhooks]
    obj["webhooks"] = webhooks
    seen: set[str] = set()
    for i, hook in enumerate(webhooks):
        _check_webhook(errors, f"webhooks[{i}]", hook, mutating=mutating)
        hook_name = hook.get("name") if isinstance(hook, dict) else None
        if isinstance(hook_name, str) and hook_name:
            if hook_name in seen:
                errors.add(
                    "FieldValueDuplicate",
                    f"webhooks[{i}].name",
                    f'webhooks[{i}].name: Duplicate value: "{hook_name}"',
                )
            seen.add(hook_name)
    errors.raise_if_any(kind, name)


def _copy_hook(hook: Any) -> Any:
    if not isinstance(hook, dict):
        return hook
    copied = dict(hook)
    if isinstance(copied.get("rules"), list):
        copied["rules"] = [dict(r) if isinstance(r, dict) else r for r in copied["rules"]]
    config = copied.get("clientConfig")
    if isinstance(config, dict):
        copied["clientConfig"] = dict(config)
        if isinstance(config.get("service"), dict):
            copied["clientConfig"]["service"] = dict(config["service"])
    return copied


# --- parsed webhooks and matching (on every admitted request) ----------------------------------

LabelMatcher = Callable[[Mapping[str, str]], bool]


def label_selector(selector: Mapping[str, Any]) -> LabelMatcher | None:
    """A predicate over a label map for a ``LabelSelector`` object; ``None`` if it is empty."""
    match_labels = dict(selector.get("matchLabels") or {})
    expressions = [
        (str(e["key"]), str(e["operator"]), frozenset(e.get("values") or ()))
        for e in selector.get("matchExpressions") or ()
    ]
    if not match_labels and not expressions:
        return None

    def matches(labels: Mapping[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in match_labels.items()):
            return False
        for key, operator, values in expressions:
            present = key in labels
            if operator == "In" and not (present and labels[key] in values):
                return False
            if operator == "NotIn" and present and labels[key] in values:
                return False
            if operator == "Exists" and not present:
                return False
            if operator == "DoesNotExist" and present:
                return False
        return True

    return matches


@dataclass(frozen=True, slots=True)
class Rule:
    """One ``rules[]`` entry; empty collections never occur (validation requires values)."""

    operations: frozenset[str]
    groups: frozenset[str]
    versions: frozenset[str]
    resources: tuple[tuple[str, str], ...]  # (resource, subresource); "" is the main resource
    scope: str

    @classmethod
    def parse(cls, rule: Mapping[str, Any]) -> Rule:
        return cls(
            operations=frozenset(rule["operations"]),
            groups=frozenset(rule["apiGroups"]),
            versions=frozenset(rule["apiVersions"]),
            resources=tuple(
                (res, sub) for res, _, sub in (r.partition("/") for r in rule["resources"])
            ),
            scope=rule.get("scope", "*"),
        )

    def matches(self, attrs: Attributes, group: str, version: str) -> bool:
        """rules.Matcher.Matches of k8s.io/apiserver, for the request at ``group/version``."""
        if not ("*" in self.operations or attrs.operation in self.operations):
            return False
        if not ("*" in self.groups or group in self.groups):
            return False
        if not ("*" in self.versions or version in self.versions):
            return False
        resource, subresource = attrs.plural, attrs.subresource
        if not any(
            (res == "*" or res == resource) and (sub == "*" or sub == subresource)
            for res, sub in self.resources
        ):
            return False
        # A Namespace is cluster-scoped, though requests for one carry its name as namespace.
        is_namespace = attrs.group == "" and attrs.plural == "namespaces"
        if self.scope == "Namespaced":
            return not is_namespace and bool(attrs.namespace)
        if self.scope == "Cluster":
            return is_namespace or not attrs.namespace
        return True


@dataclass(frozen=True, slots=True)
class Attributes:
    """What the webhook predicates and the AdmissionReview need to know of one request."""

    operation: str  # CREATE, UPDATE, DELETE
    group: str
    version: str
    plural: str
    kind: str
    subresource: str  # "" for the main resource
    namespace: str  # "" for cluster-scoped objects; a Namespace's own name for namespaces
    name: str
    obj: Mapping[str, Any] | None
    old_obj: Mapping[str, Any] | None
    dry_run: bool
    options: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Webhook:
    """One webhook of a stored configuration, parsed once per configuration version."""

    name: str
    configuration: str
    mutating: bool
    rules: tuple[Rule, ...]
    namespace_selector: LabelMatcher | None
    object_selector: LabelMatcher | None
    failure_policy: str
    match_policy: str
    side_effects: str
    timeout_s: int
    review_versions: tuple[str, ...]
    url: str | None
    service: tuple[str, str, int, str] | None  # namespace, name, port, path
    ca_bundle: bytes | None  # decoded PEM, as clientConfig.caBundle carries it base64-encoded
    reinvocation: str = "Never"  # mutating webhooks: Never or IfNeeded

    @classmethod
    def parse(cls, configuration: str, hook: Mapping[str, Any], *, mutating: bool) -> Webhook:
        config = hook.get("clientConfig") or {}
        service = config.get("service")
        bundle = config.get("caBundle")
        return cls(
            name=hook["name"],
            configuration=configuration,
            mutating=mutating,
            rules=tuple(Rule.parse(r) for r in hook.get("rules") or ()),
            namespace_selector=label_selector(hook.get("namespaceSelector") or {}),
            object_selector=label_selector(hook.get("objectSelector") or {}),
            failure_policy=hook.get("failurePolicy", "Fail"),
            match_policy=hook.get("matchPolicy", "Equivalent"),
            side_effects=hook.get("sideEffects", "None"),
            timeout_s=int(hook.get("timeoutSeconds", 10)),
            review_versions=tuple(hook.get("admissionReviewVersions") or ()),
            url=config.get("url"),
            service=(
                (
                    service["namespace"],
                    service["name"],
                    int(service.get("port", 443)),
                    service.get("path") or "",
                )
                if service
                else None
            ),
            ca_bundle=_decode_bundle(bundle) if bundle else None,
            reinvocation=hook.get("reinvocationPolicy", "Never"),
        )

    @property
    def ignore_failures(self) -> bool:
        return self.failure_policy == "Ignore"

    def matching_version(
        self, attrs: Attributes, served: Iterable[tuple[str, str]]
    ) -> tuple[str, str] | None:
        """The ``(group, version)`` under which the rules match the request, if any.

        The request's own version first; with ``matchPolicy: Equivalent``,
        then any other served version of the same resource, as upstream does
        (CRD versions here share one storage, so "conversion" rewrites apiVersion).
        """
        own = (attrs.group, attrs.version)
        if any(rule.matches(attrs, *own) for rule in self.rules):
            return own
        if self.match_policy == "Equivalent":
            for group, version in served:
                if (group, version) != own and any(
                    rule.matches(attrs, group, version) for rule in self.rules
                ):
                    return group, version
        return None

    def selects_namespace(self, namespace_labels: Mapping[str, str] | None) -> bool:
        """namespaceSelector; ``None`` labels means the request is about a cluster-scoped object."""
        if self.namespace_selector is None or namespace_labels is None:
            return True
        return self.namespace_selector(namespace_labels)

    def selects_object(self, attrs: Attributes) -> bool:
        """objectSelector against the new or the old object's labels (either may match)."""
        if self.object_selector is None:
            return True
        return any(
            obj is not None
            and self.object_selector((obj.get("metadata") or {}).get("labels") or {})
            for obj in (attrs.obj, attrs.old_obj)
        )


def webhooks_from(configurations: Mapping[Any, Stored], *, mutating: bool) -> tuple[Webhook, ...]:
    """Every webhook of the stored configurations, ordered by configuration name as upstream."""
    ordered = sorted(configurations.values(), key=lambda s: s.meta["name"])
    return tuple(
        Webhook.parse(stored.meta["name"], hook, mutating=mutating)
        for stored in ordered
        for hook in stored.obj.get("webhooks") or ()
    )
