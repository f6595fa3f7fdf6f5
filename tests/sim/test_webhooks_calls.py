"""Admission webhooks called over HTTPS: denial, review contents, mutation, warnings, failures."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import aiohttp
import trustme

from ovnctl.sim import SimServer
from tests.sim.conftest import NADS, VMS, Api, nad, vm
from tests.sim.webhook_server import (
    MWC,
    VWC,
    HookServer,
    jsonpatch_response,
    mutating_configuration,
    rule,
    validating_configuration,
    webhook,
)


async def test_denial_returns_the_webhooks_status_and_stores_nothing(
    api: Api, hooks: HookServer
) -> None:
    """A denying webhook's code, reason and message reach the client; nothing is stored."""
    hooks.handlers["/deny"] = lambda req: {
        "allowed": False,
        "status": {"code": 403, "reason": "Forbidden", "message": "cidr overlaps"},
    }
    await api.create(
        VWC,
        validating_configuration("deny", webhook("deny.ovnctl.test", hooks.client_config("/deny"))),
    )
    status, body = await api.post(NADS, nad("refused"))
    assert status == 403
    assert body["reason"] == "Forbidden"
    assert (
        body["message"] == 'admission webhook "deny.ovnctl.test" denied the request: cidr overlaps'
    )
    assert (await api.get(f"{NADS}/refused"))[0] == 404


async def test_denial_without_code_or_message_is_400_without_explanation(
    api: Api, hooks: HookServer
) -> None:
    """Upstream's ToStatusErr: a code under 400 becomes 400, no message says so."""
    hooks.handlers["/deny"] = lambda req: {"allowed": False, "status": {"code": 200}}
    await api.create(
        VWC,
        validating_configuration("deny", webhook("deny.ovnctl.test", hooks.client_config("/deny"))),
    )
    status, body = await api.post(NADS, nad("refused"))
    assert status == 400
    assert body["message"] == (
        'admission webhook "deny.ovnctl.test" denied the request without explanation'
    )


async def test_create_review_carries_the_request(api: Api, hooks: HookServer) -> None:
    """The AdmissionReview of a create names kind, resource, object, user and options."""
    await api.create(
        VWC, validating_configuration("v", webhook("check.ovnctl.test", hooks.client_config("/v")))
    )
    status, _ = await api.post(NADS, nad("one", tier="a"))
    assert status == 201
    (request,) = hooks.requests("/v")
    assert request["operation"] == "CREATE"
    assert request["kind"] == {
        "group": "k8s.cni.cncf.io",
        "version": "v1",
        "kind": "NetworkAttachmentDefinition",
    }
    assert request["resource"] == {
        "group": "k8s.cni.cncf.io",
        "version": "v1",
        "resource": "network-attachment-definitions",
    }
    assert request["requestKind"] == request["kind"]
    assert request["requestResource"] == request["resource"]
    assert (request["namespace"], request["name"]) == ("default", "one")
    assert request["object"]["metadata"]["labels"] == {"tier": "a"}
    assert request["object"]["metadata"]["uid"]  # validating webhooks see the object as stored
    assert request["oldObject"] is None
    assert request["dryRun"] is False
    assert request["userInfo"]["username"] == "system:admin"
    assert request["options"]["kind"] == "CreateOptions"
    assert "subResource" not in request
    assert hooks.queries == [{"timeout": "10s"}]


async def test_put_and_patch_are_updates_with_the_old_object(api: Api, hooks: HookServer) -> None:
    """PUT and every patch dialect reach webhooks as UPDATE, with oldObject the stored one."""
    await api.create(
        VWC, validating_configuration("v", webhook("check.ovnctl.test", hooks.client_config("/v")))
    )
    _, created = await api.post(NADS, nad("one", tier="a"))
    await api.patch(f"{NADS}/one", {"metadata": {"labels": {"tier": "b"}}})
    created["metadata"]["labels"] = {"tier": "c"}
    created["metadata"]["resourceVersion"] = (await api.get(f"{NADS}/one"))[1]["metadata"][
        "resourceVersion"
    ]
    status, _ = await api.put(f"{NADS}/one", created)
    assert status == 200
    _, patch_req, put_req = hooks.requests("/v")
    assert patch_req["operation"] == put_req["operation"] == "UPDATE"
    assert patch_req["options"]["kind"] == "PatchOptions"
    assert put_req["options"]["kind"] == "UpdateOptions"
    assert patch_req["oldObject"]["metadata"]["labels"] == {"tier": "a"}
    assert patch_req["object"]["metadata"]["labels"] == {"tier": "b"}
    assert put_req["oldObject"]["metadata"]["labels"] == {"tier": "b"}
    assert put_req["object"]["metadata"]["labels"] == {"tier": "c"}


async def test_delete_sends_the_old_object_and_a_denial_keeps_it(
    api: Api, hooks: HookServer
) -> None:
    """DELETE reviews carry oldObject and DeleteOptions; a denial keeps the object."""
    hooks.handlers["/v"] = lambda req: {"allowed": False, "status": {"message": "in use"}}
    rules = [
        {
            "operations": ["DELETE"],
            "apiGroups": ["*"],
            "apiVersions": ["*"],
            "resources": ["*"],
        }
    ]
    await api.post(NADS, nad("kept"))
    await api.create(
        VWC,
        validating_configuration(
            "v", webhook("del.ovnctl.test", hooks.client_config("/v"), rules=rules)
        ),
    )
    status, body = await api.delete(f"{NADS}/kept")
    assert status == 400
    assert body["message"].endswith("denied the request: in use")
    (request,) = hooks.requests("/v")
    assert request["operation"] == "DELETE"
    assert request["object"] is None
    assert request["oldObject"]["metadata"]["name"] == "kept"
    assert request["options"]["kind"] == "DeleteOptions"
    assert (await api.get(f"{NADS}/kept"))[0] == 200


async def test_status_subresource_matches_only_status_rules(api: Api, hooks: HookServer) -> None:
    """A rule for ``virtualmachines/status`` sees status writes only, as upstream."""
    rules = [rule("*", group="kubevirt.io", resources=("virtualmachines/status",))]
    await api.create(
        VWC,
        validating_configuration(
            "v", webhook("status.ovnctl.test", hooks.client_config("/status"), rules=rules)
        ),
    )
    await api.post(VMS, vm("vm1"))
    await api.patch(f"{VMS}/vm1", {"metadata": {"labels": {"a": "b"}}})
    assert hooks.requests() == []
    status, _ = await api.patch(f"{VMS}/vm1/status", {"status": {"ready": False}})
    assert status == 200
    (request,) = hooks.requests()
    assert request["subResource"] == "status"
    assert request["requestSubResource"] == "status"
    assert request["object"]["status"] == {"ready": False}


async def test_mutating_patches_apply_in_order_before_validation(
    api: Api, hooks: HookServer
) -> None:
    """Mutating webhooks run by configuration name, each on the previous result; then validation."""
    hooks.handlers["/first"] = lambda req: jsonpatch_response(
        {"op": "add", "path": "/metadata/labels/first", "value": "yes"}
    )

    def second(request: dict[str, Any]) -> dict[str, Any]:
        assert request["object"]["metadata"]["labels"]["first"] == "yes"
        return jsonpatch_response({"op": "add", "path": "/metadata/labels/second", "value": "yes"})

    hooks.handlers["/second"] = second
    await api.create(
        MWC,
        mutating_configuration(
            "b-second", webhook("second.ovnctl.test", hooks.client_config("/second"))
        ),
    )
    await api.create(
        MWC,
        mutating_configuration(
            "a-first", webhook("first.ovnctl.test", hooks.client_config("/first"))
        ),
    )
    await api.create(
        VWC,
        validating_configuration(
            "check", webhook("check.ovnctl.test", hooks.client_config("/check"))
        ),
    )
    status, body = await api.post(NADS, nad("mutated", tier="x"))
    assert status == 201
    expected = {"tier": "x", "first": "yes", "second": "yes"}
    assert body["metadata"]["labels"] == expected
    assert (await api.get(f"{NADS}/mutated"))[1]["metadata"]["labels"] == expected
    assert [p for p, _ in hooks.reviews] == ["/first", "/second", "/check"]
    assert hooks.requests("/check")[0]["object"]["metadata"]["labels"] == expected


async def test_a_mutated_patch_is_stored_as_mutated(api: Api, hooks: HookServer) -> None:
    """A merge patch plus a webhook's JSONPatch is stored as both."""
    hooks.handlers["/m"] = lambda req: jsonpatch_response(
        {"op": "add", "path": "/metadata/annotations", "value": {"seen": "true"}}
    )
    await api.post(NADS, nad("p"))
    await api.create(
        MWC, mutating_configuration("m", webhook("m.ovnctl.test", hooks.client_config("/m")))
    )
    status, body = await api.patch(f"{NADS}/p", {"metadata": {"labels": {"x": "y"}}})
    assert status == 200
    assert body["metadata"]["labels"] == {"x": "y"}
    assert body["metadata"]["annotations"] == {"seen": "true"}


async def test_warnings_arrive_as_warning_headers(sim: SimServer, hooks: HookServer) -> None:
    """Each webhook warning is one ``Warning: 299 - "..."`` header, on success and on denial."""
    hooks.handlers["/warn"] = lambda req: {"allowed": True, "warnings": ['mind the "gap"', "two"]}
    hooks.handlers["/deny"] = lambda req: {
        "allowed": req["object"]["metadata"]["name"] != "bad",
        "warnings": ["from deny"],
        "status": {"code": 422, "message": "bad name"},
    }
    async with aiohttp.ClientSession() as session:
        api = Api(session, sim.url)
        await api.create(
            VWC,
            validating_configuration(
                "w",
                webhook("warn.ovnctl.test", hooks.client_config("/warn")),
                webhook("deny.ovnctl.test", hooks.client_config("/deny")),
            ),
        )
        async with session.post(sim.url + NADS, json=nad("good")) as response:
            assert response.status == 201
            assert response.headers.getall("Warning") == [
                '299 - "mind the \\"gap\\""',
                '299 - "two"',
                '299 - "from deny"',
            ]
        async with session.post(sim.url + NADS, json=nad("bad")) as response:
            assert response.status == 422
            assert '299 - "from deny"' in response.headers.getall("Warning")


async def test_unreachable_webhook_fails_closed_or_open(api: Api, hooks: HookServer) -> None:
    """failurePolicy Fail answers 500 ``failed calling webhook``; Ignore lets the write through."""
    down = {"url": "https://127.0.0.1:1/down", "caBundle": hooks.ca_bundle}
    await api.create(VWC, validating_configuration("down", webhook("down.ovnctl.test", down)))
    status, body = await api.post(NADS, nad("x"))
    assert status == 500
    assert body["reason"] == "InternalError"
    assert body["message"].startswith(
        'Internal error occurred: failed calling webhook "down.ovnctl.test": failed to call '
        'webhook: Post "https://127.0.0.1:1/down?timeout=10s": '
    )
    status, _ = await api.patch(
        f"{VWC}/down",
        [{"op": "replace", "path": "/webhooks/0/failurePolicy", "value": "Ignore"}],
        "json",
    )
    assert status == 200
    assert (await api.post(NADS, nad("x")))[0] == 201


async def test_timeout_seconds_bounds_the_call(api: Api, hooks: HookServer) -> None:
    """A webhook slower than timeoutSeconds is a call failure (context deadline exceeded)."""
    release = asyncio.Event()

    async def slow(request: dict[str, Any]) -> dict[str, Any]:
        await release.wait()
        return {"allowed": True}

    hooks.handlers["/slow"] = slow
    await api.create(
        VWC,
        validating_configuration(
            "slow", webhook("slow.ovnctl.test", hooks.client_config("/slow"), timeoutSeconds=1)
        ),
    )
    try:
        status, body = await api.post(NADS, nad("x"))
    finally:
        release.set()
    assert status == 500
    assert body["message"].endswith("context deadline exceeded")
    assert hooks.queries[0] == {"timeout": "1s"}


async def test_ca_bundle_must_sign_the_server_certificate(api: Api, hooks: HookServer) -> None:
    """A caBundle of another CA fails verification; one that is not PEM fails to load."""
    other = base64.b64encode(trustme.CA().cert_pem.bytes()).decode()
    not_pem = base64.b64encode(b"not a certificate").decode()
    await api.create(
        VWC,
        validating_configuration(
            "ca", webhook("ca.ovnctl.test", {"url": hooks.url("/v"), "caBundle": other})
        ),
    )
    status, body = await api.post(NADS, nad("x"))
    assert status == 500
    assert "certificate verify failed" in body["message"]
    await api.delete(f"{VWC}/ca")
    await api.create(
        VWC,
        validating_configuration(
            "pem", webhook("pem.ovnctl.test", {"url": hooks.url("/v"), "caBundle": not_pem})
        ),
    )
    status, body = await api.post(NADS, nad("x"))
    assert status == 500
    assert "unable to load root certificates" in body["message"]
    assert hooks.reviews == []


async def test_service_resolves_to_the_configured_endpoint(
    sim: SimServer, api: Api, hooks: HookServer
) -> None:
    """clientConfig.service goes to the mapped address, with the service's DNS name for TLS."""
    service = {
        "service": {"namespace": "default", "name": "hooks", "path": "/svc"},
        "caBundle": hooks.ca_bundle,
    }
    await api.create(VWC, validating_configuration("svc", webhook("svc.ovnctl.test", service)))
    status, body = await api.post(NADS, nad("x"))
    assert status == 500
    assert (
        'Post "https://hooks.default.svc:443/svc?timeout=10s": service "hooks" not found'
        in (body["message"])
    )
    sim.set_service_endpoint("default", "hooks", "127.0.0.1", hooks.port)
    assert (await api.post(NADS, nad("x")))[0] == 201
    assert [host.split(":")[0] for host in hooks.hosts] == ["hooks.default.svc"]


async def test_service_certificate_must_name_the_service(
    sim: SimServer, api: Api, hooks: HookServer
) -> None:
    """The server certificate is checked against ``<name>.<namespace>.svc``."""
    sim.set_service_endpoint("default", "elsewhere", "127.0.0.1", hooks.port)
    service = {
        "service": {"namespace": "default", "name": "elsewhere", "path": "/svc", "port": 8443},
        "caBundle": hooks.ca_bundle,
    }
    await api.create(VWC, validating_configuration("svc", webhook("svc.ovnctl.test", service)))
    status, body = await api.post(NADS, nad("x"))
    assert status == 500
    assert "elsewhere.default.svc:8443" in body["message"]
    assert "certificate verify failed" in body["message"] or "hostname" in body["message"]
    assert hooks.reviews == []


async def test_dry_run_is_sent_and_nothing_is_stored(api: Api, hooks: HookServer) -> None:
    """``dryRun=All`` reaches the webhook as ``dryRun: true``; the object is not stored."""
    await api.create(
        VWC, validating_configuration("v", webhook("check.ovnctl.test", hooks.client_config("/v")))
    )
    status, _ = await api.request("POST", NADS, nad("dry"), params={"dryRun": "All"})
    assert status == 201
    (request,) = hooks.requests()
    assert request["dryRun"] is True
    assert request["options"]["dryRun"] == ["All"]
    assert (await api.get(f"{NADS}/dry"))[0] == 404


async def test_configurations_themselves_are_never_admitted(api: Api) -> None:
    """A failing catch-all webhook cannot block edits of webhook configurations."""
    catch_all = webhook(
        "all.ovnctl.test",
        {"url": "https://127.0.0.1:1/"},
        rules=[
            {"operations": ["*"], "apiGroups": ["*"], "apiVersions": ["*"], "resources": ["*/*"]}
        ],
    )
    await api.create(VWC, validating_configuration("all", catch_all))
    assert (await api.post(NADS, nad("blocked")))[0] == 500
    assert (await api.post(VWC, validating_configuration("another")))[0] == 201
    assert (await api.delete(f"{VWC}/all"))[0] == 200
    assert (await api.post(NADS, nad("free")))[0] == 201


async def test_bad_answers_are_call_failures(api: Api, hooks: HookServer) -> None:
    """A wrong uid or a patch from a validating webhook is an invalid response (500 on Fail)."""
    hooks.handlers["/uid"] = lambda req: {"uid": "other", "allowed": True}
    await api.create(
        VWC,
        validating_configuration("uid", webhook("uid.ovnctl.test", hooks.client_config("/uid"))),
    )
    status, body = await api.post(NADS, nad("x"))
    assert status == 500
    assert "received invalid webhook response: expected response.uid=" in body["message"]
    await api.delete(f"{VWC}/uid")
    hooks.handlers["/patch"] = lambda req: jsonpatch_response()
    await api.create(
        VWC, validating_configuration("p", webhook("p.ovnctl.test", hooks.client_config("/patch")))
    )
    status, body = await api.post(NADS, nad("x"))
    assert status == 500
    assert "validating webhook may not return response.patch" in json.dumps(body)


async def test_create_in_a_missing_namespace_fails_before_any_webhook(
    api: Api, hooks: HookServer
) -> None:
    """NamespaceLifecycle runs before webhooks upstream: 404, and no review is sent."""
    await api.create(
        VWC, validating_configuration("v", webhook("check.ovnctl.test", hooks.client_config("/v")))
    )
    path = "/apis/k8s.cni.cncf.io/v1/namespaces/nowhere/network-attachment-definitions"
    status, body = await api.post(path, nad("x"))
    assert status == 404
    assert body["message"] == 'namespaces "nowhere" not found'
    assert hooks.reviews == []


async def test_remapping_a_service_moves_the_calls(
    sim: SimServer, api: Api, hooks: HookServer
) -> None:
    """set_service_endpoint at run time sends the next call to the new address."""
    async with HookServer(hooks.ca) as moved:
        sim.set_service_endpoint("default", "hooks", "127.0.0.1", hooks.port)
        service = {
            "service": {"namespace": "default", "name": "hooks", "path": "/svc"},
            "caBundle": hooks.ca_bundle,
        }
        await api.create(VWC, validating_configuration("svc", webhook("svc.ovnctl.test", service)))
        assert (await api.post(NADS, nad("first")))[0] == 201
        sim.set_service_endpoint("default", "hooks", "127.0.0.1", moved.port)
        assert (await api.post(NADS, nad("second")))[0] == 201
        assert [r["name"] for r in hooks.requests()] == ["first"]
        assert [r["name"] for r in moved.requests()] == ["second"]
