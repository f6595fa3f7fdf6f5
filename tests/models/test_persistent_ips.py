"""IPAMClaim inputs: the NAD's allowPersistentIPs and the networks element's claim reference."""

from __future__ import annotations

import json

from ovnctl.models import parse_nad, parse_networks


def _nad(config: dict[str, object]) -> dict[str, object]:
    return {
        "metadata": {"name": "n", "namespace": "default"},
        "spec": {"config": json.dumps(config)},
    }


def test_allow_persistent_ips_at_top_level_or_in_the_plugin() -> None:
    """The flag is read where OVN-Kubernetes users write it, and off by default."""
    top = parse_nad(body=_nad({"name": "net", "type": "kube-ovn", "allowPersistentIPs": True}))
    nested = parse_nad(
        body=_nad({"name": "net", "plugins": [{"type": "kube-ovn", "allowPersistentIPs": True}]})
    )
    plain = parse_nad(body=_nad({"name": "net", "type": "kube-ovn"}))
    assert (top.allow_persistent_ips, nested.allow_persistent_ips) == (True, True)
    assert plain.allow_persistent_ips is False
    assert top.cni_name == "net"


def test_claim_reference_is_kept_per_element() -> None:
    """``ipam-claim-reference`` is read from a JSON element; blank means none."""
    raw = json.dumps(
        [{"name": "a", "ipam-claim-reference": "vm1.a"}, {"name": "b", "ipam-claim-reference": " "}]
    )
    first, second = parse_networks(annotation=raw, pod_namespace="default")
    assert first.ipam_claim == "vm1.a"
    assert second.ipam_claim is None
