"""Rendering the daemon's wiring as the CNI result of each version."""

from __future__ import annotations

import jsonschema

from ovnctl.cni.result import error_object, render_result
from tests.cni.conftest import WIRING
from tests.cni.schema import ERROR_SCHEMA, result_schema


def test_result_1_0_0() -> None:
    """1.0.0: no ips[].version; addresses point at the container interface."""
    result = render_result(cni_version="1.0.0", wiring=WIRING, dns=None)
    jsonschema.validate(result, result_schema("1.0.0"))
    assert result["ips"] == [{"address": "10.16.0.5/16", "interface": 1, "gateway": "10.16.0.1"}]
    assert result["interfaces"][1] == {
        "name": "eth0",
        "mac": "00:00:00:aa:bb:cc",
        "sandbox": "/var/run/netns/x",
    }
    assert result["dns"] == {}


def test_result_0_4_0_has_ip_versions() -> None:
    """0.4.0 (and 0.3.x): each ip carries its version."""
    wiring = dict(WIRING, ips=[*WIRING["ips"], {"address": "fd00::5/64", "gateway": "fd00::1"}])
    result = render_result(cni_version="0.4.0", wiring=wiring, dns=None)
    jsonschema.validate(result, result_schema("0.4.0"))
    assert [ip["version"] for ip in result["ips"]] == ["4", "6"]


def test_dns_keeps_only_spec_keys() -> None:
    """DNS from the config is passed through, unknown keys dropped."""
    dns = {"nameservers": ["10.96.0.10"], "domain": "cluster.local", "bogus": 1}
    result = render_result(cni_version="1.0.0", wiring=WIRING, dns=dns)
    assert result["dns"] == {"nameservers": ["10.96.0.10"], "domain": "cluster.local"}


def test_routes_without_gateway_omit_gw() -> None:
    """An on-link route is rendered with dst only."""
    wiring = dict(WIRING, routes=[{"dst": "10.96.0.0/12", "gw": None}])
    result = render_result(cni_version="1.0.0", wiring=wiring, dns=None)
    jsonschema.validate(result, result_schema("1.0.0"))
    assert result["routes"] == [{"dst": "10.96.0.0/12"}]


def test_error_object_shape() -> None:
    """The error object carries cniVersion, code, msg, and details only when given."""
    assert error_object(cni_version="1.0.0", code=7, msg="bad") == {
        "cniVersion": "1.0.0",
        "code": 7,
        "msg": "bad",
    }
    jsonschema.validate(
        error_object(cni_version="1.0.0", code=11, msg="x", details="y"), ERROR_SCHEMA
    )
