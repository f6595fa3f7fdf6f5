"""The object store: objects, the cluster-wide resourceVersion, history and watchers.

This is where the API server's semantics live, independent of HTTP: the
server parses a request into a call on :class:`Store`, which either returns
the stored object(s) or raises :class:`~ovnctl.sim.errors.ApiError`. What a
write must look like, and what an update may change, is checked in
:mod:`ovnctl.sim.admission`; a custom resource is pruned, defaulted and
validated by its CRD's schema in :mod:`ovnctl.sim.enforcement`; the versions,
events and watch streams are :mod:`ovnctl.sim.objects`.

Invariants the rest of the package relies on:

* Every write (create, update, patch, delete, finalizer-driven removal) takes
  the next value of one cluster-wide counter as its ``resourceVersion`` and
  emits exactly one watch event carrying that version. No-op writes change
  nothing and emit nothing, as upstream.
* Stored object dicts are never mutated after they are stored; a write builds
  a new dict. Events, list snapshots and watchers can therefore share them,
  and their JSON encoding is cached once per version
  (:class:`~ovnctl.sim.objects.Stored`).
* A CRD update that changes how stored objects of its kind decode replaces
  them with their re-decoded form under the same ``resourceVersion`` (no
  write, no event) and ends that kind's watches, as kube-apiserver restarts
  the CRD's storage.
* All methods are synchronous and run on the server's event loop, so each
  write is atomic with respect to reads, watch registration and other writes
  without a lock.
* A bounded history of events is kept per resource. A watch that starts from
  a version older than the oldest retained event is answered ``410 Gone``,
  which is how clients learn they must re-list.
"""

from __future__ import annotations

import base64
import binascii
import collections
import json
import random
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ovnctl.sim.admission import (
    CRD_KEY,
    NS_KEY,
    SERVER_META,
    SUFFIX_ALPHABET,
    carry_over,
    check_body,
    check_name,
    check_namespace_open,
    check_preconditions,
    check_subresource,
    defaults_on_create,
    patched_body,
    spec_changed,
    timestamp,
    validate_crd,
)
from ovnctl.sim.enforcement import SchemaEnforcer
from ovnctl.sim.errors import ApiError
from ovnctl.sim.objects import Event, ListResult, ObjectKey, StorageKey, Stored, Watcher
from ovnctl.sim.resources import Registry, ResourceInfo, resources_from_crd
from ovnctl.sim.selectors import Matcher, match_all
from ovnctl.sim.webhooks import CONFIGURATION_KEYS, prepare_configuration

# Event, ListResult, Stored and Watcher are part of the store's interface (the server uses them).
__all__ = ["DEFAULT_NAMESPACES", "Event", "ListResult", "Store", "Stored", "Watcher"]

# Namespaces every real cluster has from the start.
DEFAULT_NAMESPACES: tuple[str, ...] = ("default", "kube-system", "kube-public", "kube-node-lease")


class Store:
    """All objects of all resources, and everything derived from writing them."""

    def __init__(
        self,
        *,
        history_limit: int = 10_000,
        snapshot_limit: int = 256,
        seed: int | None = None,
        schema_checks: bool = True,
    ) -> None:
        self.registry = Registry.with_builtins()
        # CRD schemas: custom resources are pruned, defaulted and validated on every write.
        self.schemas = SchemaEnforcer(enabled=schema_checks)
        self.resource_version = 0
        self.history_limit = history_limit
        self.snapshot_limit = snapshot_limit
        self._objects: dict[StorageKey, dict[ObjectKey, Stored]] = collections.defaultdict(dict)
        self._history: dict[StorageKey, collections.deque[Event]] = collections.defaultdict(
            collections.deque
        )
        # Per resource: the newest resourceVersion whose event is no longer retained.
        self._compacted: dict[StorageKey, int] = collections.defaultdict(int)
        self._watchers: dict[StorageKey, set[Watcher]] = collections.defaultdict(set)
        self._snapshots: collections.OrderedDict[str, tuple[int, list[Stored]]] = (
            collections.OrderedDict()
        )
        self._random = random.Random(seed)
        for name in DEFAULT_NAMESPACES:
            self.create(self.resource("", "v1", "namespaces"), None, {"metadata": {"name": name}})

    # --- lookups -------------------------------------------------------------------------------

    def resource(self, group: str, version: str, plural: str) -> ResourceInfo:
        info = self.registry.get(group, version, plural)
        if info is None:
            raise ApiError(
                code=404,
                reason="NotFound",
                message="the server could not find the requested resource",
                details={"group": group, "kind": plural},
            )
        return info

    def objects(self, info: ResourceInfo) -> dict[ObjectKey, Stored]:
        """The live mapping of ``(namespace, name)`` to objects (read-only by convention)."""
        return self._objects[info.storage_key]

    def find(self, info: ResourceInfo, namespace: str | None, name: str) -> Stored | None:
        """The object stored as ``namespace/name`` now, or None."""
        return self._objects[info.storage_key].get(self._key(info, namespace, name))

    def get(self, info: ResourceInfo, namespace: str | None, name: str) -> Stored:
        stored = self.find(info, namespace, name)
        if stored is None:
            raise ApiError.not_found(kind=info.plural, name=name, group=info.group)
        return stored

    def _key(self, info: ResourceInfo, namespace: str | None, name: str) -> ObjectKey:
        return (namespace or "", name) if info.namespaced else ("", name)

    def _select(
        self, info: ResourceInfo, namespace: str | None, labels: Matcher, fields: Matcher
    ) -> Iterator[Stored]:
        objects = self._objects[info.storage_key]
        for key in sorted(objects):
            if namespace is not None and key[0] != namespace:
                continue
            stored = objects[key]
            unfiltered = labels is match_all and fields is match_all
            if unfiltered or (labels(stored.obj) and fields(stored.obj)):
                yield stored

    # --- list and watch ------------------------------------------------------------------------

    def list_objects(
        self,
        info: ResourceInfo,
        *,
        namespace: str | None,
        labels: Matcher = match_all,
        fields: Matcher = match_all,
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> ListResult:
        """One page of a list; pages of one list are a consistent snapshot."""
        if continue_token:
            snapshot_id, start = self._decode_continue(continue_token)
            found = self._snapshots.get(snapshot_id)
            if found is None:
                raise ApiError.gone(
                    "The provided continue parameter is too old to display a consistent list "
                    "result. You can start a new list without the continue parameter."
                )
            list_rv, items = found
        else:
            list_rv, items, start = (
                self.resource_version,
                list(self._select(info, namespace, labels, fields)),
                0,
            )
        end = len(items) if not limit or limit <= 0 else min(len(items), start + limit)
        page = items[start:end]
        if end < len(items):
            if continue_token:
                snapshot_id = self._decode_continue(continue_token)[0]
            else:
                snapshot_id = uuid.uuid4().hex
                self._snapshots[snapshot_id] = (list_rv, items)
                while len(self._snapshots) > self.snapshot_limit:
                    self._snapshots.popitem(last=False)
            token = base64.urlsafe_b64encode(
                json.dumps({"id": snapshot_id, "start": end, "rv": list_rv}).encode()
            ).decode()
            return ListResult(page, list_rv, token, len(items) - end)
        return ListResult(page, list_rv, None, None)

    @staticmethod
    def _decode_continue(token: str) -> tuple[str, int]:
        try:
            data = json.loads(base64.urlsafe_b64decode(token.encode()))
            return str(data["id"]), int(data["start"])
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ApiError.bad_request(f"invalid continue token {token!r}") from None

    def watch(
        self,
        info: ResourceInfo,
        *,
        namespace: str | None,
        labels: Matcher = match_all,
        fields: Matcher = match_all,
        since: int | None,
    ) -> tuple[Watcher, list[tuple[str, Stored]]]:
        """Register a watcher; return it and the events it must send first.

        ``since`` of ``None`` (or 0) starts with synthetic ADDED events for every
        matching object, as upstream does for a watch without a resourceVersion.
        """
        key = info.storage_key
        watcher = Watcher(key=key, namespace=namespace, labels=labels, fields=fields)
        initial: list[tuple[str, Stored]] = []
        if not since:
            initial = [("ADDED", s) for s in self._select(info, namespace, labels, fields)]
        else:
            if since < self._compacted[key]:
                raise ApiError.gone(
                    f"too old resource version: {since} ({self._compacted[key] + 1})"
                )
            for event in self._history[key]:
                if event.rv > since:
                    seen = watcher.translate(event)
                    if seen is not None:
                        initial.append(seen)
        self._watchers[key].add(watcher)
        return watcher, initial

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers[watcher.key].discard(watcher)

    def cut_watches(self) -> int:
        """End every open watch stream now; return how many were open."""
        count = 0
        for watchers in self._watchers.values():
            for watcher in watchers:
                watcher.queue.put_nowait(None)
                count += 1
            watchers.clear()
        return count

    def compact(self) -> None:
        """Forget all history and list snapshots: older versions and tokens now get 410."""
        for key in list(self._history):
            self._history[key].clear()
        for key in list(self._objects) + list(self._compacted):
            self._compacted[key] = self.resource_version
        self._snapshots.clear()

    @property
    def watch_count(self) -> int:
        return sum(len(watchers) for watchers in self._watchers.values())

    def _emit(self, key: StorageKey, type_: str, stored: Stored, old: Stored | None) -> None:
        event = Event(stored.rv, type_, stored, old)
        history = self._history[key]
        history.append(event)
        while len(history) > self.history_limit:
            self._compacted[key] = history.popleft().rv
        for watcher in self._watchers.get(key, ()):
            watcher.offer(event)

    def _next_rv(self) -> str:
        self.resource_version += 1
        return str(self.resource_version)

    # --- writes --------------------------------------------------------------------------------

    def _check_namespace(self, info: ResourceInfo, namespace: str | None) -> None:
        if not info.namespaced:
            return
        if not namespace:
            raise ApiError.method_not_allowed(
                f"create of {info.plural} needs a namespace in the URL: "
                f"POST .../namespaces/<namespace>/{info.plural}"
            )
        ns = self._objects[NS_KEY].get(("", namespace))
        check_namespace_open(info, namespace, None if ns is None else ns.meta)

    def create(
        self, info: ResourceInfo, namespace: str | None, body: Any, *, dry_run: bool = False
    ) -> Stored:
        """POST: assign name (generateName), uid, timestamps, generation 1 and a new version."""
        obj = check_body(info, namespace, body, url_name=None)
        meta = obj["metadata"]
        self._check_namespace(info, namespace)
        if not meta.get("name"):
            prefix = meta.get("generateName")
            if not prefix or not isinstance(prefix, str):
                raise ApiError.invalid(
                    "metadata.name: Required value: name or generateName is required",
                    kind=info.kind,
                )
            suffix = "".join(self._random.choice(SUFFIX_ALPHABET) for _ in range(5))
            meta["name"] = f"{prefix}{suffix}"
        name = meta["name"]
        check_name(info, name)
        if info.namespaced:
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        key = self._key(info, namespace, name)
        objects = self._objects[info.storage_key]
        if key in objects:
            raise ApiError.already_exists(kind=info.plural, name=name, group=info.group)
        for server_field in SERVER_META:
            meta.pop(server_field, None)
        if info.status_subresource and not info.builtin:
            obj.pop("status", None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = timestamp()
        meta["generation"] = 1
        defaults_on_create(info, obj)
        if info.storage_key in CONFIGURATION_KEYS:
            prepare_configuration(info.storage_key, obj)
        obj = self.schemas.enforce(info, obj, old=None, subresource=None)
        meta = obj["metadata"]
        if dry_run:
            meta["resourceVersion"] = str(self.resource_version)
            return Stored(obj)
        meta["resourceVersion"] = self._next_rv()
        stored = Stored(obj)
        objects[key] = stored
        self._emit(info.storage_key, "ADDED", stored, None)
        if info.storage_key == CRD_KEY:
            self._serve_crd(name, obj)
        return stored

    def _write(
        self,
        info: ResourceInfo,
        old: Stored,
        new: dict[str, Any],
        *,
        subresource: str | None,
        dry_run: bool = False,
    ) -> Stored:
        """The common tail of update and patch: status rules, generation, version, finalizers."""
        old_obj = old.obj
        old_meta = old.meta
        new = carry_over(info, old_obj, new, subresource=subresource)
        if info.storage_key in CONFIGURATION_KEYS:  # before the no-op test: defaults count
            prepare_configuration(info.storage_key, new)
        new["metadata"]["resourceVersion"] = old_meta["resourceVersion"]
        new = self.schemas.enforce(info, new, old=old_obj, subresource=subresource)
        if new == old_obj:
            return old  # a no-op write: no new version, no event (as upstream)
        if spec_changed(info, old_obj, new):
            new["metadata"]["generation"] = int(old_meta.get("generation", 1)) + 1
        if info.storage_key == CRD_KEY and subresource is None:
            validate_crd(new)
        if dry_run:
            return Stored(new)
        new["metadata"]["resourceVersion"] = self._next_rv()
        stored = Stored(new)
        key = self._key(info, old_meta.get("namespace"), old_meta["name"])
        self._objects[info.storage_key][key] = stored
        self._emit(info.storage_key, "MODIFIED", stored, old)
        if info.storage_key == CRD_KEY:
            self._serve_crd(old_meta["name"], new)
        if new["metadata"].get("deletionTimestamp") and not new["metadata"].get("finalizers"):
            return self._remove(info, key)
        return stored

    def update(
        self,
        info: ResourceInfo,
        namespace: str | None,
        name: str,
        body: Any,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> Stored:
        """PUT: replace the object (or its status), guarded by ``metadata.resourceVersion``."""
        check_subresource(info, subresource)
        obj = check_body(info, namespace, body, url_name=name)
        current = self.get(info, namespace, name)
        wanted = obj["metadata"].get("resourceVersion")
        if wanted in (None, "") and not info.builtin:
            raise ApiError.invalid(
                f'{info.kind}.{info.group} "{name}" is invalid: metadata.resourceVersion: '
                "Invalid value: 0x0: must be specified for an update",
                kind=info.kind,
                name=name,
            )
        check_preconditions(
            info, current.obj, resource_version=wanted or None, uid=obj["metadata"].get("uid")
        )
        return self._write(info, current, obj, subresource=subresource, dry_run=dry_run)

    def patch(
        self,
        info: ResourceInfo,
        namespace: str | None,
        name: str,
        patch: Any,
        *,
        content_type: str,
        subresource: str | None = None,
        dry_run: bool = False,
        on_patched: Callable[[Any], None] | None = None,
    ) -> Stored:
        """PATCH in any of the three dialects; a resourceVersion in the result is a precondition.

        ``on_patched`` sees the patched object first (field validation's strict decode).
        """
        check_subresource(info, subresource)
        current = self.get(info, namespace, name)
        patched = patched_body(
            info, current.obj, patch, content_type=content_type, on_patched=on_patched
        )
        obj = check_body(info, namespace, patched, url_name=name)
        meta = obj["metadata"]
        check_preconditions(
            info,
            current.obj,
            resource_version=meta.get("resourceVersion") or None,
            uid=meta.get("uid"),
        )
        return self._write(info, current, obj, subresource=subresource, dry_run=dry_run)

    def delete(
        self,
        info: ResourceInfo,
        namespace: str | None,
        name: str,
        *,
        options: dict[str, Any] | None = None,
        dry_run: bool = False,
    ) -> Stored:
        """DELETE: mark for deletion while finalizers remain, else remove (DELETED event)."""
        current = self.get(info, namespace, name)
        preconditions = (options or {}).get("preconditions") or {}
        if preconditions.get("uid") and preconditions["uid"] != current.meta.get("uid"):
            raise ApiError(
                code=409,
                reason="Conflict",
                message=(
                    f"Precondition failed: UID in precondition: {preconditions['uid']}, "
                    f"UID in object meta: {current.meta.get('uid')}"
                ),
            )
        check_preconditions(
            info, current.obj, resource_version=preconditions.get("resourceVersion"), uid=None
        )
        if dry_run:
            return current
        key = self._key(info, namespace, name)
        if info.storage_key == NS_KEY:
            return self._delete_namespace(info, current)
        if current.meta.get("finalizers"):
            if current.meta.get("deletionTimestamp"):
                return current
            obj = dict(current.obj)
            obj["metadata"] = {
                **current.meta,
                "deletionTimestamp": timestamp(),
                "deletionGracePeriodSeconds": 0,
                "resourceVersion": self._next_rv(),
            }
            stored = Stored(obj)
            self._objects[info.storage_key][key] = stored
            self._emit(info.storage_key, "MODIFIED", stored, current)
            return stored
        return self._remove(info, key)

    def _remove(self, info: ResourceInfo, key: ObjectKey) -> Stored:
        objects = self._objects[info.storage_key]
        current = objects.pop(key)
        obj = dict(current.obj)
        obj["metadata"] = {**current.meta, "resourceVersion": self._next_rv()}
        stored = Stored(obj)
        self._emit(info.storage_key, "DELETED", stored, current)
        if info.storage_key == CRD_KEY:
            self._drop_crd(key[1])
        if key[0]:
            self._maybe_finish_namespace(key[0])
        return stored

    def vanish(self, info: ResourceInfo, namespace: str | None, name: str) -> None:
        """Fault: drop an object without a DELETED event, as watchers miss it across a re-list.

        A client whose watch broke, and which re-listed after a 410, never
        hears of objects deleted in between (Kopf reports nothing for them):
        its cache keeps a ghost. Tests use this to prove ghosts are found.
        """
        self._objects[info.storage_key].pop(self._key(info, namespace, name))

    def _serve_crd(self, crd_name: str, crd: dict[str, Any]) -> None:
        """Serve a created or updated CRD's resources, with its schemas.

        Stored objects read as kube-apiserver decodes them, pruned and defaulted
        by the current schema; a schema change that alters some stored object
        ends its resource's watches, as kube-apiserver restarts a CRD's storage,
        so watchers re-list and see the objects as they now read.
        """
        infos = resources_from_crd(crd)
        self.registry.set_crd(crd_name, infos)
        if not self.schemas.set_crd(crd_name, crd) or not infos:
            return
        key = infos[0].storage_key
        objects = self._objects[key]
        changed = False
        for object_key, stored in list(objects.items()):
            decoded = self.schemas.decode(key, stored.obj)
            if decoded is not stored.obj:
                objects[object_key] = Stored(decoded)  # same resourceVersion: no write happened
                changed = True
        if changed:
            for watcher in self._watchers.pop(key, set()):
                watcher.queue.put_nowait(None)

    def _drop_crd(self, crd_name: str) -> None:
        """A deleted CRD takes its objects with it; its watchers see them go, then the end."""
        self.schemas.drop_crd(crd_name)
        infos = self.registry.remove_crd(crd_name)
        if not infos:
            return
        storage_key = infos[0].storage_key
        if self.registry.versions_of(storage_key):
            return  # another CRD still serves the same group/plural
        for key in sorted(self._objects[storage_key]):
            self._remove(infos[0], key)
        for watcher in self._watchers.pop(storage_key, set()):
            watcher.queue.put_nowait(None)

    def _delete_namespace(self, info: ResourceInfo, current: Stored) -> Stored:
        """Namespaces terminate: contents are deleted, then the namespace once they are gone.

        Upstream's namespace controller does this asynchronously with a
        ``kubernetes`` finalizer in ``spec.finalizers``; here it happens within
        the DELETE request, and the namespace stays ``Terminating`` only while
        objects with finalizers remain in it.
        """
        name = current.meta["name"]
        if not current.meta.get("deletionTimestamp"):
            obj = dict(current.obj)
            obj["metadata"] = {
                **current.meta,
                "deletionTimestamp": timestamp(),
                "resourceVersion": self._next_rv(),
            }
            obj["status"] = {**(current.obj.get("status") or {}), "phase": "Terminating"}
            current_new = Stored(obj)
            self._objects[NS_KEY][("", name)] = current_new
            self._emit(NS_KEY, "MODIFIED", current_new, current)
            seen: set[StorageKey] = set()
            for resource in list(self.registry.all()):
                if not resource.namespaced or resource.storage_key in seen:
                    continue
                seen.add(resource.storage_key)
                for key in sorted(k for k in self._objects[resource.storage_key] if k[0] == name):
                    if key in self._objects[resource.storage_key]:
                        self.delete(resource, name, key[1])
            current = current_new
        ns = self._objects[NS_KEY].get(("", name))
        if ns is None:
            return current  # the last object in it was removed, and the namespace with it
        return self._maybe_finish_namespace(name) or ns

    def _maybe_finish_namespace(self, name: str) -> Stored | None:
        ns = self._objects[NS_KEY].get(("", name))
        if ns is None or not ns.meta.get("deletionTimestamp") or ns.meta.get("finalizers"):
            return None
        for resource in self.registry.all():
            if resource.namespaced and any(
                k[0] == name for k in self._objects[resource.storage_key]
            ):
                return None
        info = self.resource("", "v1", "namespaces")
        return self._remove(info, ("", name))

    def delete_collection(
        self,
        info: ResourceInfo,
        namespace: str | None,
        *,
        labels: Matcher = match_all,
        fields: Matcher = match_all,
    ) -> list[Stored]:
        """DELETE on a collection: delete every matching object, one event each."""
        victims = list(self._select(info, namespace, labels, fields))
        return [
            self.delete(info, v.meta.get("namespace"), v.meta["name"])
            for v in victims
            if self._key(info, v.meta.get("namespace"), v.meta["name"])
            in self._objects[info.storage_key]
        ]

    def all_objects(self) -> Iterable[tuple[StorageKey, Stored]]:
        for key, objects in self._objects.items():
            for stored in objects.values():
                yield key, stored
