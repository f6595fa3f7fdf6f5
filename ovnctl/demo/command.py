"""``ovnctl demo``: run the scenario, print what the controller did."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

__all__ = ["demo"]

T = TypeVar("T")
DEMO_AGENT = "ovnctl-demo"


def _crd_paths() -> list[Path]:
    root = Path(__file__).resolve().parents[2]
    paths = [
        path
        for folder in (root / "crds", root / "crds" / "test")
        for path in sorted(folder.glob("*.yaml"))
        if path.name != "kustomization.yaml"
    ]
    if not paths:
        raise click.ClickException(
            f"no CRDs under {root / 'crds'}: run the demo from a source checkout of ovnctl"
        )
    return paths


@click.command()
@click.option(
    "--keep", is_flag=True, help="Leave the API server and controller running (Ctrl-C stops)."
)
@click.option(
    "--kubeconfig",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("ovnctl-demo.kubeconfig"),
    show_default=True,
    help="Where to write the kubeconfig of the embedded API server.",
)
@click.option(
    "--ovn/--no-ovn",
    "ovn",
    default=None,
    help="Write the network into a private OVN northbound (ovsdb-server) and show it. "
    "Default: when Debian's ovn-central tools are installed.",
)
def demo(*, keep: bool, kubeconfig: Path, ovn: bool | None) -> None:
    """Show ovnctl at work on the embedded API server, no cluster needed.

    Creates subnets (default, dual-stack, IPv4), a kube-ovn NAD and a macvlan
    NAD with kube-ovn IPAM, pods and KubeVirt VMs with Multus attachments, a
    static IP request and a pod with a bad network; live-migrates one VM and
    deletes another; then prints addresses, subnet usage and API requests.
    """
    import logging

    # Bad input is shown through the Events it produces; log lines would repeat it.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(_demo(keep=keep, kubeconfig=kubeconfig, ovn=ovn)))


async def _eventually(
    probe: Callable[[], Awaitable[T]], until: Callable[[T], bool], *, what: str, within: float = 30
) -> T:
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise click.ClickException(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _step(text: str) -> None:
    click.secho(f"==> {text}", bold=True)


def _northbound(stack: contextlib.ExitStack, wanted: bool | None) -> tuple[Any, Any]:
    """A private NB for the demo, or None (pure IPAM), saying which and why; and the whole
    OVN stack when this machine can run one (root, OVS and OVN installed), for real traffic."""
    from ovnctl.demo.traffic import traffic_skip_reason
    from ovnctl.ovn.sandbox import NbSandbox, missing_tools
    from ovnctl.ovn.stack import OvnStack

    missing = missing_tools()
    if wanted is False or (wanted is None and missing):
        reason = "--no-ovn" if wanted is False else missing
        click.echo(f"    OVN northbound: none ({reason}); ovnctl runs as pure IPAM")
        return None, None
    if missing:
        raise click.ClickException(f"--ovn needs Debian's ovn-central: {missing}")
    # Short: unix socket paths are limited to 107 bytes.
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ovnctl-demo-")))
    if traffic_skip_reason() is None:
        ovn = stack.enter_context(OvnStack(folder / "ovn"))
        click.echo(
            f"    OVN: private NB at {ovn.nb.tcp}, SB, northd, ovn-controller and "
            f"Open vSwitch (userspace datapath) in {folder}"
        )
        return ovn.nb, ovn
    nb = stack.enter_context(NbSandbox(folder))
    click.echo(f"    OVN northbound: private ovsdb-server at {nb.tcp}")
    return nb, None


async def _demo(*, keep: bool, kubeconfig: Path, ovn: bool | None) -> int:
    from ovnctl.controller import Controller, ControllerSettings
    from ovnctl.demo import scenario
    from ovnctl.k8s.connection import connect
    from ovnctl.sim import ThreadedSimServer

    started = time.monotonic()
    _step("Starting the embedded API server with the Subnet, IP, NAD and KubeVirt CRDs")
    with contextlib.ExitStack() as stack:
        sim = stack.enter_context(
            ThreadedSimServer(manifests=_crd_paths(), kubeconfig_path=kubeconfig)
        )
        click.echo(f"    API server {sim.url}, kubeconfig {kubeconfig}")
        nb, ovn_stack = _northbound(stack, ovn)
        controller = Controller(
            settings=ControllerSettings(
                kubeconfig=str(sim.kubeconfig_path), ovn_nb=nb.tcp if nb else None
            )
        )
        if keep:
            controller.handle_signals()
        running = asyncio.create_task(controller.run(), name="demo-controller")
        api = connect(kubeconfig=str(sim.kubeconfig_path), user_agent=DEMO_AGENT)
        try:
            _step("Starting the controller (caches listed, IPAM rebuilt)")
            await asyncio.wait_for(controller.wait_ready(), timeout=30)
            await _run_scenario(api, scenario)
            await _report(api, sim, scenario.NAMESPACE)
            if nb is not None:
                _step("The OVN northbound: ovn-nbctl show")
                click.echo(await asyncio.to_thread(nb.nbctl, "show"))
            await _traffic(ovn_stack, nb, sim.kubeconfig_path, scenario.NAMESPACE)
            click.echo(f"\nDone in {time.monotonic() - started:.1f}s.")
            if keep:
                click.echo(
                    f"\nStill running. Try:\n"
                    f"  kubectl --kubeconfig {kubeconfig} get subnets,ips\n"
                    f"  kubectl --kubeconfig {kubeconfig} -n demo get pods -o yaml\n"
                    "Ctrl-C stops."
                )
                await running
                return 0
        finally:
            controller.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await running
            api.close()
    return 0


async def _traffic(ovn_stack: Any, nb: Any, kubeconfig: Path, namespace: str) -> None:
    """Real packets through OVN where the machine allows; else say what was skipped and why."""
    from ovnctl.demo.traffic import show_traffic, traffic_skip_reason

    _step("Real traffic through OVN (node agent on br-int, pods bound by ovn-controller)")
    if ovn_stack is None:
        reason = "no OVN northbound" if nb is None else traffic_skip_reason()
        click.echo(f"    skipped: {reason}")
        return
    await asyncio.to_thread(show_traffic, ovn_stack, kubeconfig=kubeconfig, namespace=namespace)


async def _run_scenario(api: Any, scenario: Any) -> None:
    from ovnctl.k8s.resources import (
        BY_KIND,
        IPS,
        PODS,
        SUBNETS,
        VIRTUAL_MACHINE_INSTANCES,
        VIRTUAL_MACHINES,
    )

    ns = scenario.NAMESPACE

    async def create(obj: dict[str, Any]) -> None:
        await api.create(BY_KIND[obj["kind"]], obj, namespace=obj["metadata"].get("namespace"))

    _step("Creating 2 NetworkAttachmentDefinitions and 3 subnets")
    for obj in scenario.NETWORK:
        await create(obj)

    async def ready_subnets() -> int:
        count = 0
        async for page in api.list_pages(SUBNETS):
            for item in page:
                conditions = (item.get("status") or {}).get("conditions") or []
                count += any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        return count

    await _eventually(ready_subnets, lambda n: n == 3, what="3 Ready subnets")

    _step("Creating pods and KubeVirt VMs (one pod names a NAD that does not exist)")
    for obj in scenario.WORKLOADS:
        await create(obj)

    async def pods() -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        async for page in api.list_pages(PODS, namespace=ns):
            for item in page:
                found[item["metadata"]["name"]] = dict(item["metadata"].get("annotations") or {})
        return found

    def allocated(annotations: dict[str, str]) -> bool:
        return annotations.get(f"attachnet.{ns}.ovn.kubernetes.io/allocated") == "true"

    workload_pods = [o["metadata"]["name"] for o in scenario.WORKLOADS if o["kind"] == "Pod"]
    expected = [n for n in workload_pods if not n.startswith("broken")]
    await _eventually(
        pods, lambda p: all(allocated(p.get(n, {})) for n in expected), what="pods allocated"
    )

    _step("Live-migrating vm1: the target pod runs beside the source with the same IP and MAC")
    await create(scenario.MIGRATION_TARGET)
    target = scenario.MIGRATION_TARGET["metadata"]["name"]
    found = await _eventually(pods, lambda p: allocated(p.get(target, {})), what="migration target")
    key = f"attachnet.{ns}.ovn.kubernetes.io/ip_address"
    source = "virt-launcher-vm1-x7k2p"
    same = found[target][key] == found[source][key]
    click.echo(
        f"    source {found[source][key]}, target {found[target][key]}: "
        f"{'same address' if same else 'DIFFERENT ADDRESSES'}"
    )
    await api.delete(PODS, name=source, namespace=ns)

    _step("Deleting vm2 (VM, VMI and its launcher pod): its address is released")
    await api.delete(VIRTUAL_MACHINES, name="vm2", namespace=ns)
    await api.delete(VIRTUAL_MACHINE_INSTANCES, name="vm2", namespace=ns)
    await api.delete(PODS, name="virt-launcher-vm2-q9d4m", namespace=ns)

    async def ip_names() -> set[str]:
        names: set[str] = set()
        async for page in api.list_pages(IPS):
            names.update(item["metadata"]["name"] for item in page)
        return names

    await _eventually(
        ip_names,
        lambda names: f"vm2.{ns}.attachnet.{ns}.ovn" not in names and f"vm2.{ns}" not in names,
        what="vm2's addresses released",
    )

    # Subnet status follows allocations within a moment (refreshes are coalesced).
    async def usage_settled() -> bool:
        held: collections.Counter[str] = collections.Counter()
        async for page in api.list_pages(IPS):
            for item in page:
                held[item["spec"]["subnet"]] += 1
        async for page in api.list_pages(SUBNETS):
            for item in page:
                status = item.get("status") or {}
                using = max(int(status.get("v4usingIPs", 0)), int(status.get("v6usingIPs", 0)))
                if using != held[item["metadata"]["name"]]:
                    return False
        return True

    await _eventually(usage_settled, bool, what="subnet status to follow the allocations")


def _table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    click.echo("    " + line.format(*headers))
    for row in rows:
        click.echo("    " + line.format(*row))


async def _report(api: Any, sim: Any, ns: str) -> None:
    from ovnctl.k8s.resources import EVENTS, IPS, SUBNETS

    _step("Addresses (IP objects: one per NIC; VM NICs are named after the VM)")
    rows: list[list[str]] = []
    async for page in api.list_pages(IPS):
        for item in sorted(page, key=lambda i: i["metadata"]["name"]):
            spec = item["spec"]
            rows.append(
                [
                    item["metadata"]["name"],
                    "VM" if spec.get("podType") == "VirtualMachine" else "pod",
                    spec.get("subnet", ""),
                    spec.get("ipAddress", ""),
                    spec.get("macAddress", ""),
                    spec.get("nodeName", ""),
                ]
            )
    _table(["NIC", "OWNER", "SUBNET", "IP", "MAC", "NODE"], rows)

    _step("Subnets")
    rows = []
    async for page in api.list_pages(SUBNETS):
        for item in page:
            status = item.get("status") or {}
            ready = next(
                (c["status"] for c in status.get("conditions", []) if c["type"] == "Ready"), "?"
            )
            rows.append(
                [
                    item["metadata"]["name"],
                    item["spec"].get("provider", "ovn"),
                    item["spec"]["cidrBlock"],
                    f"{status.get('v4usingIPs', 0)}/{status.get('v4availableIPs', 0)}",
                    f"{status.get('v6usingIPs', 0)}/{status.get('v6availableIPs', 0)}",
                    ready,
                ]
            )
    _table(["SUBNET", "PROVIDER", "CIDR", "V4 USED/AVAIL", "V6 USED/AVAIL", "READY"], rows)

    _step("Warning Events (bad input is reported on the object, never a crash)")
    async for page in api.list_pages(EVENTS, namespace=ns):
        for event in page:
            if event.get("type") == "Warning":
                click.echo(
                    f"    {event['involvedObject']['name']}: {event['reason']}: {event['message']}"
                )

    _step("API requests made by the controller (watches and writes; the demo's own excluded)")
    counts: collections.Counter[tuple[str, str]] = collections.Counter()
    for entry in sim.request_log.entries:
        if entry.resource and entry.user_agent != DEMO_AGENT:
            counts[(entry.verb, entry.resource)] += 1
    _table(
        ["VERB", "RESOURCE", "COUNT"],
        [[verb, resource, str(n)] for (verb, resource), n in sorted(counts.items())],
    )
    nad_gets = counts[("get", "network-attachment-definitions")]
    click.echo(f"    GETs of NetworkAttachmentDefinitions: {nad_gets} (resolved from the cache)")
