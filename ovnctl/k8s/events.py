"""Kubernetes Events: how ovnctl tells users what went wrong, without flooding.

Every bad input ends in a Warning Event on the object that carries it (the
pod, the Subnet). A reconcile that keeps failing would post the same Event on
every retry, so repeats are aggregated the way client-go's event correlator
does: the first occurrence creates an Event, repeats inside ``window`` are
only counted, and the next repeat after the window patches ``count`` and
``lastTimestamp`` of the Event already posted. Posting never raises: an Event
that cannot be written is logged and the reconcile goes on.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import OrderedDict

from ovnctl.k8s.api import ApiError, NotFound
from ovnctl.k8s.resources import EVENTS
from ovnctl.k8s.writer import Writer
from ovnctl.models import now_rfc3339

__all__ = ["EventRecorder", "InvolvedObject"]

logger = logging.getLogger(__name__)

# Cluster-scoped objects (Subnets) have their Events in "default", as kubectl expects.
CLUSTER_SCOPED_EVENT_NAMESPACE = "default"


@dataclasses.dataclass(frozen=True, slots=True)
class InvolvedObject:
    """The object an Event is about."""

    api_version: str
    kind: str
    name: str
    namespace: str | None = None
    uid: str | None = None


@dataclasses.dataclass(slots=True)
class _Posted:
    name: str
    namespace: str
    count: int
    last_posted: float


class EventRecorder:
    """Posts core/v1 Events, aggregating repeats of the same (object, reason, message)."""

    def __init__(
        self,
        *,
        api: Writer,
        component: str = "ovnctl",
        window: float = 60.0,
        max_remembered: int = 4096,
    ) -> None:
        self._api = api
        self._component = component
        self._window = window
        self._max_remembered = max_remembered
        self._posted: OrderedDict[tuple[object, ...], _Posted] = OrderedDict()

    async def warning(self, involved: InvolvedObject, *, reason: str, message: str) -> None:
        await self.post(involved, type_="Warning", reason=reason, message=message)

    async def post(
        self, involved: InvolvedObject, *, type_: str, reason: str, message: str
    ) -> None:
        key = (involved.kind, involved.namespace, involved.name, involved.uid, reason, message)
        now = time.monotonic()
        previous = self._posted.get(key)
        if previous is not None:
            previous.count += 1
            if now - previous.last_posted < self._window:
                return
            if await self._bump(previous):
                previous.last_posted = now
                return
        posted = await self._create(involved, type_=type_, reason=reason, message=message)
        if posted is not None:
            posted.last_posted = now
            self._posted[key] = posted
            self._posted.move_to_end(key)
            while len(self._posted) > self._max_remembered:
                self._posted.popitem(last=False)

    async def _create(
        self, involved: InvolvedObject, *, type_: str, reason: str, message: str
    ) -> _Posted | None:
        namespace = involved.namespace or CLUSTER_SCOPED_EVENT_NAMESPACE
        stamp = now_rfc3339()
        reference = {
            "apiVersion": involved.api_version,
            "kind": involved.kind,
            "name": involved.name,
        }
        if involved.namespace:
            reference["namespace"] = involved.namespace
        if involved.uid:
            reference["uid"] = involved.uid
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{involved.name[:200]}.", "namespace": namespace},
            "involvedObject": reference,
            "type": type_,
            "reason": reason,
            "message": message[:1024],
            "source": {"component": self._component},
            "reportingComponent": self._component,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        try:
            created = await self._api.create(EVENTS, body, namespace=namespace)
        except ApiError as exc:
            logger.warning("could not post Event %s on %s: %s", reason, involved.name, exc)
            return None
        name = str((created or {}).get("metadata", {}).get("name", ""))
        return _Posted(name=name, namespace=namespace, count=1, last_posted=0.0)

    async def _bump(self, posted: _Posted) -> bool:
        try:
            await self._api.patch(
                EVENTS,
                name=posted.name,
                namespace=posted.namespace,
                body={"count": posted.count, "lastTimestamp": now_rfc3339()},
            )
        except NotFound:
            return False
        except ApiError as exc:
            logger.warning("could not update Event %s: %s", posted.name, exc)
            return True
        return True
