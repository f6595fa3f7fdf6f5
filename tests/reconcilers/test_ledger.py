"""NicLedger alone: NICs by owner, what was written for each, and releases in flight."""

from __future__ import annotations

from ovnctl.models import STATEFULSET_POD_TYPE, VM_POD_TYPE, IpRecord
from ovnctl.reconcilers.ledger import CLAIM_POD_TYPE, IpObjectState, NicLedger, claim_ledger_owner


def state(subnet: str = "s1") -> IpObjectState:
    return IpObjectState(
        subnet=subnet,
        ips=("10.16.0.2",),
        mac="02:00:00:00:00:02",
        node_name="n1",
        pod_name="p1",
        namespace="default",
        pod_type="",
    )


def test_nics_are_found_by_pod_or_vm() -> None:
    """A pod's NICs are listed under the pod, a VM's under the VM, never both."""
    ledger = NicLedger()
    ledger.record("p1.default", owner=("default", "p1"), is_vm=False)
    ledger.record("p1.default.a", owner=("default", "p1"), is_vm=False)
    ledger.record("vm1.default", owner=("default", "vm1"), is_vm=True)
    assert ledger.nics_of_pod(("default", "p1")) == {"p1.default", "p1.default.a"}
    assert ledger.nics_of_vm(("default", "vm1")) == {"vm1.default"}
    assert ledger.nics_of_pod(("default", "vm1")) == frozenset()
    assert ledger.owner_of("vm1.default") == (True, ("default", "vm1"))
    assert sorted(ledger.pods()) == [("default", "p1")]
    assert ledger.vms() == [("default", "vm1")]
    assert len(ledger) == 3


def test_recording_again_moves_the_nic() -> None:
    """A NIC recorded under a new owner leaves the old one (an owner with none left goes)."""
    ledger = NicLedger()
    ledger.record("n", owner=("default", "p1"), is_vm=False)
    ledger.record("n", owner=("default", "vm1"), is_vm=True)
    assert ledger.pods() == []
    assert ledger.nics_of_vm(("default", "vm1")) == {"n"}


def test_forget_drops_everything_about_the_nic() -> None:
    """A released NIC loses its owner, written state, port and lent IPAM owner."""
    ledger = NicLedger()
    ledger.record("n", owner=("default", "p1"), is_vm=False)
    ledger.set_written("n", state())
    ledger.set_ipam_owner("n", "vip:v1")
    ledger.forget("n")
    assert ledger.owner_of("n") is None
    assert ledger.written("n") is None
    assert ledger.port("n") is None
    assert ledger.ipam_owner("n") == "n"
    assert len(ledger) == 0


def test_ipam_owner_defaults_to_the_nic() -> None:
    """A NIC holds its own address unless a Vip lends one; lending can be undone."""
    ledger = NicLedger()
    assert ledger.ipam_owner("n") == "n"
    ledger.set_ipam_owner("n", "vip:v1")
    assert ledger.ipam_owner("n") == "vip:v1"
    ledger.set_ipam_owner("n", "")
    assert ledger.ipam_owner("n") == "n"


def test_release_marks() -> None:
    """A NIC is releasing between begin_release and end_release only."""
    ledger = NicLedger()
    assert not ledger.releasing("n")
    ledger.begin_release("n")
    assert ledger.releasing("n")
    ledger.end_release("n")
    assert not ledger.releasing("n")


def test_rebuild_from_ip_objects() -> None:
    """IP objects found at start-up are recorded under their pod, VM or IPAMClaim, as written."""
    ledger = NicLedger()
    ledger.rebuild(
        [
            IpRecord(name="p1.default", subnet="s1", ips=("10.16.0.2",), mac="m1",
                     pod_name="p1", namespace="default", node_name="n1"),
            IpRecord(name="vm1.default", subnet="s1", ips=("10.16.0.3",),
                     pod_name="vm1", namespace="default", pod_type=VM_POD_TYPE),
            IpRecord(name="c1.default.a", subnet="s1", ips=("10.16.0.4",),
                     pod_name="c1", namespace="default", pod_type=CLAIM_POD_TYPE),
            IpRecord(name="web-0.default", subnet="s1", ips=("10.16.0.5",),
                     pod_name="web-0", namespace="default", pod_type=STATEFULSET_POD_TYPE),
        ]
    )  # fmt: skip
    assert ledger.nics_of_pod(("default", "p1")) == {"p1.default"}
    assert ledger.nics_of_vm(("default", "vm1")) == {"vm1.default"}
    assert ledger.nics_of_pod(("default", claim_ledger_owner("c1"))) == {"c1.default.a"}
    assert ledger.nics_of_pod(("default", "web-0")) == {"web-0.default"}
    written = ledger.written("p1.default")
    assert written == IpObjectState(
        subnet="s1", ips=("10.16.0.2",), mac="m1", node_name="n1",
        pod_name="p1", namespace="default", pod_type="",
    )  # fmt: skip
    vm = ledger.written("vm1.default")
    assert vm is not None
    assert vm.mac == ""  # no MAC recorded: compared as empty
