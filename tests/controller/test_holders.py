"""The IPAM holder string of a virt-launcher pod: made by the pod reconciler, read by the VM's."""

from __future__ import annotations

from ovnctl.reconcilers.ledger import holder_pod, pod_holder


def test_holder_round_trips() -> None:
    """What the pod reconciler records, the VM reconciler reads back as the same pod."""
    holder = pod_holder("tenant-a", "virt-launcher-vm1-abcde")
    assert holder == "tenant-a/virt-launcher-vm1-abcde"  # as stored in Allocation.holders
    assert holder_pod(holder) == ("tenant-a", "virt-launcher-vm1-abcde")
