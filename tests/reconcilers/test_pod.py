"""PodReconciler alone: what it writes, in which order, and what it does on bad input.

Each test builds the reconciler through ``make_pod_reconciler`` over caches fed
from dicts and a recording writer; nothing runs on a server and nothing waits
on the clock.
"""

from __future__ import annotations

import asyncio
import gc
import json
import warnings

import pytest

from ovnctl.ipam import IPAM, MACExhaustedError, limit_of
from ovnctl.k8s.api import Conflict, Transient
from ovnctl.k8s.resources import IPS, PODS
from ovnctl.ovn import Change
from ovnctl.queue import Done, PermanentError, RetryableError
from ovnctl.reconcilers.ledger import CLAIM_POD_TYPE, claim_ledger_owner
from ovnctl.reconcilers.nics import PoolChoice, PoolChooser
from ovnctl.reconcilers.waiting import nad_topic, nic_topic, provider_topic, subnet_topic
from tests.controller.objects import kube_ovn_nad, macvlan_nad, pod, subnet
from tests.reconcilers.factories import Rig, make_planner, make_pod_reconciler, make_releaser
from tests.reconcilers.fakes import FakeNorthbound

A = "net-a.default.ovn"
KEY = ("default", "p1")


def ann(provider: str, suffix: str) -> str:
    return f"{provider}.kubernetes.io/{suffix}"


def setup_basic(rig: Rig) -> None:
    """A default subnet and one attachment network with its subnet."""
    rig.add_subnet(subnet("ovn-default", "10.16.0.0/24", default=True))
    rig.add(kube_ovn_nad("net-a"))
    rig.add_subnet(subnet("sub-a", "172.17.0.0/24", provider=A))


async def test_ip_objects_are_created_before_the_one_pod_patch(rig: Rig) -> None:
    """Every NIC's IP object is created, then one pod patch carries every NIC's annotations."""
    setup_basic(rig)
    rig.add(pod("p1", networks="net-a"))
    assert await make_pod_reconciler(rig)(KEY) is Done
    writes = [(c.verb, c.plural, c.name) for c in rig.writer.writes()]
    assert sorted(writes[:2]) == [
        ("create", "ips", "p1.default"),
        ("create", "ips", f"p1.default.{A}"),
    ]
    assert writes[2:] == [("patch", "pods", "p1")]
    patch = rig.writer.calls_to("patch", PODS)[0]
    annotations = patch.body["metadata"]["annotations"]
    assert annotations[ann("ovn", "allocated")] == "true"
    assert annotations[ann(A, "allocated")] == "true"
    assert annotations[ann("ovn", "ip_address")] == "10.16.0.2"
    assert annotations[ann(A, "ip_address")] == "172.17.0.2"
    assert annotations[ann(A, "logical_switch")] == "sub-a"


async def test_pod_patch_is_guarded_by_the_pod_uid(rig: Rig) -> None:
    """The pod patch carries the pod's uid (a recreated namesake answers 409) and no read-back."""
    setup_basic(rig)
    rig.add(pod("p1"))
    await make_pod_reconciler(rig)(KEY)
    [patch] = rig.writer.calls_to("patch", PODS)
    assert patch.body["metadata"]["uid"] == rig.pod("default", "p1").uid
    assert patch.read_back is False


async def test_ip_object_records_the_allocation(rig: Rig) -> None:
    """The IP object names the pod, subnet, node, addresses and MAC the annotation carries."""
    setup_basic(rig)
    rig.add(pod("p1", node="node7"))
    await make_pod_reconciler(rig)(KEY)
    [create] = rig.writer.calls_to("create", IPS)
    spec = create.body["spec"]
    annotations = rig.writer.calls_to("patch", PODS)[0].body["metadata"]["annotations"]
    assert (spec["podName"], spec["namespace"], spec["subnet"], spec["nodeName"]) == (
        "p1",
        "default",
        "ovn-default",
        "node7",
    )
    assert spec["ipAddress"] == annotations[ann("ovn", "ip_address")]
    assert spec["macAddress"] == annotations[ann("ovn", "mac_address")]
    assert spec["podType"] == ""


async def test_second_pass_writes_nothing(rig: Rig) -> None:
    """A pod reconciled again after the echo of its patch costs no write at all."""
    setup_basic(rig)
    rig.add(pod("p1", networks="net-a"))
    reconcile = make_pod_reconciler(rig)
    await reconcile(KEY)
    rig.echo(*KEY)
    before = len(rig.writer.writes())
    assert await reconcile(KEY) is Done
    assert len(rig.writer.writes()) == before


async def test_existing_ip_object_is_patched_not_recreated(rig: Rig) -> None:
    """An IP object that already exists (a restart between writes) is patched to the new spec."""
    setup_basic(rig)
    rig.add(pod("p1"))
    rig.writer.seed(IPS, {"metadata": {"name": "p1.default"}, "spec": {"ipAddress": "stale"}})
    await make_pod_reconciler(rig)(KEY)
    [patch] = rig.writer.calls_to("patch", IPS)
    assert patch.name == "p1.default"
    assert patch.body["spec"]["ipAddress"] == "10.16.0.2"
    stored = rig.writer.get_object(IPS, "p1.default")
    assert stored is not None
    assert stored["spec"]["ipAddress"] == "10.16.0.2"


async def test_missing_nad_is_an_event_and_no_write(rig: Rig) -> None:
    """A pod whose NAD is missing gets NadNotFound, no write, and waits on that NAD."""
    setup_basic(rig)
    rig.add(pod("p1", networks="net-a,missing"))
    reconcile = make_pod_reconciler(rig)
    with pytest.raises(PermanentError):
        await reconcile(KEY)
    assert rig.writer.reasons("p1") == ["NadNotFound"]
    assert "default/missing" in rig.writer.events()[0]["message"]
    assert rig.writer.writes() == []
    assert rig.ipam.lookup("p1.default") == ()
    assert reconcile.failed == 1
    assert rig.waits.wake(nad_topic("default", "missing")) == [KEY]


async def test_provider_without_subnet_waits_on_the_provider(rig: Rig) -> None:
    """A served NAD with no subnet: ProviderNotBound, waiting on the provider's topic."""
    rig.add(kube_ovn_nad("net-b"))
    rig.add(pod("p1", networks="net-b"))
    with pytest.raises(PermanentError):
        await make_pod_reconciler(rig)(KEY)
    assert rig.writer.reasons() == ["ProviderNotBound"]
    assert rig.waits.wake(provider_topic("net-b.default.ovn")) == [KEY]


@pytest.mark.parametrize(
    ("annotations", "reason"),
    [
        pytest.param({ann(A, "ip_address"): "172.18.0.9"}, "StaticIPOutOfRange", id="range"),
        pytest.param({ann(A, "ip_address"): "fd00::9"}, "StaticIPWrongFamily", id="family"),
        pytest.param({ann(A, "ip_address"): "172.17.0.1"}, "StaticIPIsGateway", id="gateway"),
        pytest.param({ann(A, "ip_address"): "172.17.0.0"}, "StaticIPReserved", id="network"),
        pytest.param({ann(A, "ip_address"): "not-an-ip"}, "InvalidStaticIP", id="syntax"),
        pytest.param({ann(A, "mac_address"): "zz:zz"}, "InvalidMAC", id="mac"),
        pytest.param({ann(A, "mac_address"): "01:00:00:00:00:01"}, "InvalidMAC", id="multicast"),
    ],
)
async def test_bad_static_request_reasons(
    rig: Rig, annotations: dict[str, str], reason: str
) -> None:
    """Each refused static request is a Warning Event with its reason, and nothing is held."""
    setup_basic(rig)
    rig.add(pod("p1", networks="net-a", annotations=annotations))
    with pytest.raises(PermanentError):
        await make_pod_reconciler(rig)(KEY)
    assert rig.writer.reasons("p1") == [reason]
    assert rig.writer.writes() == []
    assert rig.ipam.lookup("p1.default") == ()  # the primary this pass took was rolled back


async def test_taken_address_and_mac_reasons(rig: Rig) -> None:
    """An address or MAC another NIC holds: StaticIPTaken / MACTaken, waiting on the subnet."""
    setup_basic(rig)
    held = rig.ipam.allocate("sub-a", "other", ips="172.17.0.9")
    rig.add(
        pod("p1", networks="net-a", annotations={ann(A, "ip_address"): "172.17.0.9"}),
        pod("p2", networks="net-a", annotations={ann(A, "mac_address"): held.mac}),
    )
    reconcile = make_pod_reconciler(rig)
    for name in ("p1", "p2"):
        with pytest.raises(PermanentError):
            await reconcile(("default", name))
    assert rig.writer.reasons() == ["StaticIPTaken", "MACTaken"]
    assert sorted(rig.waits.wake(subnet_topic("sub-a"))) == [("default", "p1"), ("default", "p2")]


async def test_event_message_names_the_field_and_value(rig: Rig) -> None:
    """A networks-JSON static IP that is taken names the entry's field and the value."""
    setup_basic(rig)
    rig.ipam.allocate("sub-a", "other", ips="172.17.0.9")
    networks = json.dumps([{"name": "net-a", "ips": ["172.17.0.9"]}])
    rig.add(pod("p1", networks=networks))
    with pytest.raises(PermanentError):
        await make_pod_reconciler(rig)(KEY)
    [event] = rig.writer.events()
    assert event["reason"] == "StaticIPTaken"
    assert "k8s.v1.cni.cncf.io/networks[0].ips" in event["message"]
    assert "172.17.0.9" in event["message"]
    assert event["involvedObject"]["uid"] == rig.pod("default", "p1").uid


async def test_exhausted_subnet_waits_on_it(rig: Rig) -> None:
    """A full subnet: SubnetExhausted, nothing held, the pod waits for an address there."""
    rig.add(kube_ovn_nad("net-a"))
    rig.add_subnet(subnet("sub-a", "172.17.0.0/30", provider=A))  # one usable address
    rig.ipam.allocate("sub-a", "other")
    rig.add(pod("p1", networks="net-a"))
    with pytest.raises(PermanentError):
        await make_pod_reconciler(rig)(KEY)
    assert rig.writer.reasons() == ["SubnetExhausted"]
    assert rig.waits.wake(subnet_topic("sub-a")) == [KEY]


async def test_exhausted_provider_waits_on_every_candidate(rig: Rig) -> None:
    """With every subnet of a provider full, the pod waits on each of them."""
    rig.add(kube_ovn_nad("net-a"))
    for name, cidr in (("a1", "172.17.0.0/30"), ("a2", "172.27.0.0/30")):
        rig.add_subnet(subnet(name, cidr, provider=A))
        rig.ipam.allocate(name, f"other-{name}")
    rig.add(pod("p1", networks="net-a"))
    with pytest.raises(PermanentError):
        await make_pod_reconciler(rig)(KEY)
    assert rig.waits.wake(subnet_topic("a2")) == [KEY]


async def test_subnet_not_in_ipam_is_not_ready(rig: Rig) -> None:
    """A subnet Ready in the cache but not (yet) in the IPAM: SubnetNotReady, waiting on it."""
    rig.add(kube_ovn_nad("net-a"))
    rig.add_subnet(subnet("sub-a", "172.17.0.0/24", provider=A), serve=False)
    rig.serving.add("sub-a")
    rig.add(pod("p1", networks="net-a"))
    with pytest.raises(PermanentError):
        await make_pod_reconciler(rig)(KEY)
    assert rig.writer.reasons() == ["SubnetNotReady"]
    # Woken when the subnet is (again) found Ready, as the planner's SubnetNotReady is.
    assert rig.waits.wake(subnet_topic("sub-a")) == [KEY]


async def test_failure_rolls_back_what_this_pass_allocated(rig: Rig) -> None:
    """All or none: a refused attachment releases the primary address taken in the same pass."""
    setup_basic(rig)
    rig.ipam.allocate("sub-a", "other", ips="172.17.0.9")
    rig.add(pod("p1", networks="net-a", annotations={ann(A, "ip_address"): "172.17.0.9"}))
    with pytest.raises(PermanentError):
        await make_pod_reconciler(rig)(KEY)
    assert rig.ipam.lookup("p1.default") == ()
    assert len(rig.ipam.subnet("ovn-default")) == 0
    assert rig.usage == []  # nothing changed: no status refresh


async def test_allocation_reports_usage_of_each_subnet(rig: Rig) -> None:
    """Each subnet a pass took a fresh address in is reported once, for its status."""
    setup_basic(rig)
    rig.add(pod("p1", networks="net-a"))
    reconcile = make_pod_reconciler(rig)
    await reconcile(KEY)
    assert sorted(rig.usage) == ["ovn-default", "sub-a"]
    assert reconcile.allocated == 2


async def test_deleted_pod_releases_its_nics(rig: Rig) -> None:
    """A pod gone from the cache: its IP objects are deleted and its addresses freed."""
    setup_basic(rig)
    rig.add(pod("p1", networks="net-a"))
    reconcile = make_pod_reconciler(rig)
    await reconcile(KEY)
    rig.delete_pod(*KEY)
    rig.usage.clear()
    assert await reconcile(KEY) is Done
    deleted = sorted(c.name or "" for c in rig.writer.calls_to("delete", IPS))
    assert deleted == ["p1.default", f"p1.default.{A}"]
    assert rig.ipam.lookup("p1.default") == ()
    assert len(rig.ipam.subnet("sub-a")) == 0
    assert sorted(rig.usage) == ["ovn-default", "sub-a"]
    assert len(rig.ledger) == 0


async def test_finished_pod_releases_but_terminating_pod_keeps(rig: Rig) -> None:
    """A Succeeded pod gives its address back; a pod being deleted keeps it until gone."""
    setup_basic(rig)
    rig.add(pod("p1"), pod("p2"))
    reconcile = make_pod_reconciler(rig)
    await reconcile(KEY)
    await reconcile(("default", "p2"))
    rig.add({**pod("p1"), "status": {"phase": "Succeeded"}})
    terminating = pod("p2")
    terminating["metadata"]["deletionTimestamp"] = "2026-01-01T10:00:05Z"
    rig.add(terminating)
    await reconcile(KEY)
    await reconcile(("default", "p2"))
    assert [c.name for c in rig.writer.calls_to("delete", IPS)] == ["p1.default"]
    assert rig.ipam.lookup("p2.default") != ()


async def test_kept_pod_is_not_released(rig: Rig) -> None:
    """A gone pod the keep rule claims (a StatefulSet's) keeps its IP object and address."""
    setup_basic(rig)
    rig.add(pod("p1"))
    reconcile = make_pod_reconciler(rig, keeps=lambda key: key == KEY)
    await reconcile(KEY)
    rig.delete_pod(*KEY)
    await reconcile(KEY)
    assert rig.writer.calls_to("delete", IPS) == []
    assert rig.ipam.lookup("p1.default") != ()


async def test_gone_pod_stops_waiting(rig: Rig) -> None:
    """A pod deleted while waiting on a topic is no longer woken by it."""
    rig.add(pod("p1", networks="missing"))
    reconcile = make_pod_reconciler(rig)
    with pytest.raises(PermanentError):
        await reconcile(KEY)
    assert KEY in rig.waits
    rig.delete_pod(*KEY)
    await reconcile(KEY)
    assert KEY not in rig.waits


async def test_echo_of_own_patch_is_recognised_once(rig: Rig) -> None:
    """The pod's next record equal to the patched one is its own echo; only once, only equal."""
    setup_basic(rig)
    rig.add(pod("p1"))
    reconcile = make_pod_reconciler(rig)
    before = rig.pod(*KEY)
    await reconcile(KEY)
    rig.echo(*KEY)
    echoed = rig.pod(*KEY)
    assert not rig.echoes.is_echo(KEY, before)  # not the patched record: consumed, not echo
    await reconcile(KEY)  # nothing to write: no new expectation
    assert not rig.echoes.is_echo(KEY, echoed)

    rig.add(pod("p2"))
    await reconcile(("default", "p2"))
    rig.echo("default", "p2")
    assert rig.echoes.is_echo(("default", "p2"), rig.pod("default", "p2"))
    assert not rig.echoes.is_echo(("default", "p2"), rig.pod("default", "p2"))


async def test_patch_of_a_gone_pod_releases_its_nics(rig: Rig) -> None:
    """The pod vanished between the cache read and the patch (404): its NICs are released."""
    setup_basic(rig)
    rig.add(pod("p1"))
    rig.writer.remove(PODS, "p1", "default")
    reconcile = make_pod_reconciler(rig)
    assert await reconcile(KEY) is Done
    assert [c.name for c in rig.writer.calls_to("delete", IPS)] == ["p1.default"]
    assert rig.ipam.lookup("p1.default") == ()
    assert not rig.echoes.is_echo(KEY, rig.pod(*KEY).patched({}))


async def test_patch_conflict_propagates_and_forgets_the_echo(rig: Rig) -> None:
    """A 409 on the pod patch (a recreated namesake) is retried by the queue; no echo kept."""
    setup_basic(rig)
    rig.add(pod("p1"))
    rig.writer.fail("patch", Conflict, resource=PODS)
    reconcile = make_pod_reconciler(rig)
    with pytest.raises(Conflict):
        await reconcile(KEY)
    rig.echo(*KEY)  # unchanged pod
    assert not rig.echoes.is_echo(KEY, rig.pod(*KEY))
    assert rig.ipam.lookup("p1.default") != ()  # kept for the retry: the IPAM is idempotent
    await reconcile(KEY)
    assert [c.failed for c in rig.writer.calls_to("patch", PODS)] == ["Conflict", ""]
    assert len(rig.writer.calls_to("create", IPS)) == 1  # the retry reuses the IP object


async def test_ip_object_failure_sends_no_pod_patch(rig: Rig) -> None:
    """A 5xx on an IP object create stops before the pod patch; the NIC stays releasable."""
    setup_basic(rig)
    rig.add(pod("p1"))
    rig.writer.fail("create", Transient, resource=IPS)
    reconcile = make_pod_reconciler(rig)
    with pytest.raises(Transient):
        await reconcile(KEY)
    assert rig.writer.calls_to("patch", PODS) == []
    assert rig.ledger.nics_of_pod(KEY) == frozenset({"p1.default"})
    rig.delete_pod(*KEY)
    await reconcile(KEY)
    assert rig.ipam.lookup("p1.default") == ()


async def test_retry_allocates_the_same_address(rig: Rig) -> None:
    """A retry after a failed write gets the same address and MAC, never a second one."""
    setup_basic(rig)
    rig.add(pod("p1"))
    rig.writer.fail("patch", Transient, resource=PODS)
    reconcile = make_pod_reconciler(rig)
    with pytest.raises(Transient):
        await reconcile(KEY)
    first = rig.ipam.lookup("p1.default")
    await reconcile(KEY)
    assert rig.ipam.lookup("p1.default") == first
    assert len(rig.ipam.subnet("ovn-default")) == 1


async def test_nic_being_released_is_waited_for(rig: Rig) -> None:
    """A NIC whose release awaits the API is not allocated: the pod waits on the NIC's topic."""
    setup_basic(rig)
    rig.add(pod("p1"))
    reconcile = make_pod_reconciler(rig)
    rig.ledger.begin_release("p1.default")
    assert await reconcile(KEY) is Done
    assert rig.writer.writes() == []
    assert rig.ipam.lookup("p1.default") == ()
    assert rig.waits.wake(nic_topic("p1.default")) == [KEY]


async def test_release_in_flight_blocks_the_namesake(rig: Rig) -> None:
    """A namesake reconciled while its predecessor's DELETE is held waits, then reuses nothing."""
    setup_basic(rig)
    rig.add(pod("p1"))
    reconcile = make_pod_reconciler(rig)
    await reconcile(KEY)
    old = rig.ipam.lookup("p1.default")[0].ips
    rig.delete_pod(*KEY)
    held = rig.writer.hold("delete", IPS)
    release = asyncio.create_task(reconcile(KEY))
    await held.entered.wait()
    rig.add(pod("p1"))  # recreated under the same name
    assert await reconcile(KEY) is Done
    assert rig.ipam.lookup("p1.default")[0].ips == old  # still the old holder's, not re-given
    held.release()
    await release
    assert rig.settled == ["p1.default"]
    assert rig.waits.wake(nic_topic("p1.default")) == [KEY]
    assert rig.ipam.lookup("p1.default") == ()


async def test_subnet_change_moves_the_nic(rig: Rig) -> None:
    """Naming another subnet moves the NIC: new address first, then the old one is freed."""
    setup_basic(rig)
    rig.add_subnet(subnet("sub-a2", "172.27.0.0/24", provider=A))
    rig.add(pod("p1", networks="net-a"))
    reconcile = make_pod_reconciler(rig)
    await reconcile(KEY)
    nic = f"p1.default.{A}"
    assert [a.subnet for a in rig.ipam.lookup(nic)] == ["sub-a"]
    rig.usage.clear()
    rig.add(pod("p1", networks="net-a", annotations={ann(A, "logical_switch"): "sub-a2"}))
    await reconcile(KEY)
    assert [a.subnet for a in rig.ipam.lookup(nic)] == ["sub-a2"]
    assert sorted(rig.usage) == ["sub-a", "sub-a2"]
    patch = rig.writer.calls_to("patch", IPS)[-1]
    assert patch.name == nic
    assert patch.body["spec"]["subnet"] == "sub-a2"


async def test_already_annotated_pod_gets_no_patch(rig: Rig) -> None:
    """A pod whose annotations already say what the IPAM holds is not patched again."""
    setup_basic(rig)
    rig.add(pod("p1"))
    await make_pod_reconciler(rig)(KEY)
    rig.echo(*KEY)
    annotated = rig.writer.get_object(PODS, "p1", "default")
    assert annotated is not None
    # A restart: fresh ledger and reconciler, the IPAM rebuilt with the same allocation.
    fresh = Rig(caches=rig.caches, writer=rig.writer, ipam=rig.ipam, serving=rig.serving)
    patches = len(rig.writer.calls_to("patch", PODS))
    await make_pod_reconciler(fresh)(KEY)
    assert len(rig.writer.calls_to("patch", PODS)) == patches


async def test_host_network_pod_gets_nothing(rig: Rig) -> None:
    """A hostNetwork pod is left alone: no address, no write, no Event."""
    setup_basic(rig)
    body = pod("p1", networks="net-a")
    body["spec"]["hostNetwork"] = True
    rig.add(body)
    assert await make_pod_reconciler(rig)(KEY) is Done
    assert rig.writer.calls == []


async def test_address_only_provider_is_annotated(rig: Rig) -> None:
    """A macvlan NAD with kube-ovn IPAM gets its address under provider ``<nad>.<ns>``."""
    rig.add(macvlan_nad("mv"))
    rig.add_subnet(subnet("mv-sub", "192.168.5.0/24", provider="mv.default"))
    rig.add(pod("p1", networks="mv"))
    await make_pod_reconciler(rig)(KEY)
    annotations = rig.writer.calls_to("patch", PODS)[0].body["metadata"]["annotations"]
    assert annotations[ann("mv.default", "ip_address")] == "192.168.5.2"
    assert [c.name for c in rig.writer.calls_to("create", IPS)] == ["p1.default.mv.default"]


async def test_ports_are_ensured_before_the_pod_patch(rig: Rig) -> None:
    """With an NB, each NIC's port exists before the pod says ``allocated``; once per change."""
    log: list[str] = []
    northbound = FakeNorthbound(log)
    rig.writer.on_call = lambda call: log.append(f"{call.verb} {call.plural} {call.name}")
    rig.add_subnet(subnet("ovn-default", "10.16.0.0/24", default=True))
    rig.add(pod("p1"))
    reconcile = make_pod_reconciler(rig, northbound=northbound)
    await reconcile(KEY)
    assert log == ["create ips p1.default", "ensure_port p1.default", "patch pods p1"]
    rig.echo(*KEY)
    await reconcile(KEY)
    assert log.count("ensure_port p1.default") == 1


async def test_release_deletes_the_port_before_freeing(rig: Rig) -> None:
    """A released NIC's port goes before its address is free: no two ports carry it."""
    northbound = FakeNorthbound()
    rig.add_subnet(subnet("ovn-default", "10.16.0.0/24", default=True))
    rig.add(pod("p1"))
    releaser = make_releaser(rig, northbound=northbound)
    reconcile = make_pod_reconciler(rig, northbound=northbound, releaser=releaser)
    await reconcile(KEY)
    rig.delete_pod(*KEY)
    held_when_deleted: list[bool] = []
    original = northbound.delete_port

    async def delete_port(name: str) -> Change:
        held_when_deleted.append(bool(rig.ipam.lookup(name)))
        return await original(name)

    northbound.delete_port = delete_port  # type: ignore[method-assign]
    await reconcile(KEY)
    assert held_when_deleted == [True]
    assert "p1.default" not in northbound.ports


def pool_chooser(choice: PoolChoice) -> PoolChooser:
    """A pool chooser that sends every attachment NIC (not the primary) to ``choice``."""
    return lambda pod, provider, annotations, static: None if provider == "ovn" else choice


async def test_full_pool_is_ippool_exhausted(rig: Rig) -> None:
    """A NIC limited to a pool with no free address: IPPoolExhausted, waiting on the pool."""
    setup_basic(rig)
    rig.ipam.allocate("sub-a", "other", ips="172.17.0.9")
    choice = PoolChoice(
        subnet="sub-a", within=limit_of("pool1", [("172.17.0.9",)]), topics=("ippool:pool1",)
    )
    planner = make_planner(rig, pools=pool_chooser(choice))
    rig.add(pod("p1", networks="net-a"))
    with pytest.raises(PermanentError):
        await make_pod_reconciler(rig, planner=planner)(KEY)
    assert rig.writer.reasons() == ["IPPoolExhausted"]
    assert rig.waits.wake("ippool:pool1") == [KEY]


async def test_nic_using_a_vip_address_never_frees_it(rig: Rig) -> None:
    """A NIC lent a Vip's address carries it, and its release leaves the Vip holding it."""
    setup_basic(rig)
    vip = rig.ipam.allocate("sub-a", "vip:v1", ips="172.17.0.50")
    choice = PoolChoice(subnet="sub-a", within=None, ipam_owner="vip:v1")
    planner = make_planner(rig, pools=pool_chooser(choice))
    rig.add(pod("p1", networks="net-a"))
    reconcile = make_pod_reconciler(rig, planner=planner)
    await reconcile(KEY)
    nic = f"p1.default.{A}"
    created = {c.name: c.body for c in rig.writer.calls_to("create", IPS)}
    assert created[nic]["spec"]["ipAddress"] == "172.17.0.50"
    assert rig.ipam.lookup(nic) == ()  # the Vip holds it, not the NIC
    rig.delete_pod(*KEY)
    await reconcile(KEY)
    assert rig.writer.get_object(IPS, nic) is None
    assert rig.ipam.lookup("vip:v1") == (vip,)


async def test_moving_a_shared_address_is_refused(rig: Rig) -> None:
    """Moving a VM's address another launcher pod holds: SharedAddressInUse, waits on the subnet."""
    rig.add_subnet(subnet("ovn-default", "10.16.0.0/24", default=True))
    rig.add(pod("src", vm="vm1"), pod("dst", vm="vm1"))
    reconcile = make_pod_reconciler(rig)
    await reconcile(("default", "src"))
    await reconcile(("default", "dst"))
    rig.add(pod("dst", vm="vm1", annotations={ann("ovn", "ip_address"): "10.16.0.77"}))
    with pytest.raises(PermanentError):
        await reconcile(("default", "dst"))
    assert rig.writer.reasons("dst") == ["SharedAddressInUse"]
    assert rig.waits.wake(subnet_topic("ovn-default")) == [("default", "dst")]


async def test_ip_objects_are_written_concurrently(rig: Rig) -> None:
    """A pod's IP objects go out at once (one round trip), all before the pod patch."""
    setup_basic(rig)
    rig.add(pod("p1", networks="net-a"))
    both_sent = asyncio.Event()
    rig.writer.on_call = lambda call: (
        both_sent.set() if len(rig.writer.calls_to("create", IPS)) == 2 else None
    )
    held = rig.writer.hold("create", IPS)
    task = asyncio.create_task(make_pod_reconciler(rig)(KEY))
    await held.entered.wait()
    # Sequential writes would never send the second while the first is held.
    await asyncio.wait_for(both_sent.wait(), timeout=5)
    assert rig.writer.calls_to("patch", PODS) == []
    held.release()
    assert await task is Done
    assert len(rig.writer.calls_to("patch", PODS)) == 1


async def test_dual_stack_addresses_are_ipv4_first(rig: Rig) -> None:
    """A dual-stack subnet gives one address per family, written IPv4 first everywhere."""
    rig.add_subnet(subnet("ds", "fd00::/120,10.16.0.0/24", default=True))
    rig.add(pod("p1"))
    await make_pod_reconciler(rig)(KEY)
    [create] = rig.writer.calls_to("create", IPS)
    assert create.body["spec"]["ipAddress"] == "10.16.0.2,fd00::2"
    annotations = rig.writer.calls_to("patch", PODS)[0].body["metadata"]["annotations"]
    assert annotations[ann("ovn", "ip_address")] == "10.16.0.2,fd00::2"


async def test_claim_nic_is_the_claim_s(rig: Rig) -> None:
    """An IPAMClaim's NIC is recorded under the claim: the pod's deletion does not release it."""
    rig.add(kube_ovn_nad("net-a", allowPersistentIPs=True))
    rig.add_subnet(subnet("sub-a", "172.17.0.0/24", provider=A))
    networks = json.dumps([{"name": "net-a", "ipam-claim-reference": "claim1"}])
    rig.add(pod("p1", networks=networks))
    reconcile = make_pod_reconciler(rig, planner=make_planner(rig, primary_network=False))
    await reconcile(KEY)
    nic = f"claim1.default.{A}"
    [create] = rig.writer.calls_to("create", IPS)
    assert (create.name, create.body["spec"]["podName"]) == (nic, "claim1")
    assert create.body["spec"]["podType"] == CLAIM_POD_TYPE
    rig.delete_pod(*KEY)
    await reconcile(KEY)
    assert rig.writer.calls_to("delete", IPS) == []
    assert rig.ipam.lookup(nic) != ()
    assert rig.ledger.nics_of_pod(("default", claim_ledger_owner("claim1"))) == {nic}


async def test_mac_space_exhausted() -> None:
    """No MAC left under the controller's prefix: MACSpaceExhausted, nothing held."""
    rig = Rig(ipam=IPAM(mac_prefix="0e:00:00:00:00", seed=1))  # 256 MACs
    rig.add_subnet(subnet("big", "10.16.0.0/22", default=True))
    taken = 0
    while True:
        try:
            rig.ipam.allocate("big", f"filler-{taken}")
        except MACExhaustedError:
            break
        taken += 1
    rig.add(pod("p1"))
    with pytest.raises(PermanentError):
        await make_pod_reconciler(rig)(KEY)
    assert rig.writer.reasons() == ["MACSpaceExhausted"]
    assert rig.ipam.lookup("p1.default") == ()


async def test_a_subnet_gone_invalid_before_the_writes_leaves_no_write_half_begun(
    rig: Rig,
) -> None:
    """A NIC whose subnet lost its valid spec since planning stops the pass before any write:
    retried, with no IP object write begun for the other NICs (nor left unawaited)."""
    setup_basic(rig)
    rig.add(pod("p1", networks="net-a"))
    # The cache now shows sub-a invalid; the reconciler still serves it (not yet reconciled).
    rig.caches.put(subnet("sub-a", "not-a-cidr", provider=A))
    reconciler = make_pod_reconciler(rig)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(RetryableError, match="sub-a has no valid spec"):
            await reconciler(KEY)
        gc.collect()
    assert [str(w.message) for w in caught if w.category is RuntimeWarning] == []
    assert rig.writer.writes() == []


async def test_mac_space_exhausted_within_a_pool_is_not_a_full_pool() -> None:
    """No MAC left for a NIC limited to a pool with free addresses: MACSpaceExhausted (the
    pool is not the problem), not IPPoolExhausted."""
    rig = Rig(ipam=IPAM(mac_prefix="0e:00:00:00:00", seed=1))  # 256 MACs
    rig.add(kube_ovn_nad("net-a"))
    rig.add_subnet(subnet("sub-a", "172.17.0.0/22", provider=A))
    taken = 0
    while True:
        try:
            rig.ipam.allocate("sub-a", f"filler-{taken}")
        except MACExhaustedError:
            break
        taken += 1
    choice = PoolChoice(
        subnet="sub-a", within=limit_of("pool1", [("172.17.3.200",)]), topics=("ippool:pool1",)
    )
    planner = make_planner(rig, primary_network=False, pools=pool_chooser(choice))
    rig.add(pod("p1", networks="net-a"))
    with pytest.raises(PermanentError):
        await make_pod_reconciler(rig, planner=planner)(KEY)
    assert rig.writer.reasons() == ["MACSpaceExhausted"]
