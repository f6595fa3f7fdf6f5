"""StatefulSet pods: who controls them and their ordinal, for sticky addresses."""

from __future__ import annotations

from typing import Any

from ovnctl.caches import index_statefulset
from ovnctl.models import STATEFULSET_POD_TYPE, pod_owner, statefulset_ordinal


def _pod(*refs: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "db-2", "namespace": "default", "ownerReferences": list(refs)}}


def test_controller_reference_makes_a_statefulset_pod() -> None:
    """A controlling apps/v1 StatefulSet reference: podType StatefulSet, owner is the pod."""
    owner = pod_owner(
        pod=_pod({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "controller": True})
    )
    assert (owner.name, owner.statefulset, owner.pod_type) == ("db-2", "db", STATEFULSET_POD_TYPE)


def test_non_controller_or_other_group_is_an_ordinary_pod() -> None:
    """A reference that does not control the pod, or of another group, changes nothing."""
    for ref in (
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db"},
        {"apiVersion": "example.com/v1", "kind": "StatefulSet", "name": "db", "controller": True},
    ):
        assert pod_owner(pod=_pod(ref)).pod_type == ""


def test_ordinals() -> None:
    """Only ``<sts>-<digits>`` has an ordinal."""
    assert statefulset_ordinal("db-12", "db") == 12
    assert statefulset_ordinal("db-x", "db") is None
    assert statefulset_ordinal("other-1", "db") is None


def test_statefulset_index_keeps_uid_and_replicas_only() -> None:
    """The cache record is uid and replicas (1 when unset)."""
    body = {"metadata": {"name": "db", "namespace": "ns", "uid": "u1"}, "spec": {}}
    record = index_statefulset(body)[("ns", "db")]
    assert (record.uid, record.replicas) == ("u1", 1)
    assert not hasattr(record, "__dict__")
