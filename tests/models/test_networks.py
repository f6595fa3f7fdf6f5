"""The pod networks annotation: comma form, JSON form, and every error."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ovnctl.models import (
    NETWORKS_ANNOTATION,
    AttachmentRequest,
    NetworksAnnotationError,
    parse_networks,
)
from tests.models.conftest import example


def parse(text: str, ns: str = "podns") -> tuple[AttachmentRequest, ...]:
    return parse_networks(annotation=text, pod_namespace=ns)


def error(text: str) -> NetworksAnnotationError:
    with pytest.raises(NetworksAnnotationError) as info:
        parse(text)
    return info.value


# -- the shared samples ---------------------------------------------------------------


def test_sample_comma_form():
    """web-1: 'attachnet, default/macvlan@net2' gives two attachments."""
    pod = example("pods.yaml", name="web-1")
    got = parse_networks(
        annotation=pod["metadata"]["annotations"][NETWORKS_ANNOTATION],
        pod_namespace=pod["metadata"]["namespace"],
    )
    assert got == (
        AttachmentRequest(namespace="default", name="attachnet", index=0),
        AttachmentRequest(namespace="default", name="macvlan", index=1, interface="net2"),
    )
    assert [a.ifname for a in got] == ["net1", "net2"]


def test_sample_json_form():
    """db-1: a multi-line JSON list with interface, ips and mac."""
    pod = example("pods.yaml", name="db-1")
    got = parse_networks(
        annotation=pod["metadata"]["annotations"][NETWORKS_ANNOTATION],
        pod_namespace=pod["metadata"]["namespace"],
    )
    assert got == (
        AttachmentRequest(
            namespace="default", name="attachnet", index=0, interface="eth1", ips=("172.17.0.50",)
        ),
        AttachmentRequest(
            namespace="default", name="macvlan", index=1, interface="eth2", mac="02:00:00:12:34:56"
        ),
    )


def test_sample_virt_launcher():
    """The virt-launcher pod's KubeVirt-generated JSON annotation parses."""
    pod = example("kubevirt.yaml", name="virt-launcher-vm1-x7k2p")
    (att,) = parse_networks(
        annotation=pod["metadata"]["annotations"][NETWORKS_ANNOTATION], pod_namespace="default"
    )
    assert att.nad_key == ("default", "attachnet")
    assert att.interface == "pod3b1e8f8c8d1"


# -- comma form --------------------------------------------------------------------------


def test_comma_all_four_shapes():
    """name, ns/name, name@if and ns/name@if; missing namespace is the pod's."""
    got = parse("a, ns2/b, c@eth1, ns3/d@eth2")
    assert [(x.namespace, x.name, x.interface) for x in got] == [
        ("podns", "a", None),
        ("ns2", "b", None),
        ("podns", "c", "eth1"),
        ("ns3", "d", "eth2"),
    ]
    assert [x.index for x in got] == [0, 1, 2, 3]


def test_comma_blanks_ignored():
    """Blanks around items and parts, empty items and a trailing comma are ignored."""
    got = parse("  a ,, ns / b @ net5 ,  ")
    assert [(x.namespace, x.name, x.interface) for x in got] == [
        ("podns", "a", None),
        ("ns", "b", "net5"),
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n", " , "])
def test_empty_annotation(text):
    """An empty or blank annotation asks for no networks."""
    assert parse(text) == ()


def test_same_nad_twice_is_two_attachments():
    """The same NAD listed twice is two attachments, told apart by interface and index."""
    got = parse("net-a@eth1, net-a@eth2")
    assert len(got) == 2
    assert got[0].nad_key == got[1].nad_key
    assert got[0] != got[1]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a/b/c", "more than one '/'"),
        ("a@b@c", "more than one '@'"),
        ("Net1", "network name 'Net1'"),
        ("net_1", "network name 'net_1'"),
        ("ns/", "network name ''"),
        ("/net", "namespace ''"),
        ("NS/net", "namespace 'NS'"),
        ("net@", "interface ''"),
        ("net@Eth1", "interface 'Eth1'"),
        ("net@eth1.100", "interface 'eth1.100'"),
        ("net@abcdefghijklmnop", "longer than 15 bytes"),
        ("a" * 64, "at most 63 characters"),
    ],
)
def test_comma_errors(text, fragment):
    """Each malformed item raises one error naming the item's position and the value."""
    exc = error(f"ok, {text}")
    assert fragment in str(exc)
    assert exc.field == f"{NETWORKS_ANNOTATION}[1]"


# -- JSON form ---------------------------------------------------------------------------


def test_json_all_fields():
    """Every documented JSON field is read; prefixes dropped, IPs and MAC canonical."""
    text = json.dumps(
        [
            {
                "name": "net1",
                "namespace": "other",
                "interface": "eth1.100",
                "ips": ["10.1.1.5/24", "FD00::0005/64"],
                "mac": "02-00-00-AB-CD-EF",
                "default-route": ["10.1.1.1"],
                "cni-args": {"foo": "bar"},
                "unknown-key": True,
            }
        ]
    )
    (att,) = parse(text)
    assert att == AttachmentRequest(
        namespace="other",
        name="net1",
        index=0,
        interface="eth1.100",
        ips=("10.1.1.5", "fd00::5"),
        mac="02:00:00:ab:cd:ef",
        default_route=("10.1.1.1",),
    )


def test_json_defaults():
    """Only 'name' is required; empty strings and nulls mean 'not given'."""
    (att,) = parse('[{"name": "n", "namespace": "", "interface": "", "ips": null, "mac": ""}]')
    assert att == AttachmentRequest(namespace="podns", name="n", index=0)
    assert att.ifname == "net1"


def test_json_single_object_tolerated():
    """A single JSON object (leading '{') is taken as a one-element list."""
    assert parse('  {"name": "n", "interface": "eth9"}') == (
        AttachmentRequest(namespace="podns", name="n", index=0, interface="eth9"),
    )


def test_json_empty_list():
    """An empty JSON list asks for nothing."""
    assert parse("[]") == ()


def test_json_dotted_mac_accepted():
    """Cisco-style dotted MACs are accepted, as Go's net.ParseMAC does."""
    (att,) = parse('[{"name": "n", "mac": "0200.00ab.cdef"}]')
    assert att.mac == "02:00:00:ab:cd:ef"


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [
        ("[{", "", "invalid JSON"),
        ('[{"name": "n"},]', "", "invalid JSON"),
        ('["n"]', "[0]", "expected an object, got a string"),
        ("[1]", "[0]", "expected an object, got a number"),
        ('[{"interface": "eth1"}]', "[0].name", "'name' is required"),
        ('[{"name": 5}]', "[0].name", "expected a string, got a number"),
        ('[{"name": ""}]', "[0].name", "network name ''"),
        ('[{"name": "Bad"}]', "[0].name", "network name 'Bad'"),
        ('[{"name": "n", "namespace": "Bad_ns"}]', "[0].namespace", "namespace 'Bad_ns'"),
        ('[{"name": "n", "namespace": 3}]', "[0].namespace", "expected a string"),
        ('[{"name": "n", "interface": "a/b"}]', "[0].interface", "contains '/'"),
        ('[{"name": "n", "interface": "a b"}]', "[0].interface", "whitespace"),
        ('[{"name": "n", "interface": "x1234567890123456"}]', "[0].interface", "15 bytes"),
        ('[{"name": "n", "ips": "10.0.0.1"}]', "[0].ips", "expected a list, got a string"),
        ('[{"name": "n", "ips": ["10.0.0.300"]}]', "[0].ips[0]", "'10.0.0.300' is not a valid IP"),
        ('[{"name": "n", "ips": ["10.0.0.1/33"]}]', "[0].ips[0]", "not a valid IP"),
        ('[{"name": "n", "ips": ["10.0.0.1/x"]}]', "[0].ips[0]", "not a valid IP"),
        ('[{"name": "n", "ips": [5]}]', "[0].ips[0]", "5 is not a valid IP"),
        ('[{"name": "n", "ips": ["1.1.1.1", "2.2.2.2"]}]', "[0].ips", "at most one IPv4"),
        ('[{"name": "n", "mac": "02:00:00:ab:cd"}]', "[0].mac", "not a valid MAC"),
        ('[{"name": "n", "mac": "zz:00:00:ab:cd:ef"}]', "[0].mac", "not a valid MAC"),
        ('[{"name": "n", "mac": "02:00-00:ab:cd:ef"}]', "[0].mac", "not a valid MAC"),
        ('[{"name": "n", "mac": "01:00:5e:00:00:01"}]', "[0].mac", "not a valid MAC"),
        ('[{"name": "n", "mac": "00:00:00:00:00:00"}]', "[0].mac", "not a valid MAC"),
        ('[{"name": "n", "default-route": "1.1.1.1"}]', "[0].default-route", "expected a list"),
        ('[{"name": "n", "default-route": ["x"]}]', "[0].default-route[0]", "not a valid IP"),
        ('[{"name": "n", "cni-args": []}]', "[0].cni-args", "expected an object, got a list"),
    ],
)
def test_json_errors(text, field, fragment):
    """Each malformed JSON entry raises one error whose field path and message name it."""
    exc = error(text)
    assert exc.field == NETWORKS_ANNOTATION + field
    assert fragment in str(exc)


def test_json_error_names_index_of_bad_entry():
    """An error in a later entry names that entry's index."""
    exc = error('[{"name": "a"}, "b"]')
    assert exc.field == f"{NETWORKS_ANNOTATION}[1]"


def test_quoted_string_is_not_json():
    """Only a leading '[' or '{' selects JSON; a JSON string is a (bad) comma-form name."""
    exc = error('"n"')
    assert "network name" in str(exc)


# -- property: render in both forms, parse back equal --------------------------------

_label = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True)
_ifname = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?", fullmatch=True)
_v4 = st.ip_addresses(v=4).map(str)
_v6 = st.ip_addresses(v=6).map(lambda a: a.compressed)
# MACs a NIC can own: unicast (low bit of the first octet clear) and not all-zero.
_mac = (
    st.binary(min_size=6, max_size=6)
    .map(lambda b: bytes([b[0] & 0xFE, *b[1:]]))
    .filter(any)
    .map(lambda b: ":".join(f"{x:02x}" for x in b))
)


@st.composite
def _attachments(draw, *, rich: bool):
    count = draw(st.integers(min_value=0, max_value=5))
    result = []
    for index in range(count):
        ips: tuple[str, ...] = ()
        mac = None
        if rich:
            v4 = draw(st.none() | _v4)
            v6 = draw(st.none() | _v6)
            ips = tuple(ip for ip in (v4, v6) if ip is not None)
            mac = draw(st.none() | _mac)
        result.append(
            AttachmentRequest(
                namespace=draw(_label),
                name=draw(_label),
                index=index,
                interface=draw(st.none() | _ifname),
                ips=ips,
                mac=mac,
            )
        )
    return tuple(result)


def _render_comma(atts: tuple[AttachmentRequest, ...], *, pod_namespace: str) -> str:
    items = []
    for a in atts:
        item = a.name if a.namespace == pod_namespace else f"{a.namespace}/{a.name}"
        items.append(item if a.interface is None else f"{item}@{a.interface}")
    return ", ".join(items)


def _render_json(atts: tuple[AttachmentRequest, ...]) -> str:
    entries = []
    for a in atts:
        entry: dict[str, object] = {"name": a.name, "namespace": a.namespace}
        if a.interface is not None:
            entry["interface"] = a.interface
        if a.ips:
            entry["ips"] = list(a.ips)
        if a.mac is not None:
            entry["mac"] = a.mac
        entries.append(entry)
    return json.dumps(entries)


@given(atts=_attachments(rich=False), pod_ns=_label)
def test_comma_form_round_trip(atts, pod_ns):
    """Rendering attachments in comma form and parsing back gives them unchanged."""
    assert parse(_render_comma(atts, pod_namespace=pod_ns), pod_ns) == atts


@given(atts=_attachments(rich=True), pod_ns=_label)
def test_json_form_round_trip(atts, pod_ns):
    """Rendering attachments as a JSON list and parsing back gives them unchanged."""
    assert parse(_render_json(atts), pod_ns) == atts


@given(atts=_attachments(rich=False), pod_ns=_label)
def test_both_forms_agree(atts, pod_ns):
    """The comma form and the JSON form of the same attachments parse to the same result."""
    comma = parse(_render_comma(atts, pod_namespace=pod_ns), pod_ns)
    assert comma == parse(_render_json(atts), pod_ns)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
_element_keys = st.sampled_from(
    ["name", "namespace", "interface", "ips", "mac", "default-route", "cni-args"]
)
_elements = st.lists(st.dictionaries(_element_keys, _json, max_size=4), max_size=3)


@given(text=st.text(max_size=60) | _json.map(json.dumps) | _elements.map(json.dumps))
def test_never_crashes(text):
    """Arbitrary text or JSON either parses or raises NetworksAnnotationError, nothing else."""
    with contextlib.suppress(NetworksAnnotationError):
        parse(text)
