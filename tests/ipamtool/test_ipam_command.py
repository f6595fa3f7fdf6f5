"""`ovnctl ipam check` and `ovnctl ipam release` against the embedded API server."""

from __future__ import annotations

import asyncio
import functools
import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ovnctl.cli import main
from ovnctl.k8s.api import NotFound
from ovnctl.k8s.resources import IPS, PODS
from ovnctl.models import build_ip_object
from tests.controller.conftest import eventually, stop
from tests.controller.objects import create_all, kube_ovn_nad, pod, subnet, virtual_machine

ALLOCATED = "attachnet.default.ovn.kubernetes.io/allocated"
IP = "attachnet.default.ovn.kubernetes.io/ip_address"
PODS_ = ("web-0", "web-1", "web-2")


async def _ipam(*args: str) -> Result:
    """Run `ovnctl ipam ...` as a user would (in a thread: it runs its own event loop)."""
    return await asyncio.to_thread(CliRunner().invoke, main, ["ipam", *args])


async def _healthy_cluster(kube, start_controller) -> dict[str, str]:
    """Pods and a VM on an attachment subnet, allocated by a running controller."""
    await create_all(
        kube,
        kube_ovn_nad("attachnet"),
        subnet("attach", "172.17.0.0/24", provider="attachnet.default.ovn"),
        virtual_machine("vm1"),
        *(pod(name, networks="attachnet") for name in PODS_),
        pod("virt-launcher-vm1-a", networks="attachnet", vm="vm1"),
        pod("plain"),  # no attachment: nothing allocated, nothing to check
    )
    await start_controller(primary_network=False)
    addresses: dict[str, str] = {}
    for name in (*PODS_, "virt-launcher-vm1-a"):
        annotations = await eventually(
            functools.partial(_annotations, kube, name), until=lambda a: ALLOCATED in a
        )
        addresses[name] = annotations[IP]
    return addresses


async def _annotations(kube, name: str) -> dict[str, str]:
    body = await kube.get(PODS, name=name, namespace="default")
    return dict(body["metadata"].get("annotations") or {})


def _kubeconfig(sim) -> str:
    return str(sim.kubeconfig_path)


async def test_healthy_cluster_is_quiet(sim, kube, start_controller) -> None:
    """A cluster the controller allocated is clean (exit 0) and shows each subnet's utilisation."""
    await _healthy_cluster(kube, start_controller)
    result = await eventually(
        lambda: _ipam("check", "--kubeconfig", _kubeconfig(sim)), until=lambda r: r.exit_code == 0
    )
    assert "No problems found." in result.output
    assert "attach" in result.output
    assert "4/253 (2%)" in result.output
    as_json = await _ipam("check", "--kubeconfig", _kubeconfig(sim), "-o", "json")
    report = json.loads(as_json.output)
    assert report["clean"] is True
    assert report["read"]["ips"] == 4
    # Kinds longer than a page show a progress line on stderr (forced on: no terminal here).
    paged = await _ipam("check", "--kubeconfig", _kubeconfig(sim), "--progress", "--page-size", "2")
    assert paged.exit_code == 0
    assert "reading pods: 5" in paged.output


async def _plant(kube, addresses: dict[str, str]) -> None:
    """A duplicate (pod `twin` recorded on web-0's address) and a leak (pod `ghost` is gone)."""
    await create_all(kube, pod("twin"))
    for owner, ip, mac in (
        ("twin", addresses["web-0"], "0e:00:00:00:77:01"),
        ("ghost", "172.17.0.200", "0e:00:00:00:77:02"),
    ):
        await kube.create(
            IPS,
            build_ip_object(
                name=f"{owner}.default",
                pod_name=owner,
                namespace="default",
                subnet="attach",
                ips=[ip],
                mac=mac,
                node_name="node1",
            ),
        )


async def test_planted_duplicate_and_leak_are_found(sim, kube, start_controller) -> None:
    """A hand-planted duplicate and leak are reported by kind and subject, exit 1."""
    addresses = await _healthy_cluster(kube, start_controller)
    await _plant(kube, addresses)
    result = await _ipam("check", "--kubeconfig", _kubeconfig(sim), "--output", "json")
    assert result.exit_code == 1, result.output
    findings = json.loads(result.output)["findings"]
    duplicates = [f for f in findings if f["kind"] == "duplicate-ip"]
    assert [d["address"] for d in duplicates] == [addresses["web-0"]]
    assert "twin.default" in duplicates[0]["subject"]
    leaks = [f for f in findings if f["kind"] == "leak"]
    assert [(f["subject"], f["address"]) for f in leaks] == [("ghost.default", "172.17.0.200")]
    # Two IP objects the controller did not write: the status count disagrees, and says so.
    assert any(f["kind"] == "count-mismatch" for f in findings)
    table = await _ipam("check", "--kubeconfig", _kubeconfig(sim))
    assert table.exit_code == 1
    assert "leak ghost.default: pod default/ghost is gone or finished" in table.output


async def test_release_frees_a_leak_and_refuses_a_live_owner(sim, kube, start_controller) -> None:
    """`release` deletes only the leak, only when confirmed; a live owner's IP object stays."""
    addresses = await _healthy_cluster(kube, start_controller)
    await _plant(kube, addresses)
    kc = _kubeconfig(sim)

    unconfirmed = await _ipam("release", "--kubeconfig", kc, "ghost.default")
    assert unconfirmed.exit_code == 2  # stdin is not a terminal and no --yes
    assert await kube.get(IPS, name="ghost.default")

    refused = await _ipam("release", "--kubeconfig", kc, "--yes", "twin.default")
    assert refused.exit_code == 1
    assert "its owner is alive: pod default/twin exists" in refused.output
    assert await kube.get(IPS, name="twin.default")

    vm_nic = await _ipam(
        "release", "--kubeconfig", kc, "--yes", "vm1.default.attachnet.default.ovn"
    )
    assert vm_nic.exit_code == 1
    assert "VirtualMachine default/vm1 exists" in vm_nic.output

    await kube.create(
        IPS,
        build_ip_object(
            name="node-node1",
            pod_name="node1",
            namespace="",
            subnet="attach",
            ips=["172.17.0.250"],
            mac="0e:00:00:00:77:03",
        ),
    )
    node = await _ipam("release", "--kubeconfig", kc, "--yes", "node-node1")
    assert node.exit_code == 1
    assert "not a pod's or VM's NIC" in node.output

    released = await _ipam("release", "--kubeconfig", kc, "--yes", "ghost.default")
    assert released.exit_code == 0, released.output
    assert "released ghost.default (subnet attach, 172.17.0.200, pod default/ghost)" in (
        released.output
    )
    try:
        await kube.get(IPS, name="ghost.default")
    except NotFound:
        pass
    else:
        raise AssertionError("the leaked IP object is still there")


async def test_unreachable_cluster_exits_2(tmp_path: Path) -> None:
    """A kubeconfig pointing at nothing: `could not check`, exit 2."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "kc"
    config.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: x\n"
        f"clusters: [{{name: x, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: x, user: {}}]\n"
        "contexts: [{name: x, context: {cluster: x, user: x}}]\n"
    )
    result = await _ipam("check", "--kubeconfig", str(config))
    assert result.exit_code == 2
    assert "could not check" in result.output


async def test_northbound_drift_is_found_with_ovn_nb(sim, kube, start_controller, tmp_path) -> None:
    """With --ovn-nb: clean when ports match; a port deleted by hand and a stray port are found."""
    from ovnctl.ovn.sandbox import NbSandbox, missing_tools
    from ovnctl.ovn.specs import KEY_VENDOR, VENDOR

    if reason := missing_tools():
        pytest.skip(f"needs a local OVN NB ovsdb-server: {reason}")
    with NbSandbox(tmp_path) as nb:
        await create_all(
            kube,
            kube_ovn_nad("attachnet"),
            subnet("attach", "172.17.0.0/24", provider="attachnet.default.ovn"),
            pod("web-0", networks="attachnet"),
            pod("web-1", networks="attachnet"),
        )
        controller = await start_controller(primary_network=False, ovn_nb=nb.tcp)
        args = ("check", "--kubeconfig", _kubeconfig(sim), "--ovn-nb", nb.tcp, "-o", "json")
        clean = await eventually(lambda: _ipam(*args), until=lambda r: r.exit_code == 0)
        assert json.loads(clean.output)["read"]["ports"] == 2
        # A running controller puts a hand-deleted port back within a second (drift
        # repair): stop it, so the drift planted below stays for the check to find.
        await stop(controller)

        await asyncio.to_thread(nb.nbctl, "lsp-del", "web-1.default.attachnet.default.ovn")
        await asyncio.to_thread(nb.nbctl, "lsp-add", "attach", "stray")
        await asyncio.to_thread(
            nb.nbctl,
            "set",
            "Logical_Switch_Port",
            "stray",
            f"external_ids:{KEY_VENDOR}={VENDOR}",
            'addresses="0e:00:00:00:99:99 172.17.0.99"',
        )
        drift = await _ipam(*args)
        assert drift.exit_code == 1
        kinds = {(f["kind"], f["subject"]) for f in json.loads(drift.output)["findings"]}
        assert ("ip-object-without-port", "web-1.default.attachnet.default.ovn") in kinds
        assert ("port-without-ip-object", "stray") in kinds
