"""The controller of one NAD-cache benchmark mode: ``ovnctl run``'s, with its NAD reads changed.

Scenario ``nad-cache`` (:mod:`.nadcache`) compares four modes that differ
only in how NADs are read during a subnet reconcile:

- ``cache``: ovnctl as shipped (the subnet reconciler reads the NAD cache);
- ``live``: a GET of the NAD wherever the subnet reconciler looks one up (the
  pre-cache behaviour Kube-OVN #5353 measured);
- ``walk-cache`` and ``walk-live``: the same two lookups, plus Kube-OVN 1.13's
  walk over every alive pod's NADs before each reconcile of a live subnet
  (:mod:`.kube_ovn_walk`).

:class:`NadBenchController` is a :class:`~ovnctl.controller.Controller` that
overrides the one NAD-lookup choice of its wiring and the subnet reconcile the
workers run; nothing else differs, and ``ovnctl run`` has no way to turn these
modes on. :func:`controller_for` is the factory :mod:`.launch` hands to
:func:`~ovnctl.controller.command.run_command_with`.
"""

from __future__ import annotations

from ovnctl.bench.kube_ovn_walk import KubeOvnSubnetWalk
from ovnctl.bench.launch import MODES
from ovnctl.controller import Controller, ControllerSettings
from ovnctl.controller.command import ControllerFactory
from ovnctl.k8s.api import NotFound
from ovnctl.k8s.resources import NADS
from ovnctl.models import NadConfig, parse_nad
from ovnctl.ovn import NorthboundMetrics
from ovnctl.queue import MetricsSink, Result
from ovnctl.reconcilers.subnet import NadLookup

__all__ = ["NadBenchController", "controller_for"]


class NadBenchController(Controller):
    """A controller whose subnet reconciler reads NADs as ``mode`` says."""

    def __init__(
        self,
        *,
        mode: str,
        settings: ControllerSettings,
        metrics: MetricsSink | None = None,
        northbound_metrics: NorthboundMetrics | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"NAD benchmark mode {mode!r}: not one of {', '.join(MODES)}")
        self.mode = mode  # before the wiring asks _nad_lookup
        super().__init__(settings=settings, metrics=metrics, northbound_metrics=northbound_metrics)
        self.kube_ovn_walk: KubeOvnSubnetWalk | None = None
        if mode.startswith("walk-"):
            # The walk reads through the same lookup as the subnet reconciler.
            self.kube_ovn_walk = KubeOvnSubnetWalk(pods=self.pods, nad_lookup=self._nad_lookup())

    def _nad_lookup(self) -> NadLookup:
        return self._live_nad if self.mode.endswith("live") else super()._nad_lookup()

    async def _live_nad(self, namespace: str, name: str) -> NadConfig | None:
        try:
            body = await self.api.get(NADS, name=name, namespace=namespace)
        except NotFound:
            return None
        return parse_nad(body=body)

    async def _reconcile_subnet(self, name: str) -> Result:
        if self.kube_ovn_walk is not None:
            record = self.subnets.get(name)
            # Where Kube-OVN walks: a live subnet, before the status that makes it Ready.
            if record is not None and not record.deleting:
                await self.kube_ovn_walk()
        return await super()._reconcile_subnet(name)


def controller_for(mode: str) -> ControllerFactory:
    """Build :class:`NadBenchController` for ``mode`` where ``ovnctl run`` builds its own."""

    def build(
        *,
        settings: ControllerSettings,
        metrics: MetricsSink | None,
        northbound_metrics: NorthboundMetrics | None,
    ) -> Controller:
        return NadBenchController(
            mode=mode, settings=settings, metrics=metrics, northbound_metrics=northbound_metrics
        )

    return build
