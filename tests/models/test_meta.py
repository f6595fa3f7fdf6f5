"""Object metadata readers: wrong JSON types read as absent; Kubernetes' time formats."""

from __future__ import annotations

import re

import pytest

from ovnctl.models import (
    meta_annotations,
    meta_deleting,
    meta_finalizers,
    meta_generation,
    meta_key,
    meta_labels,
    meta_name,
    meta_owner_references,
    meta_uid,
    now_rfc3339,
    object_meta,
)

POD = {
    "metadata": {
        "namespace": "default",
        "name": "web-0",
        "uid": "u-1",
        "generation": 3,
        "deletionTimestamp": "2026-01-02T03:04:05Z",
        "finalizers": ["kubeovn.io/ovnctl"],
        "labels": {"app": "web"},
        "annotations": {"ovn.kubernetes.io/allocated": "true"},
        "ownerReferences": [{"kind": "StatefulSet", "name": "web"}],
    }
}


def test_a_well_formed_object_reads_as_written() -> None:
    """Every reader returns the field as the API server wrote it."""
    metadata = object_meta(POD)
    assert meta_key(metadata) == ("default", "web-0")
    assert meta_name(metadata) == "web-0"
    assert meta_uid(metadata) == "u-1"
    assert meta_generation(metadata) == 3
    assert meta_deleting(metadata)
    assert meta_finalizers(metadata) == ("kubeovn.io/ovnctl",)
    assert meta_labels(metadata) == {"app": "web"}
    assert meta_annotations(metadata) == {"ovn.kubernetes.io/allocated": "true"}
    assert meta_owner_references(metadata) == [{"kind": "StatefulSet", "name": "web"}]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"metadata": None},
        {"metadata": ["not", "an", "object"]},
        {
            "metadata": {
                "namespace": 7,
                "name": "",
                "uid": None,  # JSON null: not the uid "None" (a DELETE precondition uses it)
                "generation": "3",
                "finalizers": "x",
                "labels": [],
                "annotations": "a=b",
                "ownerReferences": {"kind": "Pod"},
            }
        },
    ],
)
def test_wrong_types_read_as_absent(body: dict[str, object]) -> None:
    """A hand-written or corrupt object never crashes a reader."""
    metadata = object_meta(body)
    assert meta_key(metadata) is None
    assert meta_name(metadata) is None
    assert meta_uid(metadata) == ""
    assert meta_generation(metadata) == 0
    assert not meta_deleting(metadata)
    assert meta_finalizers(metadata) == ()
    assert meta_labels(metadata) == {}
    assert meta_annotations(metadata) == {}
    assert meta_owner_references(metadata) == []


def test_now_in_kubernetes_time_formats() -> None:
    """``Time`` has whole seconds, ``MicroTime`` six fractional digits, both in UTC."""
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now_rfc3339())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", now_rfc3339(micro=True))
