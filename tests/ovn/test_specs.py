"""Desired-state values and --ovn-nb parsing: naming, addresses, router links, validation."""

from __future__ import annotations

import pytest

from ovnctl.ipam.results import Allocation
from ovnctl.models.subnet import parse_subnet_spec
from ovnctl.ovn import OwnerKind, PortSpec, SwitchSpec, parse_remotes


def test_switch_from_subnet_spec() -> None:
    """A validated Subnet maps onto its switch: name, CIDRs, defaulted gateway, excludes."""
    subnet = parse_subnet_spec(
        name="blue", spec={"cidrBlock": "10.20.0.0/16", "excludeIps": ["10.20.0.2..10.20.0.9"]}
    )
    spec = SwitchSpec.from_subnet(subnet)
    assert spec == SwitchSpec(
        name="blue",
        cidr_block="10.20.0.0/16",
        gateway="10.20.0.1",
        exclude_ips=("10.20.0.2..10.20.0.9",),
    )
    assert dict(spec.other_config) == {
        "subnet": "10.20.0.0/16",
        "gateway": "10.20.0.1",
        "exclude_ips": "10.20.0.2..10.20.0.9",
    }


def test_router_link_names_and_networks() -> None:
    """Router port ovn-cluster-<s> holds each gateway with its prefix; peer is <s>-ovn-cluster."""
    spec = SwitchSpec(name="s", cidr_block="fd00::/64,10.0.0.0/24", gateway="fd00::1,10.0.0.1")
    assert spec.router_port == "ovn-cluster-s"
    assert spec.switch_port == "s-ovn-cluster"
    assert spec.router_networks == ("fd00::1/64", "10.0.0.1/24")


def test_router_mac_is_stable_and_locally_administered() -> None:
    """The router port's MAC depends only on the switch name and is a local unicast MAC."""
    one = SwitchSpec(name="s", cidr_block="10.0.0.0/24", gateway="10.0.0.1").router_mac
    again = SwitchSpec(name="s", cidr_block="10.9.0.0/24", gateway="10.9.0.1").router_mac
    other = SwitchSpec(name="t", cidr_block="10.0.0.0/24", gateway="10.0.0.1").router_mac
    assert one == again != other
    first = int(one.split(":")[0], 16)
    assert first & 0x02
    assert not first & 0x01


@pytest.mark.parametrize(
    ("cidr", "gateway"),
    [("10.0.0.0/24", "10.0.1.1"), ("10.0.0.0/24,fd00::/64", "10.0.0.1")],
)
def test_switch_rejects_bad_gateways(cidr: str, gateway: str) -> None:
    """A gateway outside its CIDR, or a missing one, is refused before any NB call."""
    with pytest.raises(ValueError, match="gateway"):
        SwitchSpec(name="s", cidr_block=cidr, gateway=gateway)


def test_port_from_allocation() -> None:
    """An IPAM allocation becomes a port named after its owner key, on its subnet's switch."""
    allocation = Allocation(
        subnet="ovn-default", owner="web.ns1", ips=("fd00::5", "10.16.0.5"), mac="0E:AA:00:00:00:01"
    )
    spec = PortSpec.from_allocation(
        allocation, owner_kind=OwnerKind.POD, owner_namespace="ns1", owner_name="web"
    )
    assert spec.name == "web.ns1"
    assert spec.switch == "ovn-default"
    assert spec.addresses == "0e:aa:00:00:00:01 10.16.0.5 fd00::5"
    assert spec.external_ids["pod"] == "ns1/web"
    assert spec.external_ids["vendor"] == "ovnctl"


@pytest.mark.parametrize(
    ("text", "members"),
    [
        ("tcp:127.0.0.1:6641", ("tcp:127.0.0.1:6641",)),
        ("unix:/var/run/ovn/ovnnb_db.sock", ("unix:/var/run/ovn/ovnnb_db.sock",)),
        ("tcp:[fd00::1]:6641", ("tcp:[fd00::1]:6641",)),
        ("ssl:10.0.0.1:6641,ssl:[fd00::2]:6641", ("ssl:10.0.0.1:6641", "ssl:[fd00::2]:6641")),
        (
            "tcp:10.0.0.1:6641, tcp:10.0.0.2:6641,tcp:10.0.0.3:6641",
            ("tcp:10.0.0.1:6641", "tcp:10.0.0.2:6641", "tcp:10.0.0.3:6641"),
        ),
    ],
)
def test_remotes_accepted(text: str, members: tuple[str, ...]) -> None:
    """tcp:IP:PORT, ssl:IP:PORT, unix:PATH and comma lists of cluster members are accepted."""
    assert parse_remotes(text) == members


@pytest.mark.parametrize(
    "text",
    [
        "",
        "tcp:127.0.0.1",
        "tcp:nb.example.com:6641",
        "tcp:127.0.0.1:70000",
        "ssl:nb.example.com:6641",
        "ssl:127.0.0.1",
        "tls:127.0.0.1:6641",
        "unix:",
        "127.0.0.1:6641",
        "tcp:127.0.0.1:6641,",
        "tcp:127.0.0.1:6641,tcp:127.0.0.1:6641",
    ],
)
def test_remotes_rejected(text: str) -> None:
    """Malformed members, host names, unknown methods and duplicates are refused."""
    with pytest.raises(ValueError, match="--ovn-nb"):
        parse_remotes(text)


def test_converge_report_summary_counts_instead_of_naming() -> None:
    """A convergence report logs as counts, however many ports it touched."""
    from ovnctl.ovn import ConvergeReport

    report = ConvergeReport(ports_created=tuple(f"p{i}" for i in range(10_000)), foreign=("x",))
    assert report.summary() == "10000 ports created, 1 foreign"
    assert ConvergeReport().summary() == "no change"
