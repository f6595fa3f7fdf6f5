"""NicPlanner alone: which NICs a pod asks for, in which subnet, and why not.

The planner only reads caches; each test feeds them dicts and asks for a plan.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ovnctl.ipam import AddressLimit
from ovnctl.reconcilers.nics import AttachmentProblem, NicRequest, PoolChoice
from ovnctl.reconcilers.waiting import nad_topic, provider_topic, subnet_topic
from tests.controller.objects import kube_ovn_nad, macvlan_nad, pod, subnet
from tests.reconcilers.factories import Rig, make_planner

A = "net-a.default.ovn"
B = "net-b.default.ovn"
NETWORKS = "k8s.v1.cni.cncf.io/networks"


def plan(rig: Rig, body: dict[str, Any], **planner: Any) -> list[NicRequest]:
    rig.add(body)
    meta = body["metadata"]
    return make_planner(rig, **planner).plan(
        rig.pod(meta.get("namespace", "default"), meta["name"])
    )


def problem(rig: Rig, body: dict[str, Any], **planner: Any) -> AttachmentProblem:
    with pytest.raises(AttachmentProblem) as caught:
        plan(rig, body, **planner)
    return caught.value


def two_networks(rig: Rig) -> None:
    rig.add(kube_ovn_nad("net-a"), kube_ovn_nad("net-b"))
    rig.add_subnet(subnet("sub-a", "172.17.0.0/24", provider=A))
    rig.add_subnet(subnet("sub-b", "172.18.0.0/24", provider=B))


def host_local_nad(name: str) -> dict[str, Any]:
    config = {"cniVersion": "0.3.1", "type": "macvlan", "ipam": {"type": "host-local"}}
    return {
        "apiVersion": "k8s.cni.cncf.io/v1",
        "kind": "NetworkAttachmentDefinition",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"config": json.dumps(config)},
    }


# -- the primary network ---------------------------------------------------------------------


def test_primary_nic_comes_from_the_default_subnet(rig: Rig) -> None:
    """The primary NIC is eth0 on the default subnet, named ``<pod>.<namespace>``."""
    rig.add_subnet(subnet("ovn-default", "10.16.0.0/16", default=True))
    [nic] = plan(rig, pod("p1"))
    assert (nic.provider, nic.subnet, nic.nic, nic.interface) == (
        "ovn",
        "ovn-default",
        "p1.default",
        "eth0",
    )


def test_no_default_subnet_means_no_primary_nic(rig: Rig) -> None:
    """Without a default or namespace subnet the pod's primary network is not ovnctl's."""
    rig.add_subnet(subnet("other", "10.17.0.0/16"))
    assert plan(rig, pod("p1")) == []


def test_primary_network_off(rig: Rig) -> None:
    """``primary_network=False``: attachments only, no primary NIC."""
    rig.add_subnet(subnet("ovn-default", "10.16.0.0/16", default=True))
    two_networks(rig)
    nics = plan(rig, pod("p1", networks="net-a"), primary_network=False)
    assert [n.provider for n in nics] == [A]


def test_host_network_pod_has_no_nics(rig: Rig) -> None:
    """A hostNetwork pod shares the node's namespace: no NIC, primary or attachment."""
    rig.add_subnet(subnet("ovn-default", "10.16.0.0/16", default=True))
    two_networks(rig)
    body = pod("p1", networks="net-a")
    body["spec"]["hostNetwork"] = True
    assert plan(rig, body) == []


def test_namespace_subnet_wins_over_default(rig: Rig) -> None:
    """A subnet listing the pod's namespace serves its primary NIC instead of the default."""
    rig.add_subnet(subnet("ovn-default", "10.16.0.0/16", default=True))
    rig.add_subnet(subnet("team", "10.20.0.0/16", namespaces=["team-ns"]))
    [nic] = plan(rig, pod("p1", namespace="team-ns"))
    assert nic.subnet == "team"
    assert nic.candidates == ("team",)


def test_logical_switch_annotation_names_the_primary_subnet(rig: Rig) -> None:
    """``ovn.kubernetes.io/logical_switch`` picks the primary subnet over the default one."""
    rig.add_subnet(subnet("ovn-default", "10.16.0.0/16", default=True))
    rig.add_subnet(subnet("chosen", "10.30.0.0/16"))
    [nic] = plan(rig, pod("p1", annotations={"ovn.kubernetes.io/logical_switch": "chosen"}))
    assert nic.subnet == "chosen"
    assert nic.candidates == ()


def test_pod_older_than_every_default_subnet_gets_no_primary(rig: Rig) -> None:
    """A pod created strictly before every default subnet keeps its own network."""
    rig.add_subnet(
        stamped(subnet("ovn-default", "10.16.0.0/16", default=True), "2026-01-01T10:00:05Z")
    )
    assert plan(rig, stamped(pod("old"), "2026-01-01T10:00:04Z")) == []
    [same] = plan(rig, stamped(pod("same"), "2026-01-01T10:00:05Z"))
    assert same.subnet == "ovn-default"
    unknown = pod("unknown")
    unknown["metadata"]["creationTimestamp"] = ""
    assert len(plan(rig, unknown)) == 1


def test_pod_holding_a_primary_address_is_never_dropped(rig: Rig) -> None:
    """An older pod that already holds an ovnctl primary address keeps being planned."""
    rig.add_subnet(
        stamped(subnet("ovn-default", "10.16.0.0/16", default=True), "2026-01-01T10:00:05Z")
    )
    body = stamped(
        pod("old", annotations={"ovn.kubernetes.io/allocated": "true"}), "2026-01-01T10:00:00Z"
    )
    assert [n.subnet for n in plan(rig, body)] == ["ovn-default"]


def stamped(body: dict[str, Any], created: str) -> dict[str, Any]:
    body["metadata"]["creationTimestamp"] = created
    return body


# -- attachments, per form of the networks annotation ----------------------------------------


def test_comma_list_forms(rig: Rig) -> None:
    """``name``, ``ns/name@ifname`` and blank items each plan one NIC with its interface."""
    two_networks(rig)
    nics = plan(rig, pod("p1", networks=" net-a@eth1 , , default/net-b@eth2 ,"))
    assert [(n.provider, n.subnet, n.interface) for n in nics] == [
        (A, "sub-a", "eth1"),
        (B, "sub-b", "eth2"),
    ]
    assert [n.nic for n in nics] == [f"p1.default.{A}", f"p1.default.{B}"]


def test_json_list_with_ips_and_mac(rig: Rig) -> None:
    """A JSON list entry's ``ips`` and ``mac`` become the static request, naming that field."""
    two_networks(rig)
    networks = json.dumps(
        [{"name": "net-a", "ips": ["172.17.0.9"], "mac": "02:00:00:00:00:09", "interface": "n1"}]
    )
    [nic] = plan(rig, pod("p1", networks=networks))
    assert nic.static.ips == ("172.17.0.9",)
    assert nic.static.mac == "02:00:00:00:00:09"
    assert nic.interface == "n1"
    assert nic.ips_from == f"{NETWORKS}[0].ips"
    assert nic.mac_from == f"{NETWORKS}[0].mac"


def test_json_object_is_one_attachment(rig: Rig) -> None:
    """A single JSON object (not a list), with leading blanks, is one attachment."""
    two_networks(rig)
    [nic] = plan(rig, pod("p1", networks='  {"name": "net-b", "namespace": "default"}'))
    assert nic.provider == B


def test_annotation_static_ip_names_the_annotation(rig: Rig) -> None:
    """A static IP in ``<provider>.kubernetes.io/ip_address`` is attributed to that key."""
    two_networks(rig)
    body = pod("p1", networks="net-a", annotations={f"{A}.kubernetes.io/ip_address": "172.17.0.7"})
    [nic] = plan(rig, body)
    assert nic.static.ips == ("172.17.0.7",)
    assert nic.ips_from == f"pod annotation {A}.kubernetes.io/ip_address"


def test_nad_of_another_namespace(rig: Rig) -> None:
    """A pod may use another namespace's NAD; the provider names the NAD's namespace."""
    rig.add(kube_ovn_nad("shared", "infra"))
    rig.add_subnet(subnet("shared-sub", "172.19.0.0/24", provider="shared.infra.ovn"))
    [nic] = plan(rig, pod("p1", namespace="apps", networks="infra/shared"))
    assert (nic.provider, nic.nic) == ("shared.infra.ovn", "p1.apps.shared.infra.ovn")


def test_address_only_provider(rig: Rig) -> None:
    """A macvlan NAD with kube-ovn IPAM has the address-only provider ``<nad>.<ns>``."""
    rig.add(macvlan_nad("mv"))
    rig.add_subnet(subnet("mv-sub", "192.168.5.0/24", provider="mv.default"))
    [nic] = plan(rig, pod("p1", networks="mv"))
    assert nic.provider == "mv.default"


def test_nad_of_another_ipam_is_skipped(rig: Rig) -> None:
    """A NAD whose IPAM is not kube-ovn's is another IPAM's business: no NIC, no problem."""
    rig.add(host_local_nad("hl"))
    assert plan(rig, pod("p1", networks="hl")) == []


def test_missing_nad_waits_on_it(rig: Rig) -> None:
    """NadNotFound names the networks entry and waits on that NAD."""
    found = problem(rig, pod("p1", networks="net-x"))
    assert found.reason == "NadNotFound"
    assert f"{NETWORKS}[0] (default/net-x)" in found.message
    assert found.wait_for == (nad_topic("default", "net-x"),)


def test_malformed_nad(rig: Rig) -> None:
    """A NAD whose config is not JSON: NadMalformed, waiting on the NAD."""
    broken = kube_ovn_nad("broken")
    broken["spec"]["config"] = "{not json"
    rig.add(broken)
    found = problem(rig, pod("p1", networks="broken"))
    assert found.reason == "NadMalformed"
    assert found.wait_for == (nad_topic("default", "broken"),)


def test_same_provider_twice(rig: Rig) -> None:
    """The same NAD twice would need two addresses for one provider: DuplicateProvider."""
    two_networks(rig)
    found = problem(rig, pod("p1", networks="net-a@eth1,net-a@eth2"))
    assert found.reason == "DuplicateProvider"
    assert found.wait_for == ()


def test_provider_without_subnet(rig: Rig) -> None:
    """A served NAD no subnet names: ProviderNotBound, waiting on the provider."""
    rig.add(kube_ovn_nad("net-a"))
    found = problem(rig, pod("p1", networks="net-a"))
    assert found.reason == "ProviderNotBound"
    assert found.wait_for == (provider_topic(A),)


@pytest.mark.parametrize(
    ("networks", "field"),
    [
        pytest.param("net-a@@eth2", f"{NETWORKS}[0]", id="comma-list"),
        pytest.param("[{", NETWORKS, id="json"),
    ],
)
def test_malformed_networks_annotation(rig: Rig, networks: str, field: str) -> None:
    """A broken networks annotation: InvalidNetworksAnnotation naming the field and value."""
    two_networks(rig)
    found = problem(rig, pod("p1", networks=networks))
    assert found.reason == "InvalidNetworksAnnotation"
    assert field in found.message
    assert repr(networks) in found.message


@pytest.mark.parametrize(
    ("suffix", "value", "reason"),
    [
        pytest.param("ip_address", "10.0.0.300", "InvalidStaticIP", id="ip"),
        pytest.param("mac_address", "nope", "InvalidMAC", id="mac"),
    ],
)
def test_malformed_static_annotation(rig: Rig, suffix: str, value: str, reason: str) -> None:
    """A malformed static IP or MAC annotation is refused before the IPAM is asked."""
    two_networks(rig)
    body = pod("p1", networks="net-a", annotations={f"{A}.kubernetes.io/{suffix}": value})
    found = problem(rig, body)
    assert found.reason == reason
    assert value in found.message


# -- choosing the subnet ---------------------------------------------------------------------


def test_first_subnet_by_name_with_room(rig: Rig) -> None:
    """Without a choice, the first serving subnet by name is used until it is full."""
    rig.add(kube_ovn_nad("net-a"))
    rig.add_subnet(subnet("a2", "172.27.0.0/24", provider=A))
    rig.add_subnet(subnet("a1", "172.17.0.0/30", provider=A))  # room for one
    [nic] = plan(rig, pod("p1", networks="net-a"))
    assert nic.subnet == "a1"
    assert nic.candidates == ("a1", "a2")
    rig.ipam.allocate("a1", "someone")
    [nic] = plan(rig, pod("p2", networks="net-a"))
    assert nic.subnet == "a2"


def test_all_full_picks_the_first_serving(rig: Rig) -> None:
    """With every candidate full the first serving one is chosen (the IPAM reports it full)."""
    rig.add(kube_ovn_nad("net-a"))
    for name, cidr in (("a1", "172.17.0.0/30"), ("a2", "172.27.0.0/30")):
        rig.add_subnet(subnet(name, cidr, provider=A))
        rig.ipam.allocate(name, f"x-{name}")
    [nic] = plan(rig, pod("p1", networks="net-a"))
    assert nic.subnet == "a1"


def test_subnets_not_serving_are_skipped(rig: Rig) -> None:
    """A subnet that is not Ready is never chosen by rule."""
    rig.add(kube_ovn_nad("net-a"))
    rig.add_subnet(subnet("a1", "172.17.0.0/24", provider=A), serve=False)
    rig.add_subnet(subnet("a2", "172.27.0.0/24", provider=A))
    [nic] = plan(rig, pod("p1", networks="net-a"))
    assert nic.subnet == "a2"


def test_no_serving_subnet_waits_on_all_of_them(rig: Rig) -> None:
    """No candidate Ready: SubnetNotReady, waiting on the provider and each candidate."""
    rig.add(kube_ovn_nad("net-a"))
    rig.add_subnet(subnet("a1", "172.17.0.0/24", provider=A), serve=False)
    found = problem(rig, pod("p1", networks="net-a"))
    assert found.reason == "SubnetNotReady"
    assert found.wait_for == (provider_topic(A), subnet_topic("a1"))


@pytest.mark.parametrize(
    ("switch", "serve", "reason"),
    [
        pytest.param("nope", True, "SubnetNotFound", id="missing"),
        pytest.param("other-provider", True, "SubnetProviderMismatch", id="provider"),
        pytest.param("a1", False, "SubnetNotReady", id="not-ready"),
    ],
)
def test_named_subnet_checks(rig: Rig, switch: str, serve: bool, reason: str) -> None:
    """A subnet named by annotation must exist, serve the provider and be Ready."""
    rig.add(kube_ovn_nad("net-a"))
    rig.add_subnet(subnet("a1", "172.17.0.0/24", provider=A), serve=serve)
    rig.add_subnet(subnet("other-provider", "172.18.0.0/24"))
    body = pod("p1", networks="net-a", annotations={f"{A}.kubernetes.io/logical_switch": switch})
    found = problem(rig, body)
    assert found.reason == reason
    assert found.wait_for == (subnet_topic(switch),)
    assert f"{A}.kubernetes.io/logical_switch" in found.message


def test_pool_choice_sends_the_nic(rig: Rig) -> None:
    """A pool chooser's subnet and limit are used; a static IP bypasses the pool."""
    two_networks(rig)
    rig.add_subnet(subnet("pooled", "172.27.0.0/24", provider=A))
    limit = AddressLimit(name="pool1", ranges={})
    asked: list[tuple[str, str]] = []

    def chooser(pod: Any, provider: str, annotations: Any, static: Any) -> PoolChoice | None:
        asked.append((pod.name, provider))
        if provider != A:
            return None
        return PoolChoice(subnet="pooled", within=limit, topics=("ippool:pool1",))

    [nic] = plan(rig, pod("p1", networks="net-a"), pools=chooser)
    assert (nic.subnet, nic.within, nic.pool_topics) == ("pooled", limit, ("ippool:pool1",))
    body = pod("p2", networks="net-a", annotations={f"{A}.kubernetes.io/ip_address": "172.17.0.5"})
    [static] = plan(rig, body, pools=chooser)
    assert static.within is None
    assert ("p2", A) not in asked  # a static IP wins over any pool


@pytest.mark.parametrize("primary", [False, True], ids=["attachment", "primary"])
def test_pool_subnet_not_ready_waits_for_the_subnet_and_the_pool(rig: Rig, primary: bool) -> None:
    """A pool whose subnet stopped serving sends no NIC there before the pool catches up."""
    two_networks(rig)
    provider = "ovn" if primary else A
    rig.add_subnet(subnet("pooled", "172.27.0.0/24", provider=provider), serve=False)
    limit = AddressLimit(name="pool1", ranges={})

    def chooser(pod: Any, asked: str, annotations: Any, static: Any) -> PoolChoice | None:
        if asked != provider:
            return None
        return PoolChoice(subnet="pooled", within=limit, topics=("ippool:pool1",))

    found = problem(rig, pod("p1", networks="" if primary else "net-a"), pools=chooser)
    assert found.reason == "SubnetNotReady"
    assert found.wait_for == (subnet_topic("pooled"), "ippool:pool1")
    assert "'pooled'" in found.message


def test_claim_reference_names_the_nic_after_the_claim(rig: Rig) -> None:
    """With persistent IPs allowed, the NIC belongs to the IPAMClaim the attachment names."""
    rig.add(kube_ovn_nad("net-a", allowPersistentIPs=True))
    rig.add_subnet(subnet("sub-a", "172.17.0.0/24", provider=A))
    checked: list[str] = []
    networks = json.dumps([{"name": "net-a", "ipam-claim-reference": "claim1"}])
    [nic] = plan(
        rig,
        pod("p1", networks=networks),
        claims=lambda pod, nad, attachment, nic: checked.append(nic),
    )
    assert (nic.nic, nic.claim) == (f"claim1.default.{A}", "claim1")
    assert checked == [nic.nic]
