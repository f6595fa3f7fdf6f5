"""Per-provider pod annotations: keys, static requests, allocation results."""

from __future__ import annotations

import pytest

from ovnctl.models import (
    ALLOCATION_KEY_SUFFIXES,
    LOGICAL_SWITCH_ANNOTATION,
    NAMESPACE_POOL_ANNOTATION,
    PROVIDER_KEY_INFIX,
    PROVIDER_KEY_NAMES,
    VIP_KEY_SUFFIX,
    AnnotationError,
    AttachmentRequest,
    NicAllocation,
    StaticRequest,
    allocated_provider,
    allocation_annotations,
    is_allocated,
    merge_requests,
    provider_keys,
    read_allocation,
    read_static_request,
)
from tests.models.conftest import example, raises_naming


def test_primary_provider_keys():
    """Provider 'ovn' gives the ovn.kubernetes.io/* keys Kube-OVN uses."""
    keys = provider_keys(provider="ovn")
    assert keys.allocated == "ovn.kubernetes.io/allocated"
    assert keys.ip_address == "ovn.kubernetes.io/ip_address"
    assert keys.mac_address == "ovn.kubernetes.io/mac_address"
    assert keys.cidr == "ovn.kubernetes.io/cidr"
    assert keys.gateway == "ovn.kubernetes.io/gateway"
    assert keys.logical_switch == LOGICAL_SWITCH_ANNOTATION
    assert keys.virtualmachine == "ovn.kubernetes.io/virtualmachine"
    assert keys.ip_pool == "ovn.kubernetes.io/ip_pool" == NAMESPACE_POOL_ANNOTATION
    assert keys.vip == "ovn.kubernetes.io/vip"
    assert keys.vip.endswith(VIP_KEY_SUFFIX)


def test_multus_provider_keys():
    """A Multus provider prefixes its keys with the provider string."""
    keys = provider_keys(provider="attachnet.default.ovn")
    assert keys.logical_switch == "attachnet.default.ovn.kubernetes.io/logical_switch"
    assert keys.provider == "attachnet.default.ovn"


def test_sample_primary_static_ip():
    """db-1 asks for 10.16.0.100 on the primary network and nothing else."""
    pod = example("pods.yaml", name="db-1")
    req = read_static_request(annotations=pod["metadata"]["annotations"])
    assert req == StaticRequest(ips=("10.16.0.100",))


def test_sample_virt_launcher_logical_switch():
    """The virt-launcher pod pins its attachnet NIC to attachnet-subnet."""
    pod = example("kubevirt.yaml", name="virt-launcher-vm1-x7k2p")
    req = read_static_request(
        annotations=pod["metadata"]["annotations"], provider="attachnet.default.ovn"
    )
    assert req == StaticRequest(subnet="attachnet-subnet")
    assert read_static_request(annotations=pod["metadata"]["annotations"]).empty


def test_static_dual_stack_either_order():
    """'v4,v6' and 'v6,v4' are both accepted, blanks ignored, addresses canonical."""
    for value in ("10.16.0.5, FD00::05", " fd00::5 ,10.16.0.5"):
        req = read_static_request(annotations={"ovn.kubernetes.io/ip_address": value})
        assert sorted(req.ips) == ["10.16.0.5", "fd00::5"]


def test_static_mac_normalised():
    """A static MAC is normalised to lower-case colon form."""
    req = read_static_request(
        annotations={"n.ns.kubernetes.io/mac_address": "02-00-00-AB-CD-EF"}, provider="n.ns"
    )
    assert req.mac == "02:00:00:ab:cd:ef"


def test_no_annotations():
    """No annotations at all is an empty request."""
    assert read_static_request(annotations=None).empty
    assert read_static_request(annotations={"ovn.kubernetes.io/ip_address": " "}).empty


@pytest.mark.parametrize(
    ("annotations", "field", "fragment"),
    [
        ({"ovn.kubernetes.io/ip_address": "10.16.0.300"}, "ovn.kubernetes.io/ip_address", "300"),
        (
            {"ovn.kubernetes.io/ip_address": "1.1.1.1,2.2.2.2"},
            "ovn.kubernetes.io/ip_address",
            "two IPv4",
        ),
        (
            {"ovn.kubernetes.io/ip_address": "10.0.0.1/24"},
            "ovn.kubernetes.io/ip_address",
            "not a valid IP",
        ),
        (
            {"ovn.kubernetes.io/ip_address": "fe80::1%eth0"},
            "ovn.kubernetes.io/ip_address",
            "not a valid IP",
        ),
        (
            {"ovn.kubernetes.io/mac_address": "02:00:00"},
            "ovn.kubernetes.io/mac_address",
            "not a valid MAC",
        ),
        (
            {"ovn.kubernetes.io/mac_address": "01:00:5e:00:00:01"},  # multicast: no NIC owns it
            "ovn.kubernetes.io/mac_address",
            "not a valid MAC",
        ),
    ],
)
def test_static_request_errors(annotations, field, fragment):
    """Malformed static requests raise AnnotationError naming the key and value."""
    with raises_naming(AnnotationError, field, fragment) as info:
        read_static_request(annotations=annotations)
    assert str(info.value).startswith(field + ": ")
    # The Event reason travels with the class: the reconciler reads it, never the field.
    expected = "InvalidMAC" if field.endswith("/mac_address") else "InvalidStaticIP"
    assert info.value.reason == expected


def test_merge_annotation_wins_field_by_field():
    """Annotation requests win; the JSON entry fills what they leave empty."""
    att = AttachmentRequest(
        namespace="ns", name="n", index=0, ips=("10.1.0.9",), mac="02:00:00:00:00:09"
    )
    only_mac = StaticRequest(mac="02:00:00:00:00:01")
    assert merge_requests(static=only_mac, attachment=att) == StaticRequest(
        ips=("10.1.0.9",), mac="02:00:00:00:00:01"
    )
    only_ip = StaticRequest(subnet="s", ips=("10.1.0.1",))
    assert merge_requests(static=only_ip, attachment=att) == StaticRequest(
        subnet="s", ips=("10.1.0.1",), mac="02:00:00:00:00:09"
    )
    assert merge_requests(static=only_ip, attachment=None) is only_ip


def test_allocation_annotations_vm():
    """The result patch for a VM NIC holds every key, including virtualmachine."""
    got = allocation_annotations(
        provider="attachnet.default.ovn",
        subnet="attachnet-subnet",
        cidr_block="172.17.0.0/16",
        gateway="172.17.0.1",
        ips=["172.17.0.11"],
        mac="00:00:00:ab:cd:ef",
        vm_name="vm1",
    )
    p = "attachnet.default.ovn.kubernetes.io/"
    assert got == {
        p + "allocated": "true",
        p + "ip_address": "172.17.0.11",
        p + "mac_address": "00:00:00:ab:cd:ef",
        p + "cidr": "172.17.0.0/16",
        p + "gateway": "172.17.0.1",
        p + "logical_switch": "attachnet-subnet",
        p + "virtualmachine": "vm1",
    }


def test_allocation_annotations_plain_pod_dual_stack():
    """A plain pod gets no virtualmachine key; dual-stack IPs are comma-joined."""
    got = allocation_annotations(
        provider="ovn",
        subnet="dual",
        cidr_block="10.17.0.0/16,fd00:10:17::/64",
        gateway="10.17.0.1,fd00:10:17::1",
        ips=["10.17.0.2", "fd00:10:17::2"],
        mac=None,
    )
    assert got["ovn.kubernetes.io/ip_address"] == "10.17.0.2,fd00:10:17::2"
    assert "ovn.kubernetes.io/virtualmachine" not in got
    assert "ovn.kubernetes.io/mac_address" not in got


def test_read_allocation_round_trip():
    """What allocation_annotations writes, read_allocation reads back."""
    written = allocation_annotations(
        provider="m.ns",
        subnet="s",
        cidr_block="172.18.0.0/16",
        gateway="172.18.0.1",
        ips=["172.18.0.20"],
        mac="02:00:00:00:00:20",
        vm_name="vm1",
    )
    assert is_allocated(annotations=written, provider="m.ns")
    assert not is_allocated(annotations=written, provider="ovn")
    assert read_allocation(annotations=written, provider="m.ns") == NicAllocation(
        provider="m.ns",
        subnet="s",
        ips=("172.18.0.20",),
        mac="02:00:00:00:00:20",
        cidr="172.18.0.0/16",
        gateway="172.18.0.1",
        vm_name="vm1",
    )


def test_read_allocation_none_when_not_allocated():
    """Without allocated: 'true' there is no allocation, even with an ip_address request."""
    assert read_allocation(annotations={"ovn.kubernetes.io/ip_address": "10.16.0.9"}) is None
    assert read_allocation(annotations=None) is None


@pytest.mark.parametrize(
    ("annotations", "field"),
    [
        ({"ovn.kubernetes.io/allocated": "true"}, "ovn.kubernetes.io/logical_switch"),
        (
            {"ovn.kubernetes.io/allocated": "true", "ovn.kubernetes.io/logical_switch": "s"},
            "ovn.kubernetes.io/ip_address",
        ),
        (
            {
                "ovn.kubernetes.io/allocated": "true",
                "ovn.kubernetes.io/logical_switch": "s",
                "ovn.kubernetes.io/ip_address": "nope",
            },
            "ovn.kubernetes.io/ip_address",
        ),
    ],
)
def test_read_allocation_errors(annotations, field):
    """An allocation missing its subnet or address, or with a bad address, names the key."""
    with raises_naming(AnnotationError, field):
        read_allocation(annotations=annotations)


def test_every_key_written_is_one_the_readers_keep():
    """What the controller writes for a NIC, the node agent keeps and the pod cache keeps."""
    written = allocation_annotations(
        provider="attachnet.default.ovn",
        subnet="attachnet",
        cidr_block="172.17.0.0/16",
        gateway="172.17.0.1",
        ips=("172.17.0.2",),
        mac="0e:00:00:00:00:01",
        vm_name="vm1",
    )
    for key in written:
        assert key.endswith(ALLOCATION_KEY_SUFFIXES)
        assert key.rpartition(PROVIDER_KEY_INFIX)[2] in PROVIDER_KEY_NAMES
    assert len(written) == len(ALLOCATION_KEY_SUFFIXES)


@pytest.mark.parametrize(
    ("key", "value", "provider"),
    [
        ("ovn.kubernetes.io/allocated", "true", "ovn"),
        ("attachnet.default.ovn.kubernetes.io/allocated", "true", "attachnet.default.ovn"),
        ("ovn.kubernetes.io/allocated", "false", None),
        ("ovn.kubernetes.io/ip_address", "true", None),
        (".kubernetes.io/allocated", "true", None),
        (7, "true", None),
    ],
)
def test_allocated_provider(key, value, provider):
    """Only ``P.kubernetes.io/allocated: "true"`` names a provider holding an allocation."""
    assert allocated_provider(key, value) == provider
