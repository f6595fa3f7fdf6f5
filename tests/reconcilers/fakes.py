"""Test doubles for the reconcilers: a recording writer and caches fed from dicts.

:class:`FakeWriter` implements :class:`ovnctl.k8s.writer.Writer` over an
in-memory store: every call is recorded with its body, in order, and a chosen
call can be made to fail with any :class:`~ovnctl.k8s.api.ApiError` (a
Conflict, a NotFound, a 5xx) or be held open until the test lets it go, to
reproduce a race deterministically (no sleeps, no threads).

:class:`FedCaches` are the controller's real caches over the real indexes
(:func:`ovnctl.k8s.informers.build_indexes`), filled object by object through
the same :class:`~ovnctl.k8s.informers.IndexFeed` and index functions the
informers use, from plain object dicts: no server and no reflector thread.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import itertools
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

from ovnctl.caches import (
    KubevirtCache,
    NadCache,
    PodCache,
    SubnetCache,
    index_by_namespaced_name,
    index_nad_by_key,
    index_pod_by_key,
    index_pod_by_vm,
    index_pod_without_primary,
    index_subnet_by_name,
    index_subnet_by_namespace,
    index_subnet_by_provider,
    index_subnet_default,
)
from ovnctl.k8s.api import AlreadyExists, ApiError, NotFound, Resource, Transient
from ovnctl.k8s.informers import (
    NADS_BY_KEY,
    PODS_BY_KEY,
    PODS_BY_VM,
    PODS_WITHOUT_PRIMARY,
    SUBNETS_BY_NAME,
    SUBNETS_BY_NAMESPACE,
    SUBNETS_BY_PROVIDER,
    SUBNETS_DEFAULT,
    VMIS,
    VMS,
    IndexFeed,
    build_indexes,
)
from ovnctl.k8s.resources import EVENTS
from ovnctl.ovn import Change, ConvergeReport, Drift, NullNorthbound, PortSpec, SwitchSpec

__all__ = [
    "Call",
    "FakeNorthbound",
    "FakeWriter",
    "FedCaches",
    "Hold",
    "api_error",
    "stamp",
]

T0 = "2026-01-01T10:00:00Z"
"""The creation time :func:`stamp` gives an object that names none."""

_STATUS = {NotFound: 404, AlreadyExists: 409}


def api_error(cls: type[ApiError], *, status: int | None = None, verb: str = "") -> ApiError:
    """An API failure as :class:`~ovnctl.k8s.api.KubeApi` raises it (``Transient`` = 503)."""
    code = status if status is not None else _STATUS.get(cls, 503 if cls is Transient else 409)
    return cls(status=code, reason=cls.__name__, message="injected", verb=verb, path="/fake")


def stamp(body: Mapping[str, Any], **metadata: Any) -> dict[str, Any]:
    """``body`` as the API server returns it: uid, creationTimestamp and generation filled in."""
    out = copy.deepcopy(dict(body))
    meta = out.setdefault("metadata", {})
    meta.setdefault("uid", f"uid-{meta.get('namespace', '')}-{meta['name']}")
    meta.setdefault("creationTimestamp", T0)
    meta.setdefault("generation", 1)
    meta.setdefault("resourceVersion", "1")
    meta.update(metadata)
    return out


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    """One request the code under test made (recorded even when it was made to fail)."""

    verb: str
    """``get``, ``list``, ``create``, ``patch`` or ``delete``."""
    resource: Resource
    name: str | None = None
    namespace: str | None = None
    body: Any = None
    subresource: str | None = None
    read_back: bool = True
    failed: str = ""
    """The injected error's class name, when the call was made to fail."""

    @property
    def plural(self) -> str:
        return self.resource.plural


@dataclasses.dataclass
class _Fault:
    verb: str
    resource: Resource | None
    name: str | None
    error: ApiError
    times: int


class Hold:
    """A call held open: :attr:`entered` is set when it arrives, :meth:`release` lets it go."""

    def __init__(self, verb: str, resource: Resource | None) -> None:
        self.verb = verb
        self.resource = resource
        self.entered = asyncio.Event()
        self._go = asyncio.Event()

    def release(self) -> None:
        self._go.set()

    async def wait(self) -> None:
        self.entered.set()
        await self._go.wait()


_Key = tuple[str, str, str]  # (plural, namespace or "", name)


class FakeWriter:
    """An in-memory API server for the :class:`~ovnctl.k8s.writer.Writer` verbs.

    Objects live by (resource, namespace, name); ``create`` of an existing one
    answers AlreadyExists, ``get``/``patch``/``delete`` of a missing one
    NotFound, as the API server would. Patches are merged like JSON merge
    patches (``None`` deletes a key).
    """

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.objects: dict[_Key, dict[str, Any]] = {}
        self._faults: list[_Fault] = []
        self._holds: list[Hold] = []
        self._names = itertools.count(1)
        self.on_call: Callable[[Call], None] | None = None
        """Called with each call before it is answered (to look at other state then)."""

    # -- set-up and injection ---------------------------------------------------------

    def seed(self, resource: Resource, body: Mapping[str, Any]) -> None:
        """Store ``body`` as if it had been created earlier (not recorded as a call)."""
        meta = body["metadata"]
        key = (resource.plural, meta.get("namespace") or "", meta["name"])
        self.objects[key] = copy.deepcopy(dict(body))

    def remove(self, resource: Resource, name: str, namespace: str | None = None) -> None:
        """Delete behind the code's back (someone else deleted it)."""
        self.objects.pop((resource.plural, namespace or "", name), None)

    def fail(
        self,
        verb: str,
        error: ApiError | type[ApiError],
        *,
        resource: Resource | None = None,
        name: str | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` matching calls raise ``error`` (after being recorded)."""
        raised = error if isinstance(error, ApiError) else api_error(error, verb=verb)
        self._faults.append(_Fault(verb, resource, name, raised, times))

    def hold(self, verb: str, resource: Resource | None = None) -> Hold:
        """The next matching call waits (after being recorded) until ``release()``."""
        held = Hold(verb, resource)
        self._holds.append(held)
        return held

    # -- reading what happened ----------------------------------------------------------

    def calls_to(self, verb: str | None = None, resource: Resource | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if (verb is None or c.verb == verb) and (resource is None or c.resource == resource)
        ]

    def writes(self) -> list[Call]:
        """Every call but Events and reads: what the code wrote to the cluster."""
        return [c for c in self.calls if c.verb not in ("get", "list") and c.resource != EVENTS]

    def events(self) -> list[dict[str, Any]]:
        """The Event bodies posted, in order."""
        return [c.body for c in self.calls_to("create", EVENTS)]

    def reasons(self, name: str | None = None) -> list[str]:
        """The reasons of the Events posted (about object ``name`` only, when given)."""
        return [
            e["reason"]
            for e in self.events()
            if name is None or e["involvedObject"]["name"] == name
        ]

    def get_object(
        self, resource: Resource, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        return self.objects.get((resource.plural, namespace or "", name))

    # -- the Writer verbs ---------------------------------------------------------------

    async def _enter(self, call: Call) -> None:
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        for held in list(self._holds):
            if held.verb == call.verb and held.resource in (None, call.resource):
                self._holds.remove(held)
                await held.wait()
                break
        for fault in self._faults:
            if (
                fault.times > 0
                and fault.verb == call.verb
                and fault.resource in (None, call.resource)
                and fault.name in (None, call.name)
            ):
                fault.times -= 1
                self.calls[self.calls.index(call)] = dataclasses.replace(
                    call, failed=type(fault.error).__name__
                )
                raise fault.error
        await asyncio.sleep(0)  # a request is a suspension point, as a real one is

    def _missing(self, call: Call) -> NotFound:
        return NotFound(
            status=404, reason="NotFound", message=f"{call.name} not found", verb=call.verb,
            path=call.resource.path(namespace=call.namespace, name=call.name),
        )  # fmt: skip

    async def get(self, resource: Resource, *, name: str, namespace: str | None = None) -> Any:
        call = Call("get", resource, name, namespace)
        await self._enter(call)
        found = self.objects.get((resource.plural, namespace or "", name))
        if found is None:
            raise self._missing(call)
        return copy.deepcopy(found)

    async def list_pages(
        self, resource: Resource, *, namespace: str | None = None, limit: int = 500
    ) -> AsyncIterator[list[dict[str, Any]]]:
        await self._enter(Call("list", resource, None, namespace, body={"limit": limit}))
        items = [
            copy.deepcopy(body)
            for (plural, ns, _), body in sorted(self.objects.items())
            if plural == resource.plural and (namespace is None or ns == namespace)
        ]
        for start in range(0, max(len(items), 1), limit):
            yield items[start : start + limit]

    async def create(
        self,
        resource: Resource,
        body: Mapping[str, Any],
        *,
        namespace: str | None = None,
        read_back: bool = True,
    ) -> Any:
        stored = copy.deepcopy(dict(body))
        meta = stored.setdefault("metadata", {})
        if "name" not in meta:
            meta["name"] = f"{meta.get('generateName', 'obj-')}{next(self._names)}"
        namespace = namespace or meta.get("namespace")
        call = Call("create", resource, meta["name"], namespace, copy.deepcopy(dict(body)))
        await self._enter(call)
        key = (resource.plural, namespace or "", meta["name"])
        if key in self.objects:
            raise AlreadyExists(
                status=409, reason="AlreadyExists", message=f"{meta['name']} exists",
                verb="create", path=resource.path(namespace=namespace),
            )  # fmt: skip
        self.objects[key] = stored
        return copy.deepcopy(stored) if read_back else None

    async def patch(
        self,
        resource: Resource,
        *,
        name: str,
        body: Any,
        namespace: str | None = None,
        subresource: str | None = None,
        read_back: bool = True,
    ) -> Any:
        call = Call("patch", resource, name, namespace, copy.deepcopy(body), subresource, read_back)
        await self._enter(call)
        key = (resource.plural, namespace or "", name)
        found = self.objects.get(key)
        if found is None:
            raise self._missing(call)
        self.objects[key] = _merge(found, body)
        return copy.deepcopy(self.objects[key]) if read_back else None

    async def delete(
        self,
        resource: Resource,
        *,
        name: str,
        namespace: str | None = None,
        uid: str | None = None,
    ) -> Any:
        call = Call("delete", resource, name, namespace, {"uid": uid} if uid else None)
        await self._enter(call)
        if self.objects.pop((resource.plural, namespace or "", name), None) is None:
            raise self._missing(call)
        return None


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out


class FakeNorthbound:
    """An enabled northbound that records port ensures and deletions in ``log``.

    ``log`` may be shared with a :class:`FakeWriter` listener (``on_call``) to check
    the order of NB transactions against API writes. Everything else is the
    pure-IPAM stand-in's.
    """

    def __init__(self, log: list[str] | None = None) -> None:
        self.log: list[str] = log if log is not None else []
        self.ports: dict[str, PortSpec] = {}
        self._null = NullNorthbound()

    connected = True

    def describe(self) -> str:
        return "fake northbound"

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def ping(self) -> bool:
        return True

    async def ensure_subnet(self, switch: SwitchSpec) -> Change:
        return await self._null.ensure_subnet(switch)

    async def delete_subnet(self, name: str) -> Change:
        return await self._null.delete_subnet(name)

    async def converge(
        self, switches: Iterable[SwitchSpec], ports: Iterable[PortSpec]
    ) -> ConvergeReport:
        return await self._null.converge(switches, ports)

    def watch_drift(self, sink: Callable[[Drift], None]) -> None:
        return None

    async def repair(
        self, switches: Iterable[SwitchSpec], ports: Iterable[PortSpec]
    ) -> ConvergeReport:
        return await self._null.repair(switches, ports)

    @property
    def enabled(self) -> bool:
        return True

    async def ensure_port(self, port: PortSpec) -> Change:
        self.log.append(f"ensure_port {port.name}")
        changed = self.ports.get(port.name) != port
        self.ports[port.name] = port
        return Change.UPDATED if changed else Change.UNCHANGED

    async def delete_port(self, name: str) -> Change:
        self.log.append(f"delete_port {name}")
        return Change.DELETED if self.ports.pop(name, None) else Change.UNCHANGED


# -- caches fed from dicts ------------------------------------------------------------------

_KINDS = {
    "Subnet": ((SUBNETS_BY_NAME, index_subnet_by_name),
               (SUBNETS_BY_PROVIDER, index_subnet_by_provider),
               (SUBNETS_BY_NAMESPACE, index_subnet_by_namespace),
               (SUBNETS_DEFAULT, index_subnet_default)),
    "NetworkAttachmentDefinition": ((NADS_BY_KEY, index_nad_by_key),),
    "Pod": ((PODS_BY_KEY, index_pod_by_key),
            (PODS_BY_VM, index_pod_by_vm),
            (PODS_WITHOUT_PRIMARY, index_pod_without_primary)),
    "VirtualMachine": ((VMS, index_by_namespaced_name),),
    "VirtualMachineInstance": ((VMIS, index_by_namespaced_name),),
}  # fmt: skip
"""Per kind, the indexes and index functions :func:`ovnctl.k8s.informers.build_informers`
(Subnets: ``build_subnet_feed``) gives its informer."""


class FedCaches:
    """The controller's caches, filled from object dicts as the watches would fill them."""

    def __init__(self) -> None:
        self.indexes = build_indexes()
        ix = self.indexes
        self.subnets = SubnetCache(
            by_name=ix[SUBNETS_BY_NAME],
            by_provider=ix[SUBNETS_BY_PROVIDER],
            by_namespace=ix[SUBNETS_BY_NAMESPACE],
            default=ix[SUBNETS_DEFAULT],
        )
        self.nads = NadCache(by_key=ix[NADS_BY_KEY])
        self.pods = PodCache(
            by_key=ix[PODS_BY_KEY], by_vm=ix[PODS_BY_VM], without_primary=ix[PODS_WITHOUT_PRIMARY]
        )
        self.kubevirt = KubevirtCache(vms=ix[VMS], vmis=ix[VMIS])
        self.changes: list[tuple[str, str, tuple[str, str]]] = []
        """(event kind, object kind, (namespace, name)) of every change fed, in order."""
        self._feeds = {
            kind: IndexFeed(
                indexers=[(ix[name], fn) for name, fn in indexers],
                on_change=self._recorder(kind),
            )
            for kind, indexers in _KINDS.items()
        }

    def _recorder(self, kind: str) -> Callable[[str, tuple[str, str], Any], None]:
        def record(event: str, key: tuple[str, str], extra: Any) -> None:
            self.changes.append((event, kind, key))

        return record

    def put(self, *bodies: Mapping[str, Any]) -> None:
        """Each object added or modified (an ADDED/MODIFIED watch event), as given."""
        for body in bodies:
            feed = self._feeds[body["kind"]]
            feed.apply_event("MODIFIED", feed.reduce(body))

    def delete(self, kind: str, name: str, namespace: str = "") -> None:
        """The object is gone (a DELETED watch event)."""
        feed = self._feeds[kind]
        body = {"kind": kind, "metadata": {"name": name, "namespace": namespace}}
        feed.apply_event("DELETED", feed.reduce(body))
