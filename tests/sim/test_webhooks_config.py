"""Webhook configurations as resources: discovery, defaults, validation errors naming the field."""

from __future__ import annotations

import base64
import json
import urllib.request
from typing import Any

import pytest
from click.testing import CliRunner

from ovnctl.cli import main
from ovnctl.sim import SimProcess
from tests.sim.conftest import Api
from tests.sim.webhook_server import (
    MWC,
    VWC,
    mutating_configuration,
    validating_configuration,
    webhook,
)

GROUP = "/apis/admissionregistration.k8s.io/v1"
URL = {"url": "https://127.0.0.1:9443/check"}


async def test_discovery_lists_both_kinds_cluster_scoped(api: Api) -> None:
    """``/apis/admissionregistration.k8s.io/v1`` serves both configuration kinds."""
    status, doc = await api.get(GROUP)
    assert status == 200
    kinds = {r["name"]: (r["kind"], r["namespaced"]) for r in doc["resources"]}
    assert kinds["validatingwebhookconfigurations"] == ("ValidatingWebhookConfiguration", False)
    assert kinds["mutatingwebhookconfigurations"] == ("MutatingWebhookConfiguration", False)


async def test_create_fills_in_upstream_defaults(api: Api) -> None:
    """failurePolicy, matchPolicy, selectors, timeout, scope, port and reinvocation get defaults."""
    service = {"service": {"namespace": "kube-system", "name": "ovnctl", "path": "/v"}}
    status, body = await api.post(
        MWC, mutating_configuration("m", webhook("m.ovnctl.test", service))
    )
    assert status == 201, body
    (hook,) = body["webhooks"]
    assert hook["failurePolicy"] == "Fail"
    assert hook["matchPolicy"] == "Equivalent"
    assert hook["namespaceSelector"] == {}
    assert hook["objectSelector"] == {}
    assert hook["timeoutSeconds"] == 10
    assert hook["reinvocationPolicy"] == "Never"
    assert hook["rules"][0]["scope"] == "*"
    assert hook["clientConfig"]["service"]["port"] == 443
    status, body = await api.get(f"{MWC}/m")
    assert body["webhooks"] == [hook]


async def test_a_configuration_without_webhooks_is_valid(api: Api) -> None:
    """Kopf creates its managed configuration empty first, then patches webhooks in."""
    status, _ = await api.post(VWC, validating_configuration("empty"))
    assert status == 201
    status, body = await api.patch(f"{VWC}/empty", {"webhooks": [webhook("a.b.c", URL)]})
    assert status == 200
    assert body["webhooks"][0]["failurePolicy"] == "Fail"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"name": "two.parts"}, "webhooks[0].name", "FieldValueInvalid"),
        ({"sideEffects": "Some"}, "webhooks[0].sideEffects", "FieldValueNotSupported"),
        ({"sideEffects": None}, "webhooks[0].sideEffects", "FieldValueRequired"),
        (
            {"admissionReviewVersions": []},
            "webhooks[0].admissionReviewVersions",
            "FieldValueRequired",
        ),
        (
            {"admissionReviewVersions": ["v2"]},
            "webhooks[0].admissionReviewVersions",
            "FieldValueInvalid",
        ),
        ({"failurePolicy": "Sometimes"}, "webhooks[0].failurePolicy", "FieldValueNotSupported"),
        ({"timeoutSeconds": 31}, "webhooks[0].timeoutSeconds", "FieldValueInvalid"),
        (
            {"clientConfig": {"url": "http://x.example/"}},
            "webhooks[0].clientConfig.url",
            "FieldValueInvalid",
        ),
        ({"clientConfig": {}}, "webhooks[0].clientConfig", "FieldValueRequired"),
        (
            {"clientConfig": {"url": "https://x.example/", "caBundle": "%%%"}},
            "webhooks[0].clientConfig.caBundle",
            "FieldValueInvalid",
        ),
        (
            {
                "rules": [
                    {
                        "operations": ["GET"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["pods"],
                    }
                ]
            },
            "webhooks[0].rules[0].operations[0]",
            "FieldValueNotSupported",
        ),
        (
            {
                "rules": [
                    {
                        "operations": ["*"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["pods"],
                        "scope": "Node",
                    }
                ]
            },
            "webhooks[0].rules[0].scope",
            "FieldValueNotSupported",
        ),
        (
            {"objectSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}},
            "webhooks[0].objectSelector.matchExpressions[0].values",
            "FieldValueRequired",
        ),
        (
            {"matchConditions": [{"name": "x", "expression": "true"}]},
            "webhooks[0].matchConditions",
            "FieldValueInvalid",
        ),
    ],
)
async def test_invalid_webhooks_are_refused_naming_the_field(
    api: Api, change: dict[str, Any], field: str, reason: str
) -> None:
    """A bad webhook gets 422 Invalid with a cause naming the field, as upstream."""
    hook = {**webhook("check.ovnctl.test", URL), **change}
    hook = {k: v for k, v in hook.items() if v is not None}
    status, body = await api.post(VWC, validating_configuration("bad", hook))
    assert status == 422, body
    assert body["reason"] == "Invalid"
    assert body["message"].startswith(
        'ValidatingWebhookConfiguration.admissionregistration.k8s.io "bad" is invalid: '
    )
    assert {"field": field, "reason": reason} in [
        {"field": c["field"], "reason": c["reason"]} for c in body["details"]["causes"]
    ]


async def test_duplicate_webhook_names_are_refused(api: Api) -> None:
    """Webhook names are unique within a configuration."""
    hook = webhook("same.ovnctl.test", URL)
    status, body = await api.post(VWC, validating_configuration("dup", hook, hook))
    assert status == 422
    assert 'webhooks[1].name: Duplicate value: "same.ovnctl.test"' in body["message"]


async def test_updates_are_validated_too(api: Api) -> None:
    """A patch that breaks a stored configuration is refused and changes nothing."""
    ca = base64.b64encode(b"-----BEGIN CERTIFICATE-----\n").decode()
    hook = webhook("ok.ovnctl.test", {**URL, "caBundle": ca})
    assert (await api.post(VWC, validating_configuration("ok", hook)))[0] == 201
    status, body = await api.patch(
        f"{VWC}/ok", [{"op": "replace", "path": "/webhooks/0/timeoutSeconds", "value": 0}], "json"
    )
    assert status == 422
    assert "webhooks[0].timeoutSeconds" in body["message"]
    assert (await api.get(f"{VWC}/ok"))[1]["webhooks"][0]["timeoutSeconds"] == 10


@pytest.mark.slow
def test_process_takes_service_endpoints_from_the_cli_and_admin() -> None:
    """``--webhook-service`` (SimProcess ``service_endpoints``) and POST /_sim/service-endpoints."""
    endpoints = {("kube-system", "ovnctl-webhook"): ("127.0.0.1", 9443)}
    with SimProcess(service_endpoints=endpoints) as process:
        process.set_service_endpoint("default", "hooks", "127.0.0.1", 8443)
        url = f"{process.url}/_sim/service-endpoints"
        with urllib.request.urlopen(url, timeout=10) as response:
            listed = json.loads(response.read())["endpoints"]
    assert listed == [
        {"namespace": "default", "name": "hooks", "host": "127.0.0.1", "port": 8443},
        {"namespace": "kube-system", "name": "ovnctl-webhook", "host": "127.0.0.1", "port": 9443},
    ]


def test_cli_refuses_a_malformed_webhook_service() -> None:
    """A ``--webhook-service`` that is not NAMESPACE/NAME=HOST:PORT is a usage error."""
    result = CliRunner().invoke(main, ["sim", "serve", "--webhook-service", "ovnctl:9443"])
    assert result.exit_code == 2
    assert "NAMESPACE/NAME=HOST:PORT" in result.output
