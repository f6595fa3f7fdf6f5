"""Kube-OVN 1.13's NAD reads inside a subnet reconcile, re-created for one benchmark.

Kube-OVN #5353 (11% of the controller's CPU in NAD GETs, a subnet queue of
~100 under churn) came from where Kube-OVN reads NADs, not only how: its
``handleAddOrUpdateSubnet`` calls ``reconcileDistributedSubnetRouteInDefaultVpc``
for every distributed subnet of the default VPC (the default), which lists
*every* pod and, for each alive pod scheduled to a node, resolves its
networks with ``getPodKubeovnNets`` -> ``getPodAttachmentNet``: one NAD read
per Multus attachment. Before #5386 each read was a GET; after it, a lister
read. So one subnet reconcile cost (multi-homed pods x attachments) GETs.

ovnctl's subnet reconcile never walks pods (it needs nothing from them), so
its own ``live`` mode cannot show #5353's condition. To measure what the NAD
cache is worth *under Kube-OVN's access pattern*, scenario 1 of ``ovnctl
bench`` turns this walk on (the ``walk-*`` modes of
:mod:`ovnctl.bench.nad_controller`) and runs it once with the NAD cache and
once with live GETs, everything else equal. The walk's reads decide nothing:
their answers are discarded. It is a benchmark device, reachable only through
:mod:`ovnctl.bench.launch`, never through ``ovnctl run``.
"""

from __future__ import annotations

from ovnctl.caches import PodCache
from ovnctl.models import NETWORKS_ANNOTATION, NetworksAnnotationError, parse_networks
from ovnctl.reconcilers.subnet import NadLookup

__all__ = ["KubeOvnSubnetWalk"]


class KubeOvnSubnetWalk:
    """``await walk()``: read the NAD of every attachment of every alive, scheduled pod."""

    def __init__(self, *, pods: PodCache, nad_lookup: NadLookup) -> None:
        self._pods = pods
        self._nad_lookup = nad_lookup
        self.reads = 0
        """NAD reads made so far (each one a GET when the lookup is live)."""

    async def __call__(self) -> None:
        for pod in self._pods.records():
            # Kube-OVN's isPodAlive and `pod.Spec.NodeName == ""` filters.
            if pod.deleting or pod.finished or not pod.node_name or pod.host_network:
                continue
            raw = dict(pod.annotations).get(NETWORKS_ANNOTATION)
            if not raw:
                continue
            try:
                attachments = parse_networks(annotation=raw, pod_namespace=pod.namespace)
            except NetworksAnnotationError:
                continue  # Kube-OVN logs the parse error and goes on with the next pod
            for attachment in attachments:
                self.reads += 1
                if await self._nad_lookup(*attachment.nad_key) is None:
                    break  # getPodAttachmentNet returns at the first NAD it cannot get
