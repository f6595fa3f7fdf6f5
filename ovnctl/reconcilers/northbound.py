"""What the OVN northbound should hold, from what the controller knows.

Convergence compares the NB with this desired state. Switches: the ones last
ensured for subnets still in the IPAM (a subnet that stops being Ready keeps
its switch, because its pods still run). Ports: one per recorded NIC on such
a subnet, described from the IPAM allocation and the NIC's owner.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from ovnctl.caches import SubnetCache
from ovnctl.ipam import IPAM
from ovnctl.models import PRIMARY_PROVIDER
from ovnctl.ovn import OwnerKind, PortSpec, SwitchSpec
from ovnctl.reconcilers.ledger import NicLedger

__all__ = ["desired_northbound", "desired_subset"]


def desired_northbound(
    *,
    switches: Mapping[str, SwitchSpec],
    ipam: IPAM,
    ledger: NicLedger,
    subnets: SubnetCache,
) -> tuple[list[SwitchSpec], list[PortSpec]]:
    """The switches and ports that should exist; each port is also noted in the ledger."""
    wanted = {name: spec for name, spec in switches.items() if name in ipam}
    ports: list[PortSpec] = []
    for nic in ledger.nics():
        ports += _ports_of(nic, wanted=wanted, ipam=ipam, ledger=ledger, subnets=subnets)
    return list(wanted.values()), ports


def desired_subset(
    switch_names: Iterable[str],
    port_names: Iterable[str],
    *,
    switches: Mapping[str, SwitchSpec],
    ipam: IPAM,
    ledger: NicLedger,
    subnets: SubnetCache,
) -> tuple[list[SwitchSpec], list[PortSpec]]:
    """:func:`desired_northbound` restricted to these names (the ones drift touched).

    A name that is not desired (a released NIC, a deleted subnet) is simply
    absent from the result: repairing never brings back what should be gone.
    """
    wanted = {name: spec for name, spec in switches.items() if name in ipam}
    chosen = [wanted[name] for name in sorted(set(switch_names)) if name in wanted]
    ports: list[PortSpec] = []
    for nic in sorted(set(port_names)):
        ports += _ports_of(nic, wanted=wanted, ipam=ipam, ledger=ledger, subnets=subnets)
    return chosen, ports


def _ports_of(
    nic: str,
    *,
    wanted: Mapping[str, SwitchSpec],
    ipam: IPAM,
    ledger: NicLedger,
    subnets: SubnetCache,
) -> list[PortSpec]:
    link = ledger.owner_of(nic)
    if link is None:
        return []
    is_vm, (namespace, owner) = link
    ports: list[PortSpec] = []
    for held in ipam.lookup(ledger.ipam_owner(nic)):
        if held.subnet not in wanted:
            continue
        allocation = dataclasses.replace(held, owner=nic)  # a Vip's address: the NIC's port
        record = subnets.get(allocation.subnet)
        port = PortSpec.from_allocation(
            allocation,
            owner_kind=OwnerKind.VM if is_vm else OwnerKind.POD,
            owner_namespace=namespace,
            owner_name=owner,
            provider=record.provider if record is not None else PRIMARY_PROVIDER,
        )
        ports.append(port)
        ledger.set_port(nic, port)
    return ports
