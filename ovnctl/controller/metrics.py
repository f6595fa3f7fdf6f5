"""Prometheus metrics of a running controller, read at scrape time.

Counters and gauges are computed from the controller's own state when
Prometheus scrapes (allocation counters on the reconcilers, usage from the
IPAM, request counts from the API facade, cache sizes), so the hot paths pay
nothing for them. Work-queue metrics come from the queues' own sink
(:class:`ovnctl.queue.PrometheusMetricsSink`) on the same registry.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from ovnctl.controller.runtime import Controller

__all__ = ["ControllerCollector"]


class ControllerCollector(Collector):
    """Exports what one :class:`Controller` knows, under the ``ovnctl_`` prefix."""

    def __init__(self, controller: Controller) -> None:
        self._controller = controller

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        c = self._controller
        pods = c.pod_reconciler
        yield CounterMetricFamily(
            "ovnctl_allocations", "NICs given an address", value=pods.allocated if pods else 0
        )
        yield CounterMetricFamily(
            "ovnctl_allocation_failures",
            "Pod allocations refused (bad input, no room, not ready)",
            value=pods.failed if pods else 0,
        )
        yield CounterMetricFamily(
            "ovnctl_releases", "NICs whose address was released", value=c.releaser.released
        )

        addresses = GaugeMetricFamily(
            "ovnctl_subnet_addresses",
            "Addresses per subnet and family: used or available",
            labels=["subnet", "family", "state"],
        )
        for name in sorted(c.ipam):
            fields = c.ipam.usage(name).status_fields()
            for family in ("v4", "v6"):
                addresses.add_metric([name, family, "used"], float(fields[f"{family}usingIPs"]))
                addresses.add_metric(
                    [name, family, "available"], float(fields[f"{family}availableIPs"])
                )
        yield addresses

        requests = CounterMetricFamily(
            "ovnctl_api_requests",
            "API requests sent, by verb and resource",
            labels=["verb", "resource"],
        )
        for (verb, resource), count in sorted(c.api.request_counts.items()):
            requests.add_metric([verb, resource], float(count))
        yield requests

        caches = GaugeMetricFamily(
            "ovnctl_cache_objects", "Objects in each cache", labels=["cache"]
        )
        for label, cache in (
            ("pods", c.pods),
            ("subnets", c.subnets),
            ("network-attachment-definitions", c.nads),
        ):
            caches.add_metric([label], float(len(cache) if cache is not None else 0))
        yield caches

        yield GaugeMetricFamily("ovnctl_nics", "NICs recorded (IP objects)", value=len(c.ledger))
        yield GaugeMetricFamily(
            "ovnctl_waiting_pods",
            "Pods waiting for a NAD, subnet or free address",
            value=len(c.waits),
        )
        leader = c.elector.is_leader if c.elector is not None else c.gate.ready
        yield GaugeMetricFamily(
            "ovnctl_leader", "1 while this replica allocates", value=1.0 if leader else 0.0
        )
        yield GaugeMetricFamily(
            "ovnctl_ready",
            "1 once caches are listed and the IPAM rebuilt",
            value=1.0 if c.gate.ready else 0.0,
        )
