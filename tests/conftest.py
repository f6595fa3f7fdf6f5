"""What every test topic shares: where the CRDs the embedded API server loads are."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def crd_manifests() -> list[Path]:
    """ovnctl's CRDs and the third-party test CRDs (NAD, KubeVirt); not kustomization files."""
    return [
        path
        for folder in (REPO / "crds", REPO / "crds" / "test")
        for path in sorted(folder.glob("*.yaml"))
        if path.name != "kustomization.yaml"
    ]


# The whole OVN stack (OVS, NB, SB, northd, ovn-controller) for any topic that needs packets.
from tests.ovs_stack import namespaces, ovn_stack  # noqa: E402, F401
