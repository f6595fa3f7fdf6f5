"""Kopf runs the Subnet kind (one LIST+WATCH, thin handlers) and the admission webhooks.

Subnets are the kind ovnctl owns, few (hundreds to a few thousand) and
changed by people, so they are watched by Kopf, as an operator is expected to
be: one ``@kopf.on.event`` handler feeds each event into the Subnet indexes
(:class:`~ovnctl.k8s.informers.IndexFeed`, the same pure index functions the
reflectors use) and the feed tells the controller's
:class:`~ovnctl.k8s.informers.WatchHooks`, which only enqueue keys. The
reconcile stays in the worker pool. The bulk kinds (pods, NADs, VMs) stay on
reflectors: see ``docs/architecture.md`` for why and the benchmark.

What Kopf is *not* allowed to do here, and how:

- no ``@kopf.index``: its readiness gate makes start-up quadratic in objects;
- no change handlers (``on.create/update/delete/resume``): those write
  ``last-handled-configuration`` and progress annotations, and Kopf's own
  finalizer, from whichever replica sees the object (the standby too). Only
  ``on.event`` and ``on.validate`` are registered, and neither writes;
- no peering (``standalone``), no Event posting (``posting.enabled = False``:
  ovnctl posts its own Events through its fenced writer), no managed webhook
  configuration (the manifests own it): the standby's Kopf writes nothing;
- logged in with ovnctl's own connection (same kubeconfig or service
  account), through ``@kopf.on.login``.

Knowing that every Subnet is in the cache (readiness) without the index gate:
Kopf's watch stream lists first and then yields ``Bookmark.LISTED`` before it
watches (``kopf/_cogs/clients/watching.py``), but the handlers of the listed
objects run later, in per-object workers. :class:`ListingTracker` wraps the
stream to note the names listed and the end of the listing, and the handler
notes each name it handled; the feed is ``listed`` once the listing ended and
every listed name was handled. That is O(1) per object, where Kopf's index
gate wakes every waiting worker per object. The same wrapper gives re-lists
(after ``410 Gone``) a diff: Subnets absent from the new listing are reported
deleted, which Kopf alone never does.

The same webhook server reviews IPPools (``/validate-ippool``). A
``@kopf.on.validate`` handler puts its kind in Kopf's *webhook* resources
only: Kopf watches the kinds of its indexing, watching, spawning and changing
handlers (``revise_resources`` in ``kopf/_core/reactor/observation.py``), so
IPPools stay on ovnctl's own reflector, listed and watched once. The one
trace a review leaves in Kopf is a small per-object memo for UPDATEs (Kopf's
``Memories``), which only a watch would forget: one entry per IPPool ever
updated while the process runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.metadata
import logging
import threading
from collections.abc import AsyncIterator, Callable, Collection, Mapping
from typing import Any

import kopf
import kubernetes.client
from kopf._cogs.clients import watching as _kopf_watching
from kopf._cogs.structs import references as _kopf_references

from ovnctl.k8s.api import Resource
from ovnctl.k8s.informers import IndexFeed
from ovnctl.k8s.resources import IPPOOLS, SUBNETS

__all__ = [
    "AdmissionVerdict",
    "KopfSubnets",
    "ListingTracker",
    "Reviewer",
    "WebhookSettings",
    "kopf_user_agent",
]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class AdmissionVerdict:
    """What a review concluded: a denial message (None: admitted) and warnings."""

    denial: str | None = None
    warnings: tuple[str, ...] = ()


Reviewer = Callable[[str, Mapping[str, Any] | None, Mapping[str, Any] | None], AdmissionVerdict]
"""``(operation, old, new) -> verdict``: reads caches only, never the API server."""


@dataclasses.dataclass(frozen=True, slots=True)
class WebhookSettings:
    """Where the admission webhook listens, and with which certificate."""

    port: int = 8443
    addr: str | None = None
    """None: every interface."""
    certfile: str | None = None
    pkeyfile: str | None = None
    """The serving certificate and key (cert-manager's Secret, mounted). Kopf re-reads
    them when they change, so a renewed certificate needs no restart."""
    insecure: bool = False
    """Plain HTTP: tests only (an API server calls webhooks over HTTPS)."""


class ListingTracker:
    """When has every Subnet of Kopf's initial listing reached the cache?"""

    def __init__(self, *, feed: IndexFeed) -> None:
        self._feed = feed
        self._listing: set[str] | None = None
        """Names in the listing in progress (None: no listing in progress)."""
        self._first: set[str] | None = None
        """Names of the first listing not yet handled (None until it ended)."""
        self._handled: set[str] = set()
        self.listings = 0

    # Called by the wrapped watch stream (Kopf's watcher task).
    def listed_object(self, name: str) -> None:
        if self._listing is None:
            self._listing = set()
        self._listing.add(name)

    def listing_done(self) -> None:
        names = self._listing or set()
        self._listing = None
        self.listings += 1
        if self.listings == 1:
            self._first = names - self._handled
            self._handled.clear()
            self._check()
        else:
            # A re-list (after 410 Gone): whatever it no longer shows was deleted
            # while the watch was away.
            self._feed.forget_missing({("", name) for name in names})

    # Called by the handler, after the object is in the cache.
    def handled(self, name: str) -> None:
        if self._first is None:
            if self.listings == 0:
                self._handled.add(name)
            return
        self._first.discard(name)
        self._check()

    def _check(self) -> None:
        if self._first is not None and not self._first:
            self._first = None
            self._feed.listed.set()


class _DenialsAreNotErrors(logging.Filter):
    """Kopf logs each refused review as an ERROR ("Webhook ... failed permanently"); a
    user's typo is not an operator error: log it at INFO, as the denial it is."""

    PREFIXES = {
        "Webhook 'validate-subnet' failed permanently: ": "Subnet admission denied: ",
        "Webhook 'validate-ippool' failed permanently: ": "IPPool admission denied: ",
    }

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.ERROR:
            return True
        message = record.getMessage()
        for prefix, replacement in self.PREFIXES.items():
            if message.startswith(prefix):
                record.msg = replacement + message.removeprefix(prefix)
                record.args = ()
                record.levelno, record.levelname = logging.INFO, "INFO"
                break
        return True


_DENIAL_FILTER = _DenialsAreNotErrors()


class _NotKopfsSignals(logging.Filter):
    """Kopf warns that it cannot install signal handlers off the main thread (the demo,
    tests); signals are ovnctl's business (``Controller.handle_signals``), not Kopf's."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("OS signals are ignored")


_SIGNALS_FILTER = _NotKopfsSignals()


_trackers: dict[int, ListingTracker] = {}
"""By ``id()`` of the Kopf settings each operator runs with."""
_install_lock = threading.Lock()


def _install_listing_hook() -> None:
    """Wrap Kopf's ``infinite_watch`` once per process (it is looked up at each call)."""
    with _install_lock:
        original = _kopf_watching.infinite_watch
        if getattr(original, "ovnctl_wrapped", False):
            return

        async def infinite_watch(**kwargs: Any) -> AsyncIterator[Any]:
            tracker = _trackers.get(id(kwargs.get("settings")))
            resource = kwargs.get("resource")
            ours = (getattr(resource, "group", None), getattr(resource, "plural", None))
            if tracker is None or ours != (SUBNETS.group, SUBNETS.plural):
                async for event in original(**kwargs):
                    yield event
                return
            async for event in original(**kwargs):
                if event is _kopf_watching.Bookmark.LISTED:
                    tracker.listing_done()
                elif isinstance(event, Mapping) and event.get("type") is None:
                    name = ((event.get("object") or {}).get("metadata") or {}).get("name")
                    if isinstance(name, str):
                        tracker.listed_object(name)
                yield event

        infinite_watch.ovnctl_wrapped = True  # type: ignore[attr-defined]
        _kopf_watching.infinite_watch = infinite_watch


def kopf_user_agent(identity: str | None = None) -> str:
    """``kopf/<version>``, as Kopf sends by default, naming the replica when it has an
    identity, so an audit log tells Kopf's reads from ovnctl's and the replicas apart."""
    agent = f"kopf/{importlib.metadata.version('kopf')}"
    return f"{agent} ({identity})" if identity else agent


@dataclasses.dataclass(frozen=True)
class _Connection(kopf.ConnectionInfo):
    """Kopf's credentials plus a User-Agent (Kopf sets its own only when none is given)."""

    user_agent: str | None = None

    def as_http_headers(self) -> dict[str, str]:
        headers = dict(super().as_http_headers())
        if self.user_agent:
            headers["User-Agent"] = self.user_agent
        return headers


def _connection(
    configuration: kubernetes.client.Configuration, *, user_agent: str | None = None
) -> kopf.ConnectionInfo:
    """Kopf's credentials from the official client's configuration (kubeconfig or
    in-cluster), so Kopf reaches the same server as the rest of ovnctl, as the same user."""
    hook = getattr(configuration, "refresh_api_key_hook", None)
    if hook is not None:
        hook(configuration)  # in-cluster: re-read the projected service-account token
    api_key = dict(configuration.api_key or {})
    authorization = str(api_key.get("authorization") or api_key.get("BearerToken") or "")
    prefix = dict(configuration.api_key_prefix or {}).get("authorization")
    scheme, _, token = authorization.partition(" ")
    if not token:
        scheme, token = (prefix or "Bearer"), authorization
    return _Connection(
        user_agent=user_agent,
        server=str(configuration.host),
        ca_path=configuration.ssl_ca_cert or None,
        insecure=not configuration.verify_ssl,
        scheme=scheme if token else None,
        token=token or None,
        username=configuration.username or None,
        password=configuration.password or None,
        certificate_path=configuration.cert_file or None,
        private_key_path=configuration.key_file or None,
    )


def _serve_reviews(
    registry: kopf.OperatorRegistry, resource: Resource, handler_id: str, reviewer: Reviewer
) -> None:
    """Serve CREATE and UPDATE reviews of ``resource`` with ``reviewer`` (a validate handler)."""

    @kopf.on.validate(
        resource.group,
        resource.version,
        resource.plural,
        id=handler_id,
        operations=["CREATE", "UPDATE"],
        registry=registry,
    )
    async def validate(
        *,
        warnings: list[str],
        operation: str | None = None,
        old: Mapping[str, Any] | None = None,
        new: Mapping[str, Any] | None = None,
        **_: Any,
    ) -> None:
        _apply(reviewer(str(operation or ""), old, new), warnings)


def _apply(verdict: AdmissionVerdict, warnings: list[str]) -> None:
    """A verdict as Kopf expects it: warnings appended, a denial raised (422)."""
    warnings.extend(verdict.warnings)
    if verdict.denial is not None:
        raise kopf.AdmissionError(verdict.denial, code=422)


class KopfSubnets:
    """The Kopf operator for Subnets, run on the controller's event loop."""

    def __init__(
        self,
        *,
        configuration: kubernetes.client.Configuration,
        feed: IndexFeed,
        reviewer: Reviewer | None = None,
        ippool_reviewer: Reviewer | None = None,
        webhook: WebhookSettings | None = None,
        identity: str | None = None,
    ) -> None:
        self.feed = feed
        self.user_agent = kopf_user_agent(identity)
        self.tracker = ListingTracker(feed=feed)
        self.settings = kopf.OperatorSettings()
        self.registry = kopf.OperatorRegistry()
        self._configuration = configuration
        self._reviewer = reviewer
        self._ippool_reviewer = ippool_reviewer
        self._webhook = webhook
        self._tasks: Collection[asyncio.Task[Any]] = ()
        self._stop: asyncio.Future[None] | None = None
        self._insights = _kopf_references.Insights()
        self._discovery: asyncio.Task[None] | None = None
        self._configure()
        self._register()

    # -- configuration -------------------------------------------------------------

    def _configure(self) -> None:
        settings = self.settings
        settings.peering.standalone = True  # the Lease election is the authority
        settings.peering.mandatory = False
        settings.posting.enabled = False  # Events go through ovnctl's fenced writer
        settings.scanning.disabled = True  # Subnets only; no CRD/namespace watching
        settings.process.ultimate_exiting_timeout = None  # never SIGKILL our process
        settings.watching.server_timeout = 300
        settings.watching.client_timeout = 330
        if self._webhook is not None and self._reviewer is not None:
            settings.admission.server = kopf.WebhookServer(
                addr=self._webhook.addr,
                port=self._webhook.port,
                certfile=self._webhook.certfile,
                pkeyfile=self._webhook.pkeyfile,
                insecure=self._webhook.insecure,
            )
            settings.admission.managed = None  # the manifests own the configuration

    def _register(self) -> None:
        registry = self.registry
        configuration = self._configuration

        @kopf.on.login(registry=registry)
        def login(**_: Any) -> kopf.ConnectionInfo:
            return _connection(configuration, user_agent=self.user_agent)

        # Async handlers: Kopf runs sync ones in a thread pool, and the indexes are
        # only ever touched on the event loop.
        @kopf.on.event(SUBNETS.group, SUBNETS.version, SUBNETS.plural, registry=registry)
        async def subnet_event(event: Mapping[str, Any], **_: Any) -> None:
            await self.handle(event)

        reviewer = self._reviewer
        if reviewer is None or self._webhook is None:
            return  # Kopf refuses to run validation handlers without a server

        _serve_reviews(registry, SUBNETS, "validate-subnet", reviewer)
        if self._ippool_reviewer is not None:
            # Served, not watched: see the module docstring.
            _serve_reviews(registry, IPPOOLS, "validate-ippool", self._ippool_reviewer)

    # -- the handler ------------------------------------------------------------

    async def handle(self, event: Mapping[str, Any]) -> None:
        """One Kopf event into the Subnet indexes: never blocks, never calls the API."""
        body = event.get("object") or {}
        kind = event.get("type")
        name = str((body.get("metadata") or {}).get("name") or "")
        try:
            # Kopf's listing events have type None: an ADDED for the cache.
            self.feed.apply_event(str(kind or "ADDED"), self.feed.reduce(body))
        finally:
            self.tracker.handled(name)

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Spawn Kopf's tasks on this loop (call before installing signal handlers:
        Kopf installs its own on the main thread, which the caller then overrides)."""
        _install_listing_hook()
        _trackers[id(self.settings)] = self.tracker
        logging.getLogger("kopf.objects").addFilter(_DENIAL_FILTER)  # once: filters are a set
        logging.getLogger("kopf._core.reactor.running").addFilter(_SIGNALS_FILTER)
        loop = asyncio.get_running_loop()
        self._stop = loop.create_future()
        # spawn_tasks, not kopf.operator(): operator() cancels every task of the loop
        # created after it started ("hung" tasks), ovnctl's worker pools included.
        self._tasks = await kopf.spawn_tasks(
            registry=self.registry,
            settings=self.settings,
            insights=self._insights,
            clusterwide=True,
            standalone=True,
            stop_flag=self._stop,
        )
        self._discovery = loop.create_task(self._check_served(), name="ovnctl-subnets-served")

    async def _check_served(self) -> None:
        # Kopf discovers the served resources once (scanning is off: it would LIST+WATCH
        # every CRD). Without the Subnet CRD it never watches Subnets and this replica
        # never becomes ready: say why, instead of leaving "starting" unexplained.
        await self._insights.ready_resources.wait()
        served = {(r.group, r.plural) for r in self._insights.watched_resources}
        if (SUBNETS.group, SUBNETS.plural) not in served:
            logger.error(
                "%s/%s %s is not served by the API server: install ovnctl's CRDs "
                "(kubectl apply -k manifests/), then restart ovnctl; not ready until then",
                SUBNETS.group,
                SUBNETS.version,
                SUBNETS.plural,
            )

    @property
    def alive(self) -> bool:
        """True while every one of Kopf's root tasks runs (what /healthz reports)."""
        return bool(self._tasks) and not any(task.done() for task in self._tasks)

    async def stop(self, *, grace: float = 10.0) -> None:
        """Raise Kopf's stop flag, then cancel its other root tasks (as ``kopf.run_tasks``
        does, but only Kopf's own tasks) and wait for them, at most ``grace`` seconds each."""
        _trackers.pop(id(self.settings), None)
        if self._discovery is not None:
            self._discovery.cancel()
        if self._stop is not None and not self._stop.done():
            self._stop.set_result(None)
        tasks = list(self._tasks)
        if not tasks:
            return
        # The stop-flag checker ends first; the others run until cancelled (the
        # watchers then let their per-object workers finish).
        await asyncio.wait(tasks, timeout=grace, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=grace)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                logger.warning("kopf task %s failed: %s", task.get_name(), task.exception())
