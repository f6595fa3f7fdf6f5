"""Leader election on a ``coordination.k8s.io/v1`` Lease, with write fencing.

Two replicas run; one allocates. The semantics are client-go's
``leaderelection`` with a Lease lock: a candidate takes the Lease when it is
free or when its record has not changed for ``lease_duration`` *as observed
on the candidate's own clock* (clocks of different machines are never
compared); the holder renews it every ``retry_period``.

What the official client's thread-based elector cannot give is fencing: a
leader that cannot renew must stop writing before anyone else may take over.
Here :meth:`LeaderElector.may_write` is true only while less than
``renew_deadline`` has passed since the last successful renew, and
``renew_deadline < lease_duration``, so the old leader's writes stop before
the standby's clock can call the Lease expired. The API writer consults it
before every write.

Release on shutdown empties ``holderIdentity`` so the standby takes over at
once instead of waiting out the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from ovnctl.k8s.api import AlreadyExists, ApiError, Conflict, KubeApi, NotFound
from ovnctl.k8s.resources import LEASES
from ovnctl.models import now_rfc3339

__all__ = ["LeaderElector", "LeaseSettings"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class LeaseSettings:
    """Timings as client-go names them; defaults are kube-controller-manager's."""

    name: str = "ovnctl-controller"
    namespace: str = "kube-system"
    identity: str = ""
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        if not self.identity:
            raise ValueError("a leader election identity is required")
        if not 0 < self.retry_period < self.renew_deadline < self.lease_duration:
            raise ValueError(
                "need 0 < retry_period < renew_deadline < lease_duration, got "
                f"{self.retry_period} / {self.renew_deadline} / {self.lease_duration}"
            )


class LeaderElector:
    """Campaigns for a Lease and keeps it: ``run()`` returns when the Lease is lost."""

    def __init__(
        self,
        *,
        api: KubeApi,
        settings: LeaseSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self.settings = settings
        self._clock = clock
        self._last_renew: float | None = None
        self._observed: tuple[Any, ...] | None = None
        self._observed_at = 0.0
        self._acquired = asyncio.Event()
        self._lost = asyncio.Event()

    # -- what the rest of the controller asks ------------------------------------------

    @property
    def is_leader(self) -> bool:
        return self.may_write()

    def may_write(self) -> bool:
        """True while this replica holds a Lease renewed less than renew_deadline ago."""
        if self._last_renew is None or self._lost.is_set():
            return False
        return self._clock() - self._last_renew < self.settings.renew_deadline

    async def acquired(self) -> None:
        await self._acquired.wait()

    # -- the campaign ----------------------------------------------------------------

    async def run(self) -> None:
        """Campaign until leader, then renew until the lease is lost (or cancelled)."""
        while not self._acquired.is_set():
            if await self._try_acquire_or_renew():
                self._acquired.set()
                logger.info(
                    "leader election: %s acquired lease %s/%s",
                    self.settings.identity,
                    self.settings.namespace,
                    self.settings.name,
                )
                break
            await asyncio.sleep(self.settings.retry_period)
        while True:
            await asyncio.sleep(self.settings.retry_period)
            renewed = await self._try_acquire_or_renew()
            if not renewed and not self.may_write():
                logger.error(
                    "leader election: %s lost lease %s/%s (no renew for %.1fs)",
                    self.settings.identity,
                    self.settings.namespace,
                    self.settings.name,
                    self.settings.renew_deadline,
                )
                self._lost.set()
                return

    async def release(self) -> None:
        """Give the Lease up (on shutdown) so the standby need not wait for it to expire."""
        if self._last_renew is None:
            return
        self._lost.set()
        self._last_renew = None
        with contextlib.suppress(ApiError):
            lease = await self._api.get(
                LEASES, name=self.settings.name, namespace=self.settings.namespace
            )
            spec = lease.get("spec") or {}
            if spec.get("holderIdentity") != self.settings.identity:
                return
            spec["holderIdentity"] = ""
            spec["leaseDurationSeconds"] = 1
            lease["spec"] = spec
            await self._api.replace(
                LEASES, name=self.settings.name, namespace=self.settings.namespace, body=lease
            )
            logger.info("leader election: %s released lease", self.settings.identity)

    def close(self) -> None:
        self._api.close()

    async def _try_acquire_or_renew(self) -> bool:
        settings = self.settings
        now = now_rfc3339(micro=True)
        try:
            lease = await self._api.get(LEASES, name=settings.name, namespace=settings.namespace)
        except NotFound:
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": settings.name, "namespace": settings.namespace},
                "spec": self._spec(acquire_time=now, renew_time=now, transitions=0),
            }
            return await self._write(
                lambda: self._api.create(LEASES, body, namespace=settings.namespace)
            )
        except ApiError as exc:
            logger.warning("leader election: cannot read lease: %s", exc)
            return False

        spec = lease.get("spec") or {}
        holder = spec.get("holderIdentity") or ""
        record = (holder, spec.get("renewTime"), spec.get("leaseDurationSeconds"))
        if record != self._observed:
            self._observed, self._observed_at = record, self._clock()
        duration = float(spec.get("leaseDurationSeconds") or settings.lease_duration)
        expired = self._observed_at + duration <= self._clock()
        mine = holder == settings.identity
        if holder and not mine and not expired:
            return False
        transitions = int(spec.get("leaseTransitions") or 0) + (0 if mine else 1)
        lease["spec"] = self._spec(
            acquire_time=spec.get("acquireTime") if mine else now,
            renew_time=now,
            transitions=transitions,
        )
        return await self._write(
            lambda: self._api.replace(
                LEASES, name=settings.name, namespace=settings.namespace, body=lease
            )
        )

    def _spec(self, *, acquire_time: Any, renew_time: str, transitions: int) -> dict[str, Any]:
        return {
            "holderIdentity": self.settings.identity,
            "leaseDurationSeconds": int(self.settings.lease_duration),
            "acquireTime": acquire_time,
            "renewTime": renew_time,
            "leaseTransitions": transitions,
        }

    async def _write(self, call: Callable[[], Any]) -> bool:
        # The renew deadline is measured from when the write was *sent*: a reply that
        # arrives late must not extend our right to write past what the others see.
        sent = self._clock()
        try:
            await call()
        except (Conflict, AlreadyExists):
            return False  # someone else wrote first; re-read next round
        except ApiError as exc:
            logger.warning("leader election: lease write failed: %s", exc)
            return False
        self._last_renew = sent
        return True
