"""The Subnet admission webhook end to end: ``ovnctl run``, the API server calling it, clients.

The API server (``ovnctl sim serve``, another process) calls the webhook through the
Service of ``overlays/webhook`` (mapped to the controller's port, TLS checked against
``ovnctl-webhook.ovnctl.svc``), with the overlay's own ValidatingWebhookConfiguration and a
``caBundle`` filled in as cert-manager's cainjector would. kubectl and the official Python
client see denials and warnings as they would from a cluster.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import trustme
import yaml
from kubernetes.client.exceptions import ApiException

from ovnctl.k8s.api import KubeApi, Resource
from ovnctl.k8s.connection import connect
from ovnctl.k8s.resources import PODS, SUBNETS
from ovnctl.sim import SimProcess
from tests.controller.conftest import eventually
from tests.controller.objects import pod, subnet
from tests.controller.subnet_checks import gone, has_condition, wait_ready
from tests.e2e.conftest import CRDS, REPO, ControllerProcess, free_port

pytestmark = pytest.mark.slow

KUBECTL = os.environ.get("KUBECTL") or shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
VWC = Resource(
    group="admissionregistration.k8s.io",
    version="v1",
    plural="validatingwebhookconfigurations",
    namespaced=False,
)
HOOK = "subnets.kubeovn.io.ovnctl.io"
DENIED = f'admission webhook "{HOOK}" denied the request: '


class Cluster:
    """The API server, one controller serving the webhook, and the test's clients."""

    def __init__(self, sim: SimProcess, tmp_path: Path, port: int) -> None:
        self.sim = sim
        self.tmp_path = tmp_path
        self.port = port
        ca = trustme.CA()
        cert = ca.issue_cert("ovnctl-webhook.ovnctl.svc")
        self.cert = tmp_path / "tls.crt"
        self.key = tmp_path / "tls.key"
        cert.cert_chain_pems[0].write_to_path(str(self.cert))
        cert.private_key_pem.write_to_path(str(self.key))
        self.ca_bundle = ca.cert_pem.bytes()
        self.kube: KubeApi = connect(kubeconfig=str(sim.kubeconfig_path), user_agent="e2e-test")
        self.controller: ControllerProcess | None = None

    def start_controller(self, identity: str = "hook-1") -> ControllerProcess:
        self.controller = ControllerProcess(
            kubeconfig=self.sim.kubeconfig_path,
            identity=identity,
            log_dir=self.tmp_path,
            extra=(
                "--webhook-port", str(self.port),
                "--webhook-cert", str(self.cert),
                "--webhook-key", str(self.key),
            ),
        )  # fmt: skip
        return self.controller

    async def install_webhook_configuration(self) -> None:
        """The overlay's configuration, with the CA cert-manager's cainjector would inject."""
        path = REPO / "overlays" / "webhook" / "validatingwebhookconfiguration.yaml"
        config = yaml.safe_load(path.read_text())
        for hook in config["webhooks"]:
            hook["clientConfig"]["caBundle"] = base64.b64encode(self.ca_bundle).decode()
        await self.kube.create(VWC, config)

    def kubectl(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        assert KUBECTL is not None
        return subprocess.run(
            [KUBECTL, "--kubeconfig", str(self.sim.kubeconfig_path), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def apply(self, body: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        return self.kubectl("apply", "-f", "-", stdin=json.dumps(body))


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    port = free_port()
    with SimProcess(
        manifests=CRDS, service_endpoints={("ovnctl", "ovnctl-webhook"): ("127.0.0.1", port)}
    ) as sim:
        world = Cluster(sim, tmp_path, port)
        try:
            yield world
        finally:
            if world.controller is not None and world.controller.process.poll() is None:
                world.controller.stop()
            world.kube.close()


@pytest.fixture
async def serving(cluster: Cluster) -> Cluster:
    """A leading controller serving reviews, the configuration installed, and answering."""
    controller = cluster.start_controller()
    await controller.wait_probe("/readyz", text="leading")
    await cluster.install_webhook_configuration()

    async def denies() -> bool:
        result = await asyncio.to_thread(
            cluster.apply, {**subnet("probe", "10.250.0.0/33"), "spec": {"cidrBlock": "x/33"}}
        )
        return DENIED in result.stderr

    await eventually(denies, until=bool, within=30)
    return cluster


BAD_SPECS = [
    ({"cidrBlock": "10.16.0.0/33"}, "spec.cidrBlock", "10.16.0.0/33"),
    ({"cidrBlock": "10.16.0.0/24", "protocol": "IPv6"}, "spec.protocol", "IPv6"),
    ({"cidrBlock": "10.16.0.0/24", "gateway": "10.99.0.1"}, "spec.gateway", "10.99.0.1"),
    ({"cidrBlock": "10.16.0.0/24", "excludeIps": ["10.16.0.x"]}, "spec.excludeIps", "10.16.0.x"),
    (
        {"cidrBlock": "10.16.0.0/24", "excludeIps": ["10.16.0.9..10.16.0.2"]},
        "spec.excludeIps",
        "10.16.0.9..10.16.0.2",
    ),
    ({"cidrBlock": "10.16.0.0/24", "provider": "no-dots"}, "spec.provider", "no-dots"),
]


@needs_kubectl
async def test_each_rule_is_denied_through_kubectl(serving: Cluster) -> None:
    """kubectl apply prints the webhook's denial naming field and value, for every rule."""
    for spec, field, value in BAD_SPECS:
        result = await asyncio.to_thread(serving.apply, {**subnet("bad", "x"), "spec": spec})
        assert result.returncode != 0, (spec, result.stdout)
        assert DENIED in result.stderr, result.stderr
        assert field in result.stderr
        assert value in result.stderr

    # Rules across subnets, read from the cache: overlap within a provider, two defaults.
    first = await asyncio.to_thread(serving.apply, subnet("one", "10.16.0.0/16", default=True))
    assert first.returncode == 0, first.stderr
    await wait_ready(serving.kube, "one")
    overlap = await asyncio.to_thread(serving.apply, subnet("two", "10.16.3.0/24"))
    assert DENIED in overlap.stderr
    assert "spec.cidrBlock" in overlap.stderr
    assert "overlap" in overlap.stderr
    default = await asyncio.to_thread(serving.apply, subnet("three", "10.17.0.0/24", default=True))
    assert DENIED in default.stderr
    assert "spec.default" in default.stderr

    # cidrBlock is fixed while a pod holds an address in the subnet.
    await serving.kube.create(PODS, pod("p1"), namespace="default")
    await eventually(
        lambda: serving.kube.get(SUBNETS, name="one"),
        until=lambda body: (body.get("status") or {}).get("v4usingIPs") == 1,
    )
    moved = await asyncio.to_thread(serving.apply, subnet("one", "10.40.0.0/16", default=True))
    assert DENIED in moved.stderr
    assert "spec.cidrBlock" in moved.stderr
    assert "10.40.0.0/16" in moved.stderr
    assert "allocated" in moved.stderr


@needs_kubectl
async def test_a_valid_subnet_is_admitted_and_ready_and_a_missing_nad_warns(
    serving: Cluster,
) -> None:
    """A good Subnet is created and becomes Ready; a NAD not there yet warns, never denies."""
    result = await asyncio.to_thread(serving.apply, subnet("good", "10.16.0.0/24"))
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    await wait_ready(serving.kube, "good")
    later = await asyncio.to_thread(
        serving.apply, subnet("later", "10.20.0.0/24", provider="attnet.default.ovn")
    )
    assert later.returncode == 0, later.stderr
    assert "Warning:" in later.stderr
    assert "spec.provider" in later.stderr
    assert "attnet" in later.stderr
    assert await serving.kube.get(SUBNETS, name="later")


async def test_the_python_client_gets_the_denial(serving: Cluster) -> None:
    """The official client raises ApiException 422 whose Status message names field and value."""

    def create() -> ApiException:
        client = kubernetes.config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(serving.sim.kubeconfig_path)
        )
        try:
            api = kubernetes.client.CustomObjectsApi(client)
            body = {
                **subnet("bad", "x"),
                "spec": {"cidrBlock": "10.16.0.0/24", "gateway": "10.9.9.9"},
            }
            try:
                api.create_cluster_custom_object("kubeovn.io", "v1", "subnets", body)
            except ApiException as exc:
                return exc
            raise AssertionError("created")
        finally:
            client.close()

    error = await asyncio.to_thread(create)
    assert error.status == 422
    message = json.loads(str(error.body))["message"]
    assert message.startswith(DENIED)
    assert "spec.gateway" in message
    assert "10.9.9.9" in message


@needs_kubectl
async def test_webhook_unreachable_is_ignored_and_the_reconciler_refuses(serving: Cluster) -> None:
    """failurePolicy Ignore: with no replica serving, a bad spec is stored; the reconciler then
    marks it Validated=False once a controller runs again."""
    assert serving.controller is not None
    assert serving.controller.stop() == 0
    bad = {**subnet("slipped", "x"), "spec": {"cidrBlock": "10.16.0.0/24", "gateway": "10.9.9.9"}}
    result = await asyncio.to_thread(serving.apply, bad)
    assert result.returncode == 0, result.stderr
    controller = serving.start_controller("hook-2")
    await controller.wait_probe("/readyz", text="leading")
    await eventually(
        lambda: serving.kube.get(SUBNETS, name="slipped"),
        until=has_condition("Validated", "False"),
    )


async def test_a_subnet_with_allocations_stays_until_they_are_released(serving: Cluster) -> None:
    """Deleted while a pod holds an address: held by the finalizer (the webhook lets the
    controller's finalizer patch through), then gone once the pod is."""
    kube = serving.kube
    await kube.create(SUBNETS, subnet("held", "10.16.0.0/24", default=True))
    await wait_ready(kube, "held")
    await kube.create(PODS, pod("p1"), namespace="default")
    await eventually(
        lambda: kube.get(SUBNETS, name="held"),
        until=lambda body: (body.get("status") or {}).get("v4usingIPs") == 1,
    )
    await kube.delete(SUBNETS, name="held")
    await eventually(
        lambda: kube.get(SUBNETS, name="held"), until=has_condition("Ready", "False", "Terminating")
    )
    body = await kube.get(SUBNETS, name="held")
    assert body["metadata"]["deletionTimestamp"]
    await kube.delete(PODS, name="p1", namespace="default")
    await eventually(lambda: gone(kube, "held"), until=bool, within=30)


IPPOOL_HOOK = "ippools.kubeovn.io.ovnctl.io"
IPPOOL_DENIED = f'admission webhook "{IPPOOL_HOOK}" denied the request: '


def ippool(name: str, subnet_name: str, ips: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "kubeovn.io/v1",
        "kind": "IPPool",
        "metadata": {"name": name},
        "spec": {"subnet": subnet_name, "ips": ips},
    }


@needs_kubectl
async def test_ippool_rules_are_denied_through_kubectl(serving: Cluster) -> None:
    """kubectl apply of an IPPool prints the webhook's denial naming the entry and its value:
    inside excludeIps, shared with another pool, and a changed spec.subnet."""
    subnets = [
        subnet("pools", "10.30.0.0/24", excludeIps=["10.30.0.1..10.30.0.10"]),
        subnet("elsewhere", "10.31.0.0/24"),
    ]
    for body in subnets:
        created = await asyncio.to_thread(serving.apply, body)
        assert created.returncode == 0, created.stderr
        await wait_ready(serving.kube, body["metadata"]["name"])

    excluded = await asyncio.to_thread(
        serving.apply, ippool("bad", "pools", ["10.30.0.100", "10.30.0.101", "10.30.0.5"])
    )
    assert excluded.returncode != 0, excluded.stdout
    assert (
        IPPOOL_DENIED + "IPPool 'bad': spec.ips[2]: 10.30.0.5 is inside the excludeIps of "
        "subnet 'pools'"
    ) in excluded.stderr

    first = await asyncio.to_thread(serving.apply, ippool("first", "pools", ["10.30.0.20/30"]))
    assert first.returncode == 0, first.stderr
    overlap = await asyncio.to_thread(
        serving.apply, ippool("second", "pools", ["10.30.0.22..10.30.0.30"])
    )
    assert IPPOOL_DENIED in overlap.stderr
    assert "spec.ips[0]: 10.30.0.22..10.30.0.30 has 10.30.0.22-10.30.0.23 also in IPPool " in (
        overlap.stderr
    )

    moved = await asyncio.to_thread(serving.apply, ippool("first", "elsewhere", ["10.31.0.20"]))
    assert IPPOOL_DENIED in moved.stderr
    assert "spec.subnet: changed from 'pools' to 'elsewhere'" in moved.stderr
