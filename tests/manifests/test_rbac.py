"""RBAC completeness: the roles in manifests/ grant exactly what ``ovnctl run`` sends.

One representative scenario runs the controller as a process against the
embedded API server, through every code path that talks to the API: start-up
(Lease, watches, IPAM rebuild), Subnets with a Multus provider and an
IPAM-only one, pods with attachments, a stale IP object in the way, a pod
whose provider has no subnet (an Event), a KubeVirt VM with its VMI and
launcher pod, deletion of pods, of the VM and of a Subnet (finalizer), and a
graceful stop (the Lease released). Every ``(verb, group, resource,
subresource)`` the replica and its Kopf watches sent is then compared with
what the manifests grant: each must be granted, and nothing else may be.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
import threading
from typing import Any

import pytest

from ovnctl import __version__
from ovnctl.k8s import resources
from ovnctl.k8s.api import KubeApi, NotFound
from ovnctl.k8s.connection import load_configuration
from ovnctl.k8s.events import EventRecorder, InvolvedObject
from ovnctl.k8s.nodepods import NodePodWatcher
from ovnctl.k8s.resources import (
    IPAMCLAIMS,
    IPPOOLS,
    IPS,
    NADS,
    NAMESPACES,
    PODS,
    STATEFULSETS,
    SUBNETS,
    VIPS,
    VIRTUAL_MACHINE_INSTANCES,
    VIRTUAL_MACHINES,
)
from ovnctl.queue import ExponentialBackoff
from ovnctl.sim import LoggedRequest
from tests.controller import probes
from tests.controller.conftest import eventually
from tests.controller.objects import (
    create_all,
    kube_ovn_nad,
    macvlan_nad,
    pod,
    subnet,
    virtual_machine,
)
from tests.manifests.rbac import REPO, Permission, documents, find, granted

pytestmark = pytest.mark.slow

TEST_CLIENT = "e2e-test"
DISCOVERY = re.compile(r"^/(api|apis)(/[^/]+){0,2}/?$|^/version/?$")
"""Non-resource requests: discovery, granted to every account by ``system:discovery``."""

ATTACH = "attachnet.default.ovn"
MACVLAN = "macnet.default"
RESYNC_SECONDS = 10
"""The shortest ``--resync-interval``: the ghost-pod resync runs once in the scenario."""


def _vmi(name: str, namespace: str = "default") -> dict[str, Any]:
    return {
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstance",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"domain": {"devices": {}}},
    }


def _persistent_nad(name: str) -> dict[str, Any]:
    config = {"cniVersion": "0.3.1", "name": name, "type": "kube-ovn", "allowPersistentIPs": True}
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"config": json.dumps(config)},
    }


def _claim(name: str, network: str) -> dict[str, Any]:
    return {
        "apiVersion": "k8s.cni.cncf.io/v1alpha1",
        "kind": "IPAMClaim",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"network": network, "interface": "net1"},
    }


def _claim_networks(nad: str, claim: str) -> str:
    return json.dumps([{"name": nad, "ipam-claim-reference": claim}])


def _vip(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "Vip",
        "metadata": {"name": name},
        "spec": {"subnet": "ovn-default"},
    }


def _statefulset(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": {}},
    }


def _ippool(name: str, ips: list[str], namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "IPPool",
        "metadata": {"name": name},
        "spec": {"subnet": "ovn-default", "ips": ips, "namespaces": [namespace]},
    }


def _stale_ip(name: str) -> dict[str, Any]:
    """An IP object left behind (say, by a release that failed half-way)."""
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "IP",
        "metadata": {"name": name},
        "spec": {"podName": "leftover", "namespace": "default", "subnet": "ovn-default"},
    }


async def _gone(call: Any) -> bool:
    try:
        await call()
    except NotFound:
        return True
    return False


async def _scenario(kube, controllers, sim_process) -> tuple[str, str]:
    """Everything a controller does to the API in its life; returns the replica's user agents
    (ovnctl's own, and its Kopf's, which watches Subnets)."""
    await create_all(
        kube,
        subnet("ovn-default", "10.16.0.0/16", default=True),
        kube_ovn_nad("attachnet"),
        subnet("attach", "172.17.0.0/24", provider=ATTACH),
        macvlan_nad("macnet"),
        subnet("macsub", "172.18.0.0/24", provider=MACVLAN),
        kube_ovn_nad("orphan"),
        virtual_machine("vm1"),
    )
    await kube.create(VIRTUAL_MACHINE_INSTANCES, _vmi("vm1"), namespace="default")
    replica = controllers("rbac-1", "--resync-interval", str(RESYNC_SECONDS))
    await replica.wait_probe("/readyz", text="leading")

    # Allocation: primary network, a kube-ovn attachment and an IPAM-only one; an IP
    # object already in the way (create answers AlreadyExists, the controller patches it);
    # a provider bound to no subnet (a Warning Event); a VM's launcher pod.
    await kube.create(IPS, _stale_ip("p-stale.default"))
    await create_all(
        kube,
        pod("p1", networks="attachnet,macnet"),
        pod("p-stale"),
        pod("p-orphan", networks="orphan"),
        pod("virt-launcher-vm1-aaaaa", networks="attachnet", vm="vm1"),
    )
    await probes.allocated(kube, "p1", "ovn", ATTACH, MACVLAN, within=30)
    stale = await probes.allocated(kube, "p-stale", "ovn", within=30)
    taken = await probes.ip_object(kube, "p-stale.default")
    assert taken is not None
    assert taken["spec"]["podName"] == "p-stale"
    assert taken["spec"]["ipAddress"] == stale[probes.key("ovn", "ip_address")]
    await probes.warning(kube, "p-orphan", "ProviderNotBound")
    # An IPPool serving a namespace: its informer, and its status written.
    await create_all(kube, _ippool("pool1", ["10.16.9.0/30"], "pooled"))
    await kube.create(NAMESPACES, {"metadata": {"name": "pooled"}})
    await create_all(kube, pod("p-pooled", "pooled"))
    pooled = await probes.allocated(kube, "p-pooled", "ovn", namespace="pooled", within=30)
    # A CIDR entry is all its addresses.
    assert pooled[probes.key("ovn", "ip_address")] == "10.16.9.0"
    await eventually(
        lambda: kube.get(IPPOOLS, name="pool1"),
        until=lambda b: (b.get("status") or {}).get("v4UsingIPs") == 1,
    )
    await probes.allocated(kube, "virt-launcher-vm1-aaaaa", ATTACH, within=30)

    # A Vip taken by a pod, then deleted (finalizer, status, the Vip informer).
    await create_all(kube, _vip("vip1"))
    await create_all(kube, pod("p-vip", annotations={"ovn.kubernetes.io/vip": "vip1"}))
    await probes.allocated(kube, "p-vip", "ovn", within=30)
    await kube.delete(PODS, name="p-vip", namespace="default")
    await kube.delete(VIPS, name="vip1")
    await eventually(lambda: _gone(lambda: kube.get(VIPS, name="vip1")), until=bool)

    # An IPAMClaim owning an attachment's address, its status written, then deleted.
    await kube.create(NADS, _persistent_nad("claimnet"), namespace="default")
    await create_all(kube, subnet("claimsub", "172.19.0.0/24", provider="claimnet.default.ovn"))
    await kube.create(IPAMCLAIMS, _claim("c1", "claimnet"), namespace="default")
    await create_all(kube, pod("p-claim", networks=_claim_networks("claimnet", "c1")))
    await probes.allocated(kube, "p-claim", "claimnet.default.ovn", within=30)
    await eventually(
        lambda: kube.get(IPAMCLAIMS, name="c1", namespace="default"),
        until=lambda b: bool((b.get("status") or {}).get("ips")),
    )
    await kube.delete(PODS, name="p-claim", namespace="default")
    await kube.delete(IPAMCLAIMS, name="c1", namespace="default")
    await eventually(
        lambda: probes.ip_object(kube, "c1.default.claimnet.default.ovn"),
        until=lambda ip: ip is None,
    )

    # A StatefulSet pod: its address is kept across deletion (the StatefulSet informer).
    await kube.create(STATEFULSETS, _statefulset("db"), namespace="default")
    sts_pod = pod("db-0")
    sts_pod["metadata"]["ownerReferences"] = [
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "name": "db",
            "uid": "u",
            "controller": True,
        }
    ]
    await create_all(kube, sts_pod)
    await probes.allocated(kube, "db-0", "ovn", within=30)
    await kube.delete(PODS, name="db-0", namespace="default")
    await kube.delete(STATEFULSETS, name="db", namespace="default")
    await eventually(lambda: probes.ip_object(kube, "db-0.default"), until=lambda ip: ip is None)

    # A pod deleted while the watches were away (every reconnect answered 410): the
    # informer's re-list reports it deleted (its snapshot replaces the cache whole),
    # and its address is released without any GET.
    await create_all(kube, pod("p-ghost"))
    await probes.allocated(kube, "p-ghost", "ovn", within=30)
    await asyncio.to_thread(sim_process.configure, fail_next_watches=1_000_000)
    await asyncio.to_thread(sim_process.cut_watches)
    await kube.delete(PODS, name="p-ghost", namespace="default")
    await asyncio.sleep(1.0)  # the informers re-list (without p-ghost) meanwhile
    await asyncio.to_thread(sim_process.configure, fail_next_watches=0)
    await eventually(
        lambda: probes.ip_object(kube, "p-ghost.default"),
        until=lambda ip: ip is None,
        within=RESYNC_SECONDS * 2 + 10,
    )

    # Release: a pod; the VM's launcher pod (the address stays with the VM), then the VM
    # and its VMI (the controller confirms both are gone with a GET each, then releases).
    await kube.delete(PODS, name="p1", namespace="default")
    await eventually(
        lambda: probes.ip_object(kube, f"p1.default.{ATTACH}"), until=lambda ip: ip is None
    )
    vm_nic = f"vm1.default.{ATTACH}"
    await kube.delete(VIRTUAL_MACHINES, name="vm1", namespace="default")
    await kube.delete(VIRTUAL_MACHINE_INSTANCES, name="vm1", namespace="default")
    await kube.delete(PODS, name="virt-launcher-vm1-aaaaa", namespace="default")
    await eventually(lambda: probes.ip_object(kube, vm_nic), until=lambda ip: ip is None)

    # A Subnet deleted: the controller removes its finalizer once nothing is allocated.
    await kube.delete(SUBNETS, name="attach")
    await eventually(lambda: _gone(lambda: kube.get(SUBNETS, name="attach")), until=bool)
    await kube.delete(NADS, name="attachnet", namespace="default")

    # Graceful stop: in-flight work finished, the Lease released.
    assert await asyncio.to_thread(replica.stop) == 0
    return replica.user_agent, replica.kopf_user_agent


async def _event_repeat(sim_process) -> str:
    """The Event aggregation's second write (a PATCH of ``count``), due only after 60 s.

    The running controller repeats an Event no sooner than its aggregation window;
    waiting that out would make this test slow, so the same recorder the controller
    uses runs here with no window, under a replica-like user agent.
    """
    agent = f"ovnctl/{__version__} (rbac-events)"
    api = KubeApi(
        configuration=load_configuration(kubeconfig=str(sim_process.kubeconfig_path)),
        user_agent=agent,
    )
    try:
        recorder = EventRecorder(api=api, window=0.0)
        involved = InvolvedObject(
            api_version="v1", kind="Pod", name="p-orphan", namespace="default"
        )
        for _ in range(2):
            await recorder.warning(involved, reason="ProviderNotBound", message="repeated")
    finally:
        api.close()
    return agent


def _sent_by(entries: list[LoggedRequest], agents: set[str]) -> list[LoggedRequest]:
    return [e for e in entries if e.user_agent in agents]


def _roles() -> tuple[set[Permission], set[Permission]]:
    docs = documents()
    cluster = set(granted(find("ClusterRole", "ovnctl-controller", docs)))
    lease = set(granted(find("Role", "ovnctl-controller-leader-election", docs)))
    return cluster, lease


async def test_roles_grant_exactly_what_the_controller_sends(
    controllers, kube, sim_process
) -> None:
    """Every request of the scenario is granted; every grant was used by some request."""
    agents = {*await _scenario(kube, controllers, sim_process), await _event_repeat(sim_process)}
    log = await asyncio.to_thread(sim_process.request_log)

    clients = {e.user_agent for e in log.entries} - {TEST_CLIENT}
    assert clients == agents, "unexpected clients"
    sent = _sent_by(log.entries, agents)
    assert any(e.verb == "watch" for e in sent), "no watch requests seen"

    non_resource = {e.path for e in sent if not e.resource}
    assert all(DISCOVERY.match(path) for path in non_resource), non_resource
    used = {Permission(e.verb, e.group, e.resource, e.subresource) for e in sent if e.resource}
    ghost_reads = [e for e in sent if e.verb == "get" and e.name == "p-ghost"]
    assert ghost_reads == [], "a re-list's diff finds the deleted pod without a GET"
    lease_namespaces = {e.namespace for e in sent if e.resource == "leases"}
    assert lease_namespaces == {"default"}, "the Lease lives in the controller's namespace only"

    cluster, lease = _roles()
    lease_used = {p for p in used if p.resource == "leases"}
    cluster_used = used - lease_used
    missing = sorted(map(str, cluster_used - cluster))
    assert not missing, f"sent but not granted by ClusterRole ovnctl-controller: {missing}"
    unused = sorted(map(str, cluster - cluster_used))
    assert not unused, f"granted by ClusterRole ovnctl-controller but never sent: {unused}"
    assert lease_used == lease, (sorted(map(str, lease_used)), sorted(map(str, lease)))


async def test_node_role_grants_exactly_what_the_pod_watch_sends(kube, sim_process) -> None:
    """The node agent's pod watch (LIST, WATCH, resume) sends exactly what ovnctl-node grants."""
    seen: list[tuple[str, str]] = []
    watcher = NodePodWatcher(
        configuration=load_configuration(kubeconfig=str(sim_process.kubeconfig_path)),
        node_name="node1",
        on_snapshot=lambda pods: seen.append(("SNAPSHOT", "")),
        on_event=lambda kind, p: seen.append((kind, p.name)),
        page_size=1,
        min_watch_timeout_s=1,
        backoff=ExponentialBackoff(base=0.05, cap=0.05),
    )
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    try:
        await eventually(lambda: _copy(seen), until=lambda s: ("SNAPSHOT", "") in s)
        await create_all(kube, pod("n1"), pod("n2"), pod("elsewhere", node="node2"))
        await eventually(lambda: _copy(seen), until=lambda s: {"n1", "n2"} <= {n for _, n in s})
        await kube.delete(PODS, name="n1", namespace="default")
        await eventually(lambda: _copy(seen), until=lambda s: ("DELETED", "n1") in s)
        # A watch that times out is resumed from the last resourceVersion.
        await eventually(lambda: _watches(sim_process), until=lambda n: n >= 2, within=10)
    finally:
        watcher.stop()
        await asyncio.to_thread(thread.join, 10)
    assert "elsewhere" not in {n for _, n in seen}

    log = await asyncio.to_thread(sim_process.request_log)
    sent = [e for e in log.entries if e.user_agent != TEST_CLIENT]
    used = {Permission(e.verb, e.group, e.resource, e.subresource) for e in sent if e.resource}
    assert all(DISCOVERY.match(e.path) for e in sent if not e.resource)
    assert used == set(granted(find("ClusterRole", "ovnctl-node")))


async def _copy(items: list[Any]) -> list[Any]:
    return list(items)


async def _watches(sim_process) -> int:
    log = await asyncio.to_thread(sim_process.request_log)
    return sum(1 for e in log.entries if e.verb == "watch" and e.user_agent != TEST_CLIENT)


_VERB_OF_METHOD = {
    "get": "get",
    "list_pages": "list",
    "create": "create",
    "patch": "patch",
    "replace": "update",
    "delete": "delete",
}
_NOT_THE_CONTROLLER = (
    "ovnctl/sim/",
    "ovnctl/demo/",
    "ovnctl/bench/",
    "ovnctl/k8s/api.py",
    # `ovnctl ipam check/release` runs with the operator's own credentials (docs/ipam-check.md).
    "ovnctl/ipamtool/",
)


def _api_calls_in_source() -> set[tuple[str, Permission]]:
    """``(file, permission)`` of each ``<api>.<verb>(RESOURCE, ...)`` call in ovnctl/."""
    by_name = {name: getattr(resources, name) for name in resources.__all__}
    found: set[tuple[str, Permission]] = set()
    for path in sorted((REPO / "ovnctl").rglob("*.py")):
        relative = path.relative_to(REPO).as_posix()
        if relative.startswith(_NOT_THE_CONTROLLER):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _VERB_OF_METHOD
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in by_name
            ):
                continue
            resource = by_name[node.args[0].id]
            sub = next(
                (
                    str(k.value.value)
                    for k in node.keywords
                    if k.arg == "subresource" and isinstance(k.value, ast.Constant)
                ),
                None,
            )
            verb = _VERB_OF_METHOD[node.func.attr]
            found.add((relative, Permission(verb, resource.group, resource.plural, sub)))
    return found


def test_every_api_call_in_the_source_is_exercised_by_the_scenario() -> None:
    """A new ``api.<verb>(RESOURCE)`` call in ovnctl/ needs a grant and a scenario step.

    The scenario above proves the roles only for the paths it runs; this catches a
    call added later on a path it does not run (which would answer 403 in a cluster).
    """
    exercised = {
        Permission("get", "coordination.k8s.io", "leases", None),
        Permission("create", "coordination.k8s.io", "leases", None),
        Permission("update", "coordination.k8s.io", "leases", None),
        *granted(find("ClusterRole", "ovnctl-controller")),
    }
    calls = _api_calls_in_source()
    unexercised = sorted(f"{where}: {perm}" for where, perm in calls if perm not in exercised)
    assert not unexercised, (
        f"API calls no manifest grants (grant them in manifests/rbac.yaml and exercise them "
        f"in test_roles_grant_exactly_what_the_controller_sends): {unexercised}"
    )
    assert {perm.resource for _, perm in calls} >= {"pods", "ips", "subnets", "events", "leases"}
