"""IP objects: naming, the body written, and parsing back for the IPAM rebuild."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ovnctl.models import (
    SUBNET_LABEL,
    IpObjectError,
    IpRecord,
    build_ip_object,
    ip_object_name,
    parse_ip_object,
)
from ovnctl.models._syntax import is_dns1123_subdomain
from tests.models.conftest import raises_naming


def test_name_primary_provider():
    """Provider ovn: <owner>.<namespace>."""
    assert ip_object_name(owner="web-1", namespace="default", provider="ovn") == "web-1.default"


def test_name_multus_provider():
    """Other providers: <owner>.<namespace>.<provider> (docs/models.md example)."""
    got = ip_object_name(owner="vm1", namespace="default", provider="attachnet.default.ovn")
    assert got == "vm1.default.attachnet.default.ovn"
    assert ip_object_name(owner="p", namespace="ns", provider="m.ns") == "p.ns.m.ns"


def test_name_too_long_is_shortened_deterministically():
    """A name over 253 characters is cut and suffixed with a hash, stable across calls."""
    owner = "a" * 200
    provider = f"{'n' * 60}.{'s' * 60}.ovn"
    first = ip_object_name(owner=owner, namespace="ns", provider=provider)
    assert len(first) == 253
    assert first == ip_object_name(owner=owner, namespace="ns", provider=provider)
    assert first != ip_object_name(owner=owner, namespace="ns2", provider=provider)
    assert is_dns1123_subdomain(first)


_label = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)
_subdomain = st.lists(_label, min_size=1, max_size=4).map(".".join).filter(lambda s: len(s) <= 253)


@given(owner=_subdomain, ns=_label, nad=_label, nad_ns=_label, ovn=st.booleans())
def test_name_always_valid(owner, ns, nad, nad_ns, ovn):
    """Whatever the inputs' lengths, the name is a valid DNS-1123 subdomain."""
    provider = f"{nad}.{nad_ns}.ovn" if ovn else f"{nad}.{nad_ns}"
    name = ip_object_name(owner=owner, namespace=ns, provider=provider)
    assert is_dns1123_subdomain(name)
    full = f"{owner}.{ns}.{provider}"
    assert name == full or len(full) > 253


def test_build_vm_dual_stack():
    """The body has every spec field, IPv4 first, the subnet label and podType."""
    body = build_ip_object(
        name="vm1.default",
        pod_name="vm1",
        namespace="default",
        subnet="dual",
        ips=["fd00:10:17::2", "10.17.0.2"],
        mac="00:00:00:ab:cd:ef",
        node_name="node-1",
        pod_type="VirtualMachine",
        container_id="abc",
    )
    assert body == {
        "apiVersion": "kubeovn.io/v1",
        "kind": "IP",
        "metadata": {"name": "vm1.default", "labels": {SUBNET_LABEL: "dual"}},
        "spec": {
            "podName": "vm1",
            "namespace": "default",
            "subnet": "dual",
            "nodeName": "node-1",
            "ipAddress": "10.17.0.2,fd00:10:17::2",
            "v4IpAddress": "10.17.0.2",
            "v6IpAddress": "fd00:10:17::2",
            "macAddress": "00:00:00:ab:cd:ef",
            "podType": "VirtualMachine",
            "attachSubnets": [],
            "attachIps": [],
            "attachMacs": [],
            "containerID": "abc",
        },
    }


def test_build_then_parse_round_trip():
    """Parsing a built body gives back what was put in."""
    body = build_ip_object(
        name="p.ns.m.ns",
        pod_name="p",
        namespace="ns",
        subnet="macvlan-subnet",
        ips=["172.18.0.11"],
        mac=None,
    )
    assert parse_ip_object(body=body) == IpRecord(
        name="p.ns.m.ns",
        subnet="macvlan-subnet",
        ips=("172.18.0.11",),
        pod_name="p",
        namespace="ns",
    )


def test_parse_kube_ovn_object():
    """A Kube-OVN-written IP object parses; addresses and MAC are canonical."""
    record = parse_ip_object(
        body={
            "metadata": {"name": "web-1.default", "labels": {SUBNET_LABEL: "ovn-default"}},
            "spec": {
                "podName": "web-1",
                "namespace": "default",
                "subnet": "ovn-default",
                "nodeName": "kind-worker",
                "ipAddress": "10.16.0.9,fd00::9",
                "v4IpAddress": "10.16.0.9",
                "v6IpAddress": "FD00::0009",
                "macAddress": "00:00:00:AB:CD:EF",
                "podType": "",
                "attachSubnets": [],
                "containerID": "",
            },
        }
    )
    assert record.ips == ("10.16.0.9", "fd00::9")
    assert (record.v4, record.v6) == ("10.16.0.9", "fd00::9")
    assert record.mac == "00:00:00:ab:cd:ef"
    assert record.node_name == "kind-worker"


def test_parse_falls_back_to_ip_address():
    """With only spec.ipAddress (older objects) the addresses come from there."""
    record = parse_ip_object(
        body={"metadata": {"name": "x"}, "spec": {"subnet": "s", "ipAddress": "fd00::1,10.0.0.1"}}
    )
    assert record.ips == ("10.0.0.1", "fd00::1")
    assert record.v6 == "fd00::1"
    assert (record.pod_name, record.namespace, record.mac) == ("", "", None)


def test_parse_v4_only_record_has_no_v6():
    """A single-stack record reports no address of the other family."""
    record = parse_ip_object(
        body={"metadata": {"name": "x"}, "spec": {"subnet": "s", "v4IpAddress": "10.0.0.1"}}
    )
    assert record.v6 is None


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        ({}, "metadata.name", "missing"),
        ({"metadata": {"name": ""}}, "metadata.name", "missing"),
        ({"metadata": {"name": "x"}}, "spec", "expected an object, got null"),
        ({"metadata": {"name": "x"}, "spec": {}}, "spec.subnet", "missing"),
        ({"metadata": {"name": "x"}, "spec": {"subnet": 3}}, "spec.subnet", "expected a string"),
        ({"metadata": {"name": "x"}, "spec": {"subnet": "s"}}, "spec.ipAddress", "no address"),
        (
            {"metadata": {"name": "x"}, "spec": {"subnet": "s", "v4IpAddress": "fd00::1"}},
            "spec.v4IpAddress",
            "not an IPv4 address",
        ),
        (
            {"metadata": {"name": "x"}, "spec": {"subnet": "s", "v6IpAddress": "bad"}},
            "spec.v6IpAddress",
            "'bad' is not a valid IP",
        ),
        (
            {"metadata": {"name": "x"}, "spec": {"subnet": "s", "ipAddress": "1.1.1.1,2.2.2.2"}},
            "spec.ipAddress",
            "two IPv4",
        ),
        (
            {
                "metadata": {"name": "x"},
                "spec": {"subnet": "s", "ipAddress": "1.1.1.1", "macAddress": "x"},
            },
            "spec.macAddress",
            "not a valid MAC",
        ),
        (
            {
                "metadata": {"name": "x"},
                "spec": {"subnet": "s", "ipAddress": "1.1.1.1", "nodeName": 1},
            },
            "spec.nodeName",
            "expected a string",
        ),
    ],
)
def test_parse_errors(body, field, fragment):
    """Missing or malformed fields raise IpObjectError naming the field (and the object)."""
    with raises_naming(IpObjectError, field, fragment):
        parse_ip_object(body=body)
