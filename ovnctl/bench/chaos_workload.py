"""The chaos scenario's churn: pods, multi-homed pods, KubeVirt VMs and subnet changes.

A steady population is kept alive and turned over, one :meth:`Workload.tick`
at a time: pods whose addresses were seen allocated are deleted (one
lifecycle) and new ones created; each VM walks start → (stop → start |
migrate)* → delete (one lifecycle), its launcher pods created and deleted as
KubeVirt would; and now and then the attachment subnet's ``excludeIps`` is
changed and an unused subnet is created or deleted. Every choice comes from
the scenario's seeded RNG. Requests go through the benchmark driver (its own
User-Agent, retrying injected 500/429); a request that still fails is counted
and the tick goes on, as a user's client would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from ovnctl.bench.runner import Driver
from ovnctl.demo.objects import kube_ovn_nad, pod, subnet, virtual_machine

__all__ = ["ATTACH_PROVIDER", "Workload", "setup_objects"]

NAMESPACE = "default"
ATTACH_NAD = "attachnet"
ATTACH_PROVIDER = f"{ATTACH_NAD}.{NAMESPACE}.ovn"
PRIMARY_ALLOCATED = "ovn.kubernetes.io/allocated"
ATTACH_ALLOCATED = f"{ATTACH_PROVIDER}.kubernetes.io/allocated"
MIGRATION = "kubevirt.io/migrationJobName"
_TOGGLED_EXCLUDE = "172.17.250.0..172.17.250.255"


def setup_objects() -> list[dict[str, Any]]:
    """The subnets and NAD the churn runs on (primary, and one attachment network)."""
    return [
        subnet("ovn-default", "10.16.0.0/16", default=True),
        kube_ovn_nad(ATTACH_NAD),
        subnet("attach", "172.17.0.0/16", provider=ATTACH_PROVIDER),
    ]


@dataclass
class _Vm:
    name: str
    pods: list[str] = field(default_factory=list)
    generation: int = 0
    steps_left: int = 0


@dataclass
class Workload:
    """The churn, advanced by :meth:`tick`; counts what it completed."""

    driver: Driver
    rng: random.Random
    population: int
    """Pods (and VMs, a quarter as many) kept alive at once."""
    lifecycles: int = 0
    pod_lifecycles: int = 0
    vm_lifecycles: int = 0
    vm_migrations: int = 0
    subnet_changes: int = 0
    failed_requests: int = 0
    _pods: dict[str, bool] = field(default_factory=dict)
    """Live plain or multi-homed pods → whether they are multi-homed."""
    _vms: dict[str, _Vm] = field(default_factory=dict)
    _serial: int = 0
    _excluded: bool = False
    _extra_subnet: str | None = None

    def _next(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{self._serial:06d}"

    async def _try(self, method: str, obj: dict[str, Any], body: Any = None) -> bool:
        try:
            if method == "create":
                await self.driver.create(obj)
            elif method == "delete":
                await self.driver.delete(obj)
            else:
                await self.driver.merge_patch(obj, body)
        except RuntimeError as exc:
            if " 404 " not in str(exc):  # deleting what is already gone is fine
                self.failed_requests += 1
                return False
        return True

    async def _allocated(self) -> set[str]:
        """Names of the pods whose every requested network is allocated (one LIST)."""
        try:
            listed = await self.driver.list(f"/api/v1/namespaces/{NAMESPACE}/pods")
        except RuntimeError:
            self.failed_requests += 1
            return set()
        done: set[str] = set()
        for item in listed.get("items") or []:
            meta = item.get("metadata") or {}
            annotations = meta.get("annotations") or {}
            multi = "k8s.v1.cni.cncf.io/networks" in annotations
            if annotations.get(PRIMARY_ALLOCATED) == "true" and (
                not multi or annotations.get(ATTACH_ALLOCATED) == "true"
            ):
                done.add(str(meta.get("name")))
        return done

    async def tick(self) -> None:
        """One step of churn: retire allocated pods, refill, move VMs, maybe change subnets."""
        allocated = await self._allocated()
        await self._pod_churn(allocated)
        await self._vm_churn(allocated)
        if self.rng.random() < 0.1:
            await self._subnet_change()

    async def _pod_churn(self, allocated: set[str]) -> None:
        for name in [n for n in self._pods if n in allocated]:
            if self.rng.random() < 0.5 and await self._try("delete", pod(name)):
                del self._pods[name]
                self.pod_lifecycles += 1
                self.lifecycles += 1
        while len(self._pods) < self.population:
            multi = self.rng.random() < 0.4
            name = self._next("mh-" if multi else "p-")
            body = pod(name, networks=ATTACH_NAD if multi else None)
            if not await self._try("create", body):
                break
            self._pods[name] = multi

    async def _vm_churn(self, allocated: set[str]) -> None:
        for vm in list(self._vms.values()):
            if vm.pods and not all(p in allocated for p in vm.pods):
                continue  # let the controller catch up before the next move
            await self._vm_step(vm)
        while len(self._vms) < max(1, self.population // 4):
            vm = _Vm(self._next("vm-"), steps_left=self.rng.randint(1, 4))
            if not await self._try("create", virtual_machine(vm.name)):
                break
            self._vms[vm.name] = vm
            await self._start(vm)

    async def _launcher(self, vm: _Vm, *, node: str, migrating: bool) -> str | None:
        vm.generation += 1
        name = f"virt-launcher-{vm.name}-{vm.generation}"
        annotations = {MIGRATION: f"mig-{vm.name}-{vm.generation}"} if migrating else None
        body = pod(name, networks=ATTACH_NAD, vm=vm.name, node=node, annotations=annotations)
        if not await self._try("create", body):
            return None
        vm.pods.append(name)
        return name

    async def _start(self, vm: _Vm) -> None:
        await self._launcher(vm, node=f"node-{self.rng.randint(1, 3)}", migrating=False)

    async def _stop(self, vm: _Vm) -> None:
        for name in list(vm.pods):
            if await self._try("delete", pod(name)):
                vm.pods.remove(name)

    async def _vm_step(self, vm: _Vm) -> None:
        if vm.steps_left <= 0:
            await self._stop(vm)
            if not vm.pods and await self._try("delete", virtual_machine(vm.name)):
                del self._vms[vm.name]
                self.vm_lifecycles += 1
                self.lifecycles += 1
            return
        vm.steps_left -= 1
        if not vm.pods:
            await self._start(vm)
        elif self.rng.random() < 0.5 and len(vm.pods) == 1:
            source = vm.pods[0]
            target = await self._launcher(vm, node="node-9", migrating=True)
            if target is not None and await self._try("delete", pod(source)):
                vm.pods.remove(source)
                self.vm_migrations += 1
        else:
            await self._stop(vm)

    async def _subnet_change(self) -> None:
        attach = subnet("attach", "172.17.0.0/16", provider=ATTACH_PROVIDER)
        excludes = [] if self._excluded else [_TOGGLED_EXCLUDE]
        if await self._try("patch", attach, {"spec": {"excludeIps": excludes}}):
            self._excluded = not self._excluded
            self.subnet_changes += 1
        if self._extra_subnet is None:
            name = self._next("extra-")
            third = 100 + self._serial % 100
            if await self._try("create", subnet(name, f"10.{third}.0.0/24", namespaces=[name])):
                self._extra_subnet = name
                self.subnet_changes += 1
        elif await self._try("delete", subnet(self._extra_subnet, "10.0.0.0/24")):
            self._extra_subnet = None
            self.subnet_changes += 1
