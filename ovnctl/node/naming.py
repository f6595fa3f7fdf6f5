"""Deterministic Linux interface names for bridges and veth ends.

Linux interface names are at most 15 bytes (IFNAMSIZ - 1). Names must be
derivable from what every request carries, so that a DEL after a lost state
file, or an ADD retried after a crash, finds the same devices again: the
bridge from the subnet name, the veth ends from the container id and the
interface name in the pod.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["IFNAME_MAX", "bridge_name", "host_veth_name"]

IFNAME_MAX = 15

_SAFE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def bridge_name(subnet: str) -> str:
    """``ob-<subnet>`` when it fits, else ``oh-<first 4>-<hash>`` (always <= 15 chars).

    The two prefixes differ so a readable name can never equal a hashed one.
    """
    if len(subnet) <= IFNAME_MAX - 3 and _SAFE.match(subnet):
        return f"ob-{subnet}"
    head = re.sub(r"[^a-z0-9]", "", subnet.lower())[:4]
    return f"oh-{head}-{_digest(subnet, IFNAME_MAX - 4 - len(head))}"


def host_veth_name(*, container_id: str, ifname: str) -> str:
    """The host end of the pod's veth: ``ov`` + 11 hex digits of (container, ifname)."""
    return f"ov{_digest(f'{container_id}/{ifname}', 11)}"
