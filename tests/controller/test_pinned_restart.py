"""Restarts in the middle of the pinned-address flows: no duplicate, no leak."""

from __future__ import annotations

from ovnctl.k8s.resources import IPAMCLAIMS, PODS
from tests.controller import probes
from tests.controller.conftest import call, eventually
from tests.controller.objects import create_all, pod, subnet
from tests.controller.test_ipamclaim import IP as CLAIM_IP
from tests.controller.test_ipamclaim import PROVIDER, claim, claim_status, nad, networks
from tests.controller.test_ippool import ippool, namespace

IP = "ovn.kubernetes.io/ip_address"


async def test_claims_across_a_restart(sim, kube) -> None:
    """A kept claim stays held; a claim deleted while the controller was down is freed."""
    await create_all(
        kube,
        nad(),
        subnet("tenant", "172.17.0.0/24", provider=PROVIDER),
        claim("kept"),
        claim("dropped"),
    )
    async with probes.Restartable(sim, primary_network=False) as controller:
        await controller.start()
        await create_all(kube, pod("a", networks=networks("kept")))
        await create_all(kube, pod("b", networks=networks("dropped")))
        first = await probes.allocated(kube, "a", PROVIDER)
        await probes.allocated(kube, "b", PROVIDER)
        await controller.stop()

        for name in ("a", "b"):
            await kube.delete(PODS, name=name, namespace="default")
        await kube.delete(IPAMCLAIMS, name="dropped", namespace="default")
        await controller.start()
        await eventually(
            lambda: probes.ip_objects(kube),
            until=lambda ips: set(ips) == {f"kept.default.{PROVIDER}"},
        )
        await create_all(kube, pod("a2", networks=networks("kept")))
        again = await probes.allocated(kube, "a2", PROVIDER)
        assert again[CLAIM_IP] == first[CLAIM_IP]


async def test_claim_status_survives_a_restart_without_pods(sim, kube) -> None:
    """A kept claim with no pod still reports its address after a restart."""
    await create_all(
        kube, nad(), subnet("tenant", "172.17.0.0/24", provider=PROVIDER), claim("idle")
    )
    async with probes.Restartable(sim, primary_network=False) as controller:
        await controller.start()
        await create_all(kube, pod("once", networks=networks("idle")))
        first = await probes.allocated(kube, "once", PROVIDER)
        await kube.delete(PODS, name="once", namespace="default")
        await controller.stop()
        # A stale status from before must be rewritten from the IP object, not emptied.
        await kube.patch(
            IPAMCLAIMS,
            name="idle",
            namespace="default",
            subresource="status",
            body={"status": {"ips": []}},
        )
        await controller.start()
        status = await eventually(
            lambda: claim_status(kube, "idle"), until=lambda s: bool(s.get("ips"))
        )
        assert status["ips"] == [f"{first[CLAIM_IP]}/24"]


async def test_pool_pods_created_during_a_restart_stay_in_the_pool(sim, kube) -> None:
    """Pods created while the controller is down get pool addresses, none twice."""
    await create_all(
        kube,
        namespace("a"),
        subnet("ovn-default", "10.16.0.0/24", default=True),
        ippool("p", "ovn-default", ["10.16.0.100..10.16.0.103"], "a"),
    )
    async with probes.Restartable(sim) as controller:
        await controller.start()
        await create_all(kube, pod("x0", "a"))
        await probes.allocated(kube, "x0", "ovn", namespace="a")
        await controller.stop()
        await create_all(kube, *(pod(f"x{i}", "a") for i in range(1, 4)))
        await controller.start()
        got = [(await probes.allocated(kube, f"x{i}", "ovn", namespace="a"))[IP] for i in range(4)]
        assert sorted(got) == [f"10.16.0.{i}" for i in range(100, 104)]


async def test_a_claim_pod_running_across_a_restart_keeps_its_address(sim, kube) -> None:
    """A live pod's annotation does not compete with its claim's IP object at start-up."""
    await create_all(
        kube, nad(), subnet("tenant", "172.17.0.0/24", provider=PROVIDER), claim("live")
    )
    async with probes.Restartable(sim, primary_network=False) as controller:
        await controller.start()
        await create_all(kube, pod("runner", networks=networks("live")))
        first = await probes.allocated(kube, "runner", PROVIDER)
        await controller.stop()
        restarted = await controller.start()
        owners = await call(restarted, lambda c: sorted(c.ipam.owners()))
        assert owners == [f"live.default.{PROVIDER}"]
        await create_all(kube, pod("newcomer", networks="tenantnet"))
        other = await probes.allocated(kube, "newcomer", PROVIDER)
        assert other[CLAIM_IP] != first[CLAIM_IP]
