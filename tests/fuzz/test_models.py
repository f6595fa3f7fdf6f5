"""Fuzzed user input to the parsers: only the documented error, always naming the field.

Pass condition (docs/fuzzing.md): for each parser, whatever the input, the
only exception is the documented one (a :class:`ModelError` subclass whose
``field`` is set and begins the message; an :class:`IPAMError` naming the
value), or none at all where the docs say so (NADs, audit records).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ovnctl.audit import Scope, Snapshot, audit
from ovnctl.audit.records import ip_object_record, pod_record, subnet_record
from ovnctl.ipam import IPAM, IPAMError
from ovnctl.models import (
    AnnotationError,
    IpObjectError,
    ModelError,
    NetworksAnnotationError,
    ProviderError,
    SubnetSpecError,
    parse_ip_object,
    parse_nad,
    parse_networks,
    parse_provider,
    parse_subnet,
    pod_owner,
    read_allocation,
    read_static_request,
)
from tests.fuzz.strategies import ADDRESSY, FUZZ, JSON, json_text, metadata, shaped

NETWORK_KEYS = ["name", "namespace", "ips", "mac", "interface", "default-route", "cni-args"]
SUBNET_KEYS = [
    "cidrBlock",
    "gateway",
    "excludeIps",
    "provider",
    "protocol",
    "namespaces",
    "default",
]
IP_KEYS = [
    "subnet", "ipAddress", "v4IpAddress", "v6IpAddress", "macAddress", "podName", "namespace",
    "nodeName", "podType", "containerID",
]  # fmt: skip
NAD_CONF_KEYS = ["cniVersion", "type", "provider", "ipam", "plugins", "name", "server_socket"]
OWNER_REF_KEYS = ["kind", "apiVersion", "name", "controller"]
VM_LABEL = "vm.kubevirt.io/name"
PROVIDERS = st.sampled_from(["ovn", "net.default.ovn", "net.default", "a.b.c", ""])


def _names_the_field(exc: ModelError) -> None:
    assert exc.field, f"{type(exc).__name__} without a field: {exc}"
    assert str(exc).startswith(exc.field), str(exc)


NETWORKS = st.one_of(
    json_text(st.lists(shaped(NETWORK_KEYS), max_size=3)),
    json_text(JSON),
    st.lists(
        st.tuples(
            st.sampled_from(["", "ns/"]), st.text(max_size=8), st.sampled_from(["", "@eth1"])
        ),
        max_size=3,
    ).map(lambda parts: ",".join("".join(p) for p in parts)),
)


@FUZZ
@given(annotation=NETWORKS, namespace=st.one_of(st.just("default"), st.text(max_size=8)))
def test_networks_annotation(annotation: str, namespace: str) -> None:
    """k8s.v1.cni.cncf.io/networks: only NetworksAnnotationError, naming the entry's field."""
    try:
        parse_networks(annotation=annotation, pod_namespace=namespace)
    except NetworksAnnotationError as exc:
        _names_the_field(exc)


@FUZZ
@given(
    annotations=st.dictionaries(
        st.sampled_from(
            [f"{p}.kubernetes.io/{k}" for p in ("ovn", "net.default.ovn") for k in (
                "ip_address", "mac_address", "logical_switch", "allocated", "cidr", "gateway",
            )]
        ),
        st.one_of(ADDRESSY, st.just("true")),
    ),
    provider=st.sampled_from(["ovn", "net.default.ovn"]),
)  # fmt: skip
def test_pod_address_annotations(annotations: dict[str, str], provider: str) -> None:
    """Static-IP and allocation annotations: only AnnotationError, naming the key."""
    for read in (read_static_request, read_allocation):
        try:
            read(annotations=annotations, provider=provider)
        except AnnotationError as exc:
            _names_the_field(exc)


NADS = st.fixed_dictionaries(
    {"metadata": metadata()},
    optional={
        "spec": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"config": st.one_of(json_text(shaped(NAD_CONF_KEYS)), JSON)}
            ),
            JSON,
        )
    },
)


@FUZZ
@given(body=NADS)
def test_nad_config(body: dict[str, Any]) -> None:
    """NAD spec.config: never raises; a malformed one carries an error naming the field."""
    nad = parse_nad(body=body)
    if nad.error is not None:
        field, sep, detail = nad.error.partition(":")
        assert sep, nad.error
        assert field in ("metadata", "spec") or field.startswith(("metadata.", "spec.")), nad.error
        assert detail.strip()


SUBNETS = st.fixed_dictionaries(
    {"metadata": metadata(st.one_of(st.just("s1"), st.text(max_size=6)))},
    optional={"spec": st.one_of(shaped(SUBNET_KEYS), JSON)},
)


@FUZZ
@given(body=SUBNETS)
def test_subnet_spec_and_ipam(body: dict[str, Any]) -> None:
    """Subnet spec: only SubnetSpecError; an accepted spec is accepted by the IPAM too."""
    try:
        spec = parse_subnet(body=body)
    except SubnetSpecError as exc:
        _names_the_field(exc)
        return
    ipam = IPAM(seed=1)
    ipam.apply_subnet(
        spec.name, spec.cidr_block, gateway=spec.gateway, exclude_ips=spec.exclude_ips
    )


@FUZZ
@given(
    cidr=st.sampled_from(["10.16.0.0/28", "fd00::/124", "10.16.0.0/28,fd00::/124"]),
    requests=st.lists(st.tuples(st.one_of(st.none(), ADDRESSY), st.one_of(st.none(), ADDRESSY))),
)
def test_static_requests_reach_the_ipam(
    cidr: str, requests: list[tuple[str | None, str | None]]
) -> None:
    """Static IP/MAC requests of any text: only IPAMError (with the value), never a crash."""
    ipam = IPAM(seed=1)
    ipam.add_subnet("s", cidr)
    for index, (ips, mac) in enumerate(requests):
        try:
            ipam.allocate("s", f"ns/p{index}/ovn", ips=ips, mac=mac)
        except IPAMError as exc:
            _names_the_value(exc)


def _names_the_value(exc: IPAMError) -> None:
    assert exc.subnet == "s"
    assert exc.value is not None


IP_OBJECTS = st.fixed_dictionaries(
    {"metadata": metadata()}, optional={"spec": st.one_of(shaped(IP_KEYS), JSON)}
)


@FUZZ
@given(body=IP_OBJECTS)
def test_ip_object(body: dict[str, Any]) -> None:
    """IP objects: only IpObjectError naming the field; the audit's reader never raises."""
    try:
        parse_ip_object(body=body)
    except IpObjectError as exc:
        _names_the_field(exc)
    ip_object_record(body)
    subnet_record(body)


PODS = st.fixed_dictionaries(
    {
        "metadata": st.fixed_dictionaries(
            {"name": st.just("p"), "namespace": st.just("default")},
            optional={
                "annotations": st.one_of(
                    st.dictionaries(
                        st.sampled_from(
                            [
                                "ovn.kubernetes.io/allocated",
                                "ovn.kubernetes.io/ip_address",
                                "ovn.kubernetes.io/logical_switch",
                                "net.default.ovn.kubernetes.io/allocated",
                            ]
                        ),
                        st.one_of(ADDRESSY, st.just("true")),
                    ),
                    JSON,
                ),
                "ownerReferences": st.one_of(st.lists(shaped(OWNER_REF_KEYS)), JSON),
                "labels": st.one_of(st.dictionaries(st.just(VM_LABEL), ADDRESSY), JSON),
            },
        )
    },
    optional={"status": st.one_of(shaped(["phase"]), JSON)},
)


@FUZZ
@given(pods=st.lists(PODS, max_size=3), ips=st.lists(IP_OBJECTS, max_size=3))
def test_pods_and_the_audit(pods: list[dict[str, Any]], ips: list[dict[str, Any]]) -> None:
    """Pod ownership and the audit of any pods and IP objects never raise."""
    for body in pods:
        pod_owner(pod=body)
        pod_record(body)
    snapshot = Snapshot()
    snapshot.add_pods(pods)
    snapshot.add_ips(ips)
    for scope in Scope:
        audit(snapshot, scope=scope)


@FUZZ
@given(provider=st.one_of(PROVIDERS, st.text(max_size=20)))
def test_provider(provider: str) -> None:
    """Provider strings: only ProviderError naming the field."""
    try:
        parse_provider(provider=provider)
    except ProviderError as exc:
        _names_the_field(exc)


@pytest.mark.parametrize("annotation", ["[]", "", " ", "default/net"])
def test_networks_plain_forms_still_parse(annotation: str) -> None:
    """Sanity: the fuzzed parser still accepts the ordinary forms."""
    parse_networks(annotation=annotation, pod_namespace="default")
