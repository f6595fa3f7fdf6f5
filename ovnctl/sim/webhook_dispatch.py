"""Admission webhooks in the write path: mutate, check, validate, then commit.

The server hands every create, update, patch, delete and deletecollection to
:class:`WebhookAdmission`. Without any webhook configuration stored (or for
the configurations themselves) it calls the store at once, so the write path
costs nothing extra. Before either, a create, update or patch body gets
server-side field validation (``?fieldValidation``, :mod:`ovnctl.sim.field_validation`),
as kube-apiserver's decoding does. Then, for each request, in kube-apiserver's order:

0. A custom resource is **decoded**: pruned and defaulted by its schema
   (:meth:`~ovnctl.sim.enforcement.SchemaEnforcer.decode_request`), not yet
   validated. Webhooks never see a field the schema drops.
1. **Mutating** webhooks whose rules and selectors match are called one at a
   time, in configuration-name order; each sees the object as the previous
   one left it, and its ``JSONPatch`` is applied.
2. The store runs the write as a dry run: every check it makes (conflicts,
   names, status rules, CRD checks...) applies, and the result is the object
   as it would be stored. This is where a custom resource is pruned and
   defaulted again (what mutating webhooks added) and validated against its
   schema: a webhook's patch that breaks the schema fails the request with 422,
   and a field it adds that the schema does not declare is dropped silently.
3. **Validating** webhooks that match are called concurrently with that
   object (``oldObject`` is the stored one).
4. If the stored object changed while webhooks were called, the request is
   admitted again from step 1 (upstream's ``GuaranteedUpdate`` retries the
   same way); otherwise the write is committed. There is no ``await`` between
   that check and the commit, so what was validated is what is stored.

``failurePolicy`` decides what a :class:`~ovnctl.sim.admission_review.CallError`
(unreachable, timeout, bad TLS, bad answer) does: ``Fail`` answers 500
``failed calling webhook "NAME": ...``, ``Ignore`` goes on without the hook.
A denial always fails the request with the webhook's status. Warnings from
every answer are collected into ``warnings`` for the ``Warning`` headers.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from ovnctl.sim.admission import (
    check_body,
    check_namespace_open,
    check_subresource,
    patched_body,
)
from ovnctl.sim.admission_review import (
    CallError,
    apply_json_patch,
    denial,
    internal_error,
    request_attributes,
    review_options,
    review_request,
    verify_response,
    with_object,
)
from ovnctl.sim.errors import ApiError
from ovnctl.sim.field_validation import FieldValidation
from ovnctl.sim.pruning import Node
from ovnctl.sim.resources import ResourceInfo
from ovnctl.sim.selectors import Matcher
from ovnctl.sim.store import Store, Stored
from ovnctl.sim.webhook_client import ServiceEndpoints, WebhookClient
from ovnctl.sim.webhooks import (
    CONFIGURATION_KEYS,
    MUTATING_KEY,
    VALIDATING_KEY,
    Attributes,
    Webhook,
    webhooks_from,
)

__all__ = ["WebhookAdmission"]

logger = logging.getLogger(__name__)

# Admission of a write is retried this often when the object keeps changing meanwhile.
_ATTEMPTS = 5


class WebhookAdmission:
    """Calls the stored webhook configurations around the store's writes (see module doc)."""

    def __init__(self, store: Store, service_endpoints: ServiceEndpoints | None = None) -> None:
        self.store = store
        self.client = WebhookClient(service_endpoints)
        self._cache_key: tuple[tuple[str, str], ...] = ()
        self._mutating: tuple[Webhook, ...] = ()
        self._validating: tuple[Webhook, ...] = ()

    def _configurations(self, key: tuple[str, str]) -> Mapping[Any, Stored]:
        info = self.store.registry.get(key[0], "v1", key[1])
        return self.store.objects(info) if info is not None else {}

    def active(self, info: ResourceInfo) -> bool:
        """Whether writes to ``info`` must go through admission (cheap: no webhooks, no cost).

        Webhooks are never called for webhook configurations themselves, as upstream,
        so a broken webhook cannot lock out its own repair.
        """
        if info.storage_key in CONFIGURATION_KEYS:
            return False
        return bool(self._configurations(VALIDATING_KEY) or self._configurations(MUTATING_KEY))

    def _webhooks(self) -> tuple[tuple[Webhook, ...], tuple[Webhook, ...]]:
        """Parsed webhooks (mutating, validating), re-parsed only when a configuration changes."""
        mutating, validating = (
            self._configurations(MUTATING_KEY),
            self._configurations(VALIDATING_KEY),
        )
        key = tuple(
            (s.meta["name"], s.meta["resourceVersion"])
            for s in (*mutating.values(), *validating.values())
        )
        if key != self._cache_key:
            self._mutating = webhooks_from(mutating, mutating=True)
            self._validating = webhooks_from(validating, mutating=False)
            self._cache_key = key
        return self._mutating, self._validating

    def _schema_root(self, info: ResourceInfo) -> Node | None:
        """The pruning tree field validation reads (``None``: built-in kind or checks off)."""
        schema = self.store.schemas.schema(info)
        return None if schema is None else schema.root

    async def close(self) -> None:
        await self.client.close()

    # --- matching ------------------------------------------------------------------------------

    def _namespace_labels(self, attrs: Attributes) -> Mapping[str, str] | None:
        """Labels for ``namespaceSelector``: ``None`` for cluster-scoped objects (always match)."""
        is_namespace = attrs.group == "" and attrs.plural == "namespaces"
        if is_namespace and not attrs.subresource and attrs.operation in ("CREATE", "UPDATE"):
            return ((attrs.obj or {}).get("metadata") or {}).get("labels") or {}
        if not attrs.namespace:
            return None
        namespace = self.store.objects(self.store.resource("", "v1", "namespaces")).get(
            ("", attrs.namespace)
        )
        if namespace is None:
            raise ApiError.not_found(kind="namespaces", name=attrs.namespace)
        labels: Mapping[str, str] = namespace.meta.get("labels") or {}
        return labels

    def _check_namespace(self, info: ResourceInfo, namespace: str) -> None:
        """NamespaceLifecycle, which upstream runs before any webhook: no create in a
        missing or terminating namespace (the same errors the store gives)."""
        ns = self.store.objects(self.store.resource("", "v1", "namespaces")).get(("", namespace))
        check_namespace_open(info, namespace, None if ns is None else ns.meta)

    def _match(
        self, hook: Webhook, info: ResourceInfo, attrs: Attributes
    ) -> tuple[str, str] | None:
        """``ShouldCallHook``: the version the rules matched, if selectors also match."""
        served = ((i.group, i.version) for i in self.store.registry.versions_of(info.storage_key))
        version = hook.matching_version(attrs, served)
        if version is None:
            return None
        if hook.namespace_selector is not None and not hook.selects_namespace(
            self._namespace_labels(attrs)
        ):
            return None
        if not hook.selects_object(attrs):
            return None
        return version

    # --- calling -------------------------------------------------------------------------------

    async def _call(
        self, hook: Webhook, attrs: Attributes, version: tuple[str, str], warnings: list[str]
    ) -> bytes | None:
        """Call one webhook: its JSONPatch if it allowed (mutating), or raise its denial."""
        if "v1" not in hook.review_versions:
            raise CallError(
                hook.name,
                "could not create admission objects: webhook does not accept known "
                "AdmissionReview versions (the embedded API server sends only v1)",
            )
        uid = str(uuid.uuid4())
        review = review_request(uid, attrs, group=version[0], version=version[1])
        answer = await self.client.post(hook, review)
        response = verify_response(uid, answer, webhook=hook.name, mutating=hook.mutating)
        warnings.extend(response.warnings)
        if not response.allowed:
            raise denial(hook.name, response.result)
        return response.patch

    def _call_failed(self, hook: Webhook, error: CallError) -> ApiError | None:
        """failurePolicy: ``None`` to go on without the hook (Ignore), else the 500 to answer."""
        if hook.ignore_failures:
            logger.warning("Failed calling webhook, failing open %s: %s", hook.name, error)
            return None
        logger.warning("Failed calling webhook, failing closed %s: %s", hook.name, error)
        return internal_error(str(error))

    async def _mutate(
        self, info: ResourceInfo, attrs: Attributes, warnings: list[str]
    ) -> Attributes:
        """Run the matching mutating webhooks in order; return attrs with the mutated object.

        ``reinvocationPolicy: IfNeeded`` as upstream: a webhook with it that was
        called before another webhook changed the object is called once more,
        in a second round (a change in that round triggers no third).
        """
        hooks = self._webhooks()[0]
        reinvoke: set[str] = set()
        invoked: list[str] = []  # IfNeeded webhooks called so far in the first round
        for round_ in (0, 1):
            for hook in hooks:
                if round_ == 1 and hook.name not in reinvoke:
                    continue
                version = self._match(hook, info, attrs)
                if version is None:
                    continue
                mutated = await self._call_mutating(hook, attrs, version, warnings)
                if mutated is not None and mutated != attrs.obj:
                    attrs = with_object(attrs, mutated)
                    if round_ == 0:
                        reinvoke.update(invoked)
                if round_ == 0 and hook.reinvocation == "IfNeeded":
                    invoked.append(hook.name)
            if not reinvoke:
                break
        return attrs

    async def _call_mutating(
        self, hook: Webhook, attrs: Attributes, version: tuple[str, str], warnings: list[str]
    ) -> dict[str, Any] | None:
        """One mutating call: the patched object, or ``None`` if it changed nothing."""
        try:
            patch = await self._call(hook, attrs, version, warnings)
            if not patch:
                return None
            if attrs.obj is None:  # DELETE: nothing to patch
                try:
                    operations = json.loads(patch)
                except ValueError as exc:
                    raise CallError(
                        hook.name, f"received undecodable patch in webhook response: {exc}"
                    ) from None
                if operations:
                    raise internal_error(
                        f"admission webhook {json.dumps(hook.name)} attempted to modify the "
                        "object, which is not supported for this operation"
                    )
                return None
            return apply_json_patch(attrs.obj, patch, webhook=hook.name)
        except CallError as error:
            failure = self._call_failed(hook, error)
            if failure is not None:
                raise failure from None
            return None

    async def _validate(self, info: ResourceInfo, attrs: Attributes, warnings: list[str]) -> None:
        """Call the matching validating webhooks concurrently; raise the first failure."""
        calls = [
            (hook, version)
            for hook in self._webhooks()[1]
            if (version := self._match(hook, info, attrs)) is not None
        ]
        if not calls:
            return
        per_hook: list[list[str]] = [[] for _ in calls]
        results = await asyncio.gather(
            *(
                self._call(hook, attrs, version, per_hook[i])
                for i, (hook, version) in enumerate(calls)
            ),
            return_exceptions=True,
        )
        for found in per_hook:
            warnings.extend(found)
        for (hook, _), result in zip(calls, results, strict=True):
            if isinstance(result, CallError):
                failure = self._call_failed(hook, result)
                if failure is not None:
                    raise failure
            elif isinstance(result, BaseException):
                raise result

    # --- the admitted verbs --------------------------------------------------------------------

    async def create(
        self,
        info: ResourceInfo,
        namespace: str | None,
        body: Any,
        query: Mapping[str, str],
        warnings: list[str],
        duplicates: tuple[str, ...] = (),
    ) -> Stored:
        """POST: admitted, or straight to the store when no webhook is configured."""
        dry_run = bool(query.get("dryRun"))
        fields = FieldValidation.from_query(
            query, "CreateOptions", duplicates=duplicates, warnings=warnings
        )
        fields.check_body(info.kind, info.version, body, self._schema_root(info))
        if not self.active(info):
            return self.store.create(info, namespace, body, dry_run=dry_run)
        obj = check_body(info, namespace, body, url_name=None)
        if info.namespaced and namespace:
            obj["metadata"]["namespace"] = namespace
            self._check_namespace(info, namespace)
        obj = self.store.schemas.decode_request(info, obj)  # webhooks see it pruned, defaulted
        attrs = request_attributes(
            info,
            "CREATE",
            namespace=namespace,
            name=str(obj["metadata"].get("name") or ""),
            subresource=None,
            obj=obj,
            old=None,
            dry_run=dry_run,
            options=review_options("CreateOptions", query),
        )
        attrs = await self._mutate(info, attrs, warnings)
        mutated = dict(attrs.obj or {})
        result = self.store.create(info, namespace, mutated, dry_run=True)
        name = result.meta["name"]
        await self._validate(info, with_object(attrs, result.obj, name=name), warnings)
        if dry_run:
            return result
        # Keep the name a generateName produced in the dry run: it is what was validated.
        mutated["metadata"] = {**(mutated.get("metadata") or {}), "name": name}
        return self.store.create(info, namespace, mutated)

    async def update(
        self,
        info: ResourceInfo,
        namespace: str | None,
        name: str,
        body: Any,
        subresource: str | None,
        query: Mapping[str, str],
        warnings: list[str],
        duplicates: tuple[str, ...] = (),
    ) -> Stored:
        """PUT, admitted as UPDATE."""
        fields = FieldValidation.from_query(
            query, "UpdateOptions", duplicates=duplicates, warnings=warnings
        )
        fields.check_body(info.kind, info.version, body, self._schema_root(info))
        if not self.active(info):
            return self.store.update(
                info,
                namespace,
                name,
                body,
                subresource=subresource,
                dry_run=bool(query.get("dryRun")),
            )
        return await self._admit_update(
            info, namespace, name, subresource, query, warnings, body=body
        )

    async def patch(
        self,
        info: ResourceInfo,
        namespace: str | None,
        name: str,
        patch: Any,
        content_type: str,
        subresource: str | None,
        query: Mapping[str, str],
        warnings: list[str],
        duplicates: tuple[str, ...] = (),
    ) -> Stored:
        """PATCH, admitted as UPDATE of the patched object (as upstream)."""
        fields = FieldValidation.from_query(
            query, "PatchOptions", duplicates=duplicates, warnings=warnings
        )
        patch_errors = fields.check_patch(patch, content_type == "application/json-patch+json")
        root = self._schema_root(info)

        def check_patched(patched: Any) -> None:
            fields.check_patched(patch_errors, patched, root)

        if not self.active(info):
            return self.store.patch(
                info,
                namespace,
                name,
                patch,
                content_type=content_type,
                subresource=subresource,
                dry_run=bool(query.get("dryRun")),
                on_patched=check_patched,
            )
        return await self._admit_update(
            info, namespace, name, subresource, query, warnings,
            patch=patch, content_type=content_type, on_patched=check_patched,
        )  # fmt: skip

    async def _admit_update(
        self,
        info: ResourceInfo,
        namespace: str | None,
        name: str,
        subresource: str | None,
        query: Mapping[str, str],
        warnings: list[str],
        *,
        body: Any = None,
        patch: Any = None,
        content_type: str = "",
        on_patched: Callable[[Any], None] | None = None,
    ) -> Stored:
        """UPDATE for both PUT and PATCH (a patch is an update of current + patch, as upstream).

        ``on_patched`` is field validation of the patched object, before any webhook.
        """
        check_subresource(info, subresource)
        dry_run = bool(query.get("dryRun"))
        store = self.store
        for _ in range(_ATTEMPTS):
            current = store.get(info, namespace, name)
            if patch is not None:
                new_raw = patched_body(
                    info, current.obj, patch, content_type=content_type, on_patched=on_patched
                )
            else:
                new_raw = body
            obj = check_body(info, namespace, new_raw, url_name=name)
            obj["metadata"]["name"] = name
            if info.namespaced and namespace:
                obj["metadata"]["namespace"] = namespace
            obj = store.schemas.decode_request(info, obj)  # webhooks see it pruned, defaulted
            attrs = request_attributes(
                info,
                "UPDATE",
                namespace=namespace,
                name=name,
                subresource=subresource,
                obj=obj,
                old=current.obj,
                dry_run=dry_run,
                options=review_options(
                    "PatchOptions" if patch is not None else "UpdateOptions", query
                ),
            )
            attrs = await self._mutate(info, attrs, warnings)
            mutated = dict(attrs.obj or {})

            # Unmutated patches stay patches (the store's own patch path); a mutated one
            # commits the mutated object as an update, which is what upstream stores.
            same_patch = patch if patch is not None and mutated == obj else None
            if patch is not None and same_patch is None:
                meta = mutated["metadata"] = dict(mutated.get("metadata") or {})
                # A patch has no precondition unless it sets one; the object is unchanged
                # since it was read (checked below), so its version is the right one.
                meta.setdefault("resourceVersion", current.meta["resourceVersion"])
            commit = functools.partial(
                self._commit_update,
                info,
                namespace,
                name,
                subresource=subresource,
                patch=same_patch,
                content_type=content_type,
                obj=mutated,
            )
            result = commit(dry_run=True)
            await self._validate(info, with_object(attrs, result.obj), warnings)
            if store.find(info, namespace, name) is not current:
                continue  # changed while the webhooks ran: admit the request again
            return result if dry_run else commit(dry_run=False)
        raise ApiError.conflict(kind=info.plural, name=name, group=info.group)

    def _commit_update(
        self,
        info: ResourceInfo,
        namespace: str | None,
        name: str,
        *,
        subresource: str | None,
        patch: Any,
        content_type: str,
        obj: dict[str, Any],
        dry_run: bool,
    ) -> Stored:
        if patch is not None:
            return self.store.patch(
                info,
                namespace,
                name,
                patch,
                content_type=content_type,
                subresource=subresource,
                dry_run=dry_run,
            )
        return self.store.update(
            info, namespace, name, obj, subresource=subresource, dry_run=dry_run
        )

    async def delete(
        self,
        info: ResourceInfo,
        namespace: str | None,
        name: str,
        options: dict[str, Any] | None,
        query: Mapping[str, str],
        warnings: list[str],
    ) -> Stored:
        """DELETE: reviewed with oldObject (no object), then deleted if still unchanged."""
        dry_run = bool(query.get("dryRun"))
        store = self.store
        if not self.active(info):
            return store.delete(info, namespace, name, options=options, dry_run=dry_run)
        for _ in range(_ATTEMPTS):
            current = store.delete(info, namespace, name, options=options, dry_run=True)
            attrs = request_attributes(
                info,
                "DELETE",
                namespace=namespace,
                name=name,
                subresource=None,
                obj=None,
                old=current.obj,
                dry_run=dry_run,
                options=review_options("DeleteOptions", query, options),
            )
            await self._mutate(info, attrs, warnings)
            await self._validate(info, attrs, warnings)
            if store.find(info, namespace, name) is not current:
                continue
            return store.delete(info, namespace, name, options=options, dry_run=dry_run)
        raise ApiError.conflict(kind=info.plural, name=name, group=info.group)

    async def delete_collection(
        self,
        info: ResourceInfo,
        namespace: str | None,
        labels: Matcher,
        fields: Matcher,
        query: Mapping[str, str],
        warnings: list[str],
    ) -> list[Stored]:
        """DELETE on a collection: each object is admitted as its own DELETE, as upstream.

        The first refusal ends the request; objects deleted before it stay deleted
        (upstream deletes in parallel workers and also keeps what was done).
        """
        if not self.active(info):
            return self.store.delete_collection(info, namespace, labels=labels, fields=fields)
        victims = self.store.list_objects(
            info, namespace=namespace, labels=labels, fields=fields
        ).items
        deleted: list[Stored] = []
        for victim in victims:
            if self.store.find(info, victim.meta.get("namespace"), victim.meta["name"]) is None:
                continue  # gone meanwhile (a namespace's contents, another client)
            deleted.append(
                await self.delete(
                    info, victim.meta.get("namespace"), victim.meta["name"], None, query, warnings
                )
            )
        return deleted
