"""Every crash the fuzzers found, kept as a plain test (docs/fuzzing.md lists them)."""

from __future__ import annotations

from typing import Any

import pytest

from ovnctl.audit.records import PodRecord, pod_record
from ovnctl.models import OwnerKind, pod_owner


@pytest.mark.parametrize(
    "metadata",
    [
        {"name": "p", "namespace": "default", "labels": True},  # found by test_pods_and_the_audit
        {"name": "p", "namespace": "default", "labels": ["vm.kubevirt.io/name"]},
        {"name": "p", "namespace": "default", "ownerReferences": {"kind": "x"}},
        {
            "name": "p",
            "namespace": "default",
            "annotations": 7,
            "labels": {"vm.kubevirt.io/name": "v"},
        },
    ],
)
def test_pod_owner_reads_wrongly_typed_metadata_as_absent(metadata: dict[str, Any]) -> None:
    """A labels/ownerReferences/annotations field of the wrong JSON type is no crash."""
    owner = pod_owner(pod={"metadata": metadata})
    assert owner.namespace == "default"
    assert owner.kind in (OwnerKind.POD, OwnerKind.VIRTUAL_MACHINE)


def test_audit_pod_record_with_unhashable_phase() -> None:
    """status.phase of a list (found by test_pods_and_the_audit) reads as a live pod."""
    record = pod_record(
        {"metadata": {"name": "p", "namespace": "default"}, "status": {"phase": []}}
    )
    assert isinstance(record, PodRecord)
    assert record.live
