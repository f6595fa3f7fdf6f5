"""NAD configs: which are served, the provider derived, and malformed input."""

from __future__ import annotations

import json

import pytest

from ovnctl.models import NadConfig, nad_problem, parse_nad
from tests.models.conftest import example, load_examples


def conf(**fields: object) -> str:
    return json.dumps(fields)


# -- the shared samples ---------------------------------------------------------------


def test_sample_kube_ovn_single_conf():
    """A single kube-ovn conf is served by OVN as <nad>.<ns>.ovn; its provider key agrees."""
    nad = parse_nad(body=example("nads.yaml", name="attachnet"))
    assert nad.error is None
    assert nad.key == ("default", "attachnet")
    assert nad.provider == "attachnet.default.ovn"
    assert nad.served_by_ovn
    assert nad.served
    assert not nad.ipam_only
    assert nad.plugin_type == "kube-ovn"
    assert nad.cni_version == "0.3.0"
    assert nad.declared_provider == "attachnet.default.ovn"
    assert nad.warning is None


def test_sample_macvlan_with_kube_ovn_ipam():
    """macvlan with kube-ovn IPAM is IPAM-only: provider <nad>.<ns>, no logical switch."""
    nad = parse_nad(body=example("nads.yaml", name="macvlan"))
    assert nad.provider == "macvlan.default"
    assert not nad.served_by_ovn
    assert nad.ipam_only
    assert (nad.plugin_type, nad.ipam_type) == ("macvlan", "kube-ovn")
    assert nad.declared_provider == "macvlan.default"
    assert nad.warning is None


def test_sample_conf_list_with_kube_ovn_plugin():
    """A conf list with a kube-ovn entry is OVN-served; the CNI name may differ from the NAD."""
    nad = parse_nad(body=example("nads.yaml", name="chained"))
    assert nad.provider == "chained.default.ovn"
    assert nad.served_by_ovn
    assert nad.cni_name == "chained-net"
    assert nad.cni_version == "0.4.0"
    assert nad.warning is None


def test_sample_sriov_not_served():
    """A NAD with neither kube-ovn plugin nor kube-ovn IPAM is not served, and not an error."""
    nad = parse_nad(body=example("nads.yaml", name="sriov-net"))
    assert nad.error is None
    assert nad.provider is None
    assert not nad.served
    assert not nad.ipam_only
    assert (nad.plugin_type, nad.ipam_type) == ("sriov", "host-local")


def test_all_samples_parse_without_error():
    """Every sample NAD parses cleanly."""
    for body in load_examples("nads.yaml"):
        assert parse_nad(body=body).error is None


# -- provider derivation --------------------------------------------------------------


def test_kube_ovn_plugin_wins_over_kube_ovn_ipam_elsewhere(nad_body):
    """A kube-ovn plugin anywhere in the list makes the NAD OVN-served, even if listed later."""
    config = conf(
        cniVersion="1.0.0",
        plugins=[{"type": "macvlan", "ipam": {"type": "kube-ovn"}}, {"type": "kube-ovn"}],
    )
    nad = parse_nad(body=nad_body(config))
    assert nad.provider == "net1.ns1.ovn"
    assert nad.served_by_ovn


def test_ipam_only_inside_conf_list(nad_body):
    """kube-ovn IPAM in a later plugin of a list gives the IPAM-only provider."""
    config = conf(plugins=[{"type": "tuning"}, {"type": "ipvlan", "ipam": {"type": "kube-ovn"}}])
    nad = parse_nad(body=nad_body(config))
    assert nad.provider == "net1.ns1"
    assert nad.plugin_type == "ipvlan"


def test_not_served_list_reports_first_plugin(nad_body):
    """For an unserved list the first plugin's type is reported."""
    nad = parse_nad(body=nad_body(conf(plugins=[{"type": "bridge"}, {"type": "tuning"}])))
    assert nad.provider is None
    assert nad.plugin_type == "bridge"
    assert nad.ipam_type is None


def test_ipam_without_type_is_not_served(nad_body):
    """An ipam block with no type is tolerated and does not make the NAD served."""
    nad = parse_nad(body=nad_body(conf(type="bridge", ipam={})))
    assert nad.error is None
    assert nad.provider is None


def test_no_declared_provider_is_fine(nad_body):
    """Without a provider key there is nothing to compare and no warning."""
    nad = parse_nad(body=nad_body(conf(type="kube-ovn")))
    assert nad.declared_provider is None
    assert nad.warning is None


def test_declared_provider_mismatch_warns(nad_body):
    """A provider key that disagrees with the derived string gives a warning; derived wins."""
    nad = parse_nad(body=nad_body(conf(type="kube-ovn", provider="other.ns1.ovn")))
    assert nad.provider == "net1.ns1.ovn"
    assert nad.declared_provider == "other.ns1.ovn"
    assert nad.warning is not None
    assert "spec.config.provider" in nad.warning
    assert "'other.ns1.ovn'" in nad.warning
    assert "'net1.ns1.ovn'" in nad.warning


def test_declared_provider_in_ipam_block_mismatch_warns(nad_body):
    """A provider key in the ipam block is compared too (IPAM-only NADs write it there)."""
    config = conf(type="macvlan", ipam={"type": "kube-ovn", "provider": "net1.ns1.ovn"})
    nad = parse_nad(body=nad_body(config))
    assert nad.provider == "net1.ns1"
    assert nad.warning is not None
    assert "spec.config.ipam.provider" in nad.warning


def test_declared_provider_in_list_names_plugin_index(nad_body):
    """In a conf list the warning names the plugin's index."""
    config = conf(plugins=[{"type": "tuning"}, {"type": "kube-ovn", "provider": "x.y"}])
    nad = parse_nad(body=nad_body(config))
    assert nad.warning is not None
    assert "spec.config.plugins[1].provider" in nad.warning


def test_non_string_declared_provider_warns(nad_body):
    """A provider key that is not a string is a mismatch, not a crash."""
    nad = parse_nad(body=nad_body(conf(type="kube-ovn", provider=5)))
    assert nad.provider == "net1.ns1.ovn"
    assert nad.warning is not None


def test_result_is_frozen_and_hashable(nad_body):
    """NadConfig is frozen (safe to share from a cache) and hashable."""
    nad = parse_nad(body=nad_body(conf(type="kube-ovn")))
    with pytest.raises(AttributeError):
        nad.provider = "x"  # type: ignore[misc]
    assert hash(nad) == hash(parse_nad(body=nad_body(conf(type="kube-ovn"))))


# -- malformed input: an error naming field and value, never an exception ------------


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ("", "spec.config: empty"),
        ("   ", "spec.config: empty"),
        (None, "spec.config: empty"),
        ("{not json", "spec.config: invalid JSON"),
        ('["a"]', "spec.config: expected a JSON object, got a list"),
        ('"kube-ovn"', "spec.config: expected a JSON object, got a string"),
        ({"type": "kube-ovn"}, "spec.config: expected a JSON string, got an object"),
        (conf(plugins="kube-ovn"), "spec.config.plugins: expected a list, got a string"),
        (conf(plugins=[]), "spec.config.plugins: empty list"),
        (conf(plugins=["kube-ovn"]), "spec.config.plugins[0]: expected an object, got a string"),
        (conf(plugins=[{"type": "tuning"}, {}]), "spec.config.plugins[1].type: missing"),
        (conf(cniVersion="0.3.1"), "spec.config.type: missing"),
        (conf(type=""), "spec.config.type: expected a non-empty string, got ''"),
        (conf(type=7), "spec.config.type: expected a non-empty string, got 7"),
        (conf(type="macvlan", ipam="kube-ovn"), "spec.config.ipam: expected an object"),
        (conf(type="macvlan", ipam={"type": 1}), "spec.config.ipam.type: expected a string"),
        (conf(type="kube-ovn", cniVersion=1), "spec.config.cniVersion: expected a string, got 1"),
        (conf(type="kube-ovn", name=["x"]), "spec.config.name: expected a string"),
    ],
)
def test_malformed_config(nad_body, config, fragment):
    """Each kind of bad spec.config becomes an error naming the field, never an exception."""
    nad = parse_nad(body=nad_body(config))
    assert nad.error is not None
    assert fragment in nad.error
    assert nad.provider is None
    assert not nad.served
    assert nad.key == ("ns1", "net1")


def test_invalid_json_message_has_position(nad_body):
    """The invalid-JSON message says where the parser stopped."""
    nad = parse_nad(body=nad_body('{"type": "kube-ovn",}'))
    assert nad.error is not None
    assert "line 1 column" in nad.error


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "metadata.name: missing"),
        ({"metadata": {"name": "n"}}, "metadata.namespace: missing"),
        ({"metadata": {"name": "n", "namespace": "ns"}}, "spec: expected an object, got null"),
        ({"metadata": {"name": "n", "namespace": "ns"}, "spec": []}, "spec: expected an object"),
        ({"metadata": "x"}, "metadata.name: missing"),
    ],
)
def test_malformed_object(body, fragment):
    """A NAD dict of the wrong shape is an error result too."""
    nad = parse_nad(body=body)
    assert nad.error is not None
    assert fragment in nad.error


# -- nad_problem: what a Subnet reports ------------------------------------------------


def _served(provider_ovn: bool) -> NadConfig:
    provider = "net1.ns1.ovn" if provider_ovn else "net1.ns1"
    return NadConfig(namespace="ns1", name="net1", provider=provider, served_by_ovn=provider_ovn)


def test_problem_none_for_primary_provider():
    """The primary provider needs no NAD."""
    assert nad_problem(nad=None, provider="ovn") is None


def test_problem_none_when_served_as_named():
    """A NAD serving exactly the subnet's provider is fine."""
    assert nad_problem(nad=_served(True), provider="net1.ns1.ovn") is None
    assert nad_problem(nad=_served(False), provider="net1.ns1") is None


def test_problem_missing_nad():
    """A provider naming an absent NAD reports NadNotFound with ns/name."""
    problem = nad_problem(nad=None, provider="net1.ns1.ovn")
    assert problem is not None
    assert problem.reason == "NadNotFound"
    assert "ns1/net1" in problem.message


def test_problem_malformed_nad(nad_body):
    """A malformed NAD reports NadMalformed carrying the parse error."""
    problem = nad_problem(nad=parse_nad(body=nad_body("{")), provider="net1.ns1")
    assert problem is not None
    assert problem.reason == "NadMalformed"
    assert "invalid JSON" in problem.message


def test_problem_not_served(nad_body):
    """A NAD of another plugin reports NadNotServed naming its types."""
    nad = parse_nad(body=nad_body(conf(type="sriov", ipam={"type": "host-local"})))
    problem = nad_problem(nad=nad, provider="net1.ns1")
    assert problem is not None
    assert problem.reason == "NadNotServed"
    assert "'sriov'" in problem.message
    assert "'host-local'" in problem.message


def test_problem_provider_mismatch():
    """An IPAM-only provider for a kube-ovn NAD (or the reverse) is ProviderMismatch."""
    problem = nad_problem(nad=_served(True), provider="net1.ns1")
    assert problem is not None
    assert problem.reason == "ProviderMismatch"
    assert "'net1.ns1.ovn'" in problem.message
    reverse = nad_problem(nad=_served(False), provider="net1.ns1.ovn")
    assert reverse is not None
    assert reverse.reason == "ProviderMismatch"
