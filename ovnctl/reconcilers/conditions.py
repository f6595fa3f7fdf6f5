"""Status conditions written the Kubernetes way, and only when they change.

``lastTransitionTime`` moves only when a condition's status flips,
``lastUpdateTime`` when its reason or message changes; otherwise the previous
condition is kept verbatim, so an unchanged verdict produces an identical
status and the reconciler skips the write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ovnctl.caches import SubnetCache
from ovnctl.ipam import IPAM
from ovnctl.models import now_rfc3339

# now_rfc3339 is re-exported: the condition writers stamp with the one clock in models.
__all__ = ["Verdict", "merge_conditions", "now_rfc3339", "subnet_unusable"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What a reconcile concluded about one condition type."""

    type: str
    status: bool
    reason: str
    message: str = ""


def subnet_unusable(
    name: str, *, subnets: SubnetCache, serves: Callable[[str], bool], ipam: IPAM
) -> Verdict | None:
    """Why the subnet a ``spec.subnet`` names (an IPPool's, a Vip's) cannot be used, if so.

    ``Ready: False`` with ``SubnetNotFound`` or ``SubnetNotReady``; None when it
    exists, serves and is registered in the IPAM.
    """
    if subnets.get(name) is None:
        return Verdict(
            type="Ready",
            status=False,
            reason="SubnetNotFound",
            message=f"spec.subnet: {name!r} does not exist",
        )
    if not serves(name) or name not in ipam:
        return Verdict(
            type="Ready",
            status=False,
            reason="SubnetNotReady",
            message=f"spec.subnet: {name!r} is not Ready (see its conditions)",
        )
    return None


def merge_conditions(
    previous: Iterable[Mapping[str, Any]] | None,
    verdicts: Sequence[Verdict],
    *,
    generation: int,
    now: str,
) -> list[dict[str, Any]]:
    """The new ``conditions`` list: one entry per verdict, in verdict order."""
    old = {c.get("type"): c for c in previous or () if isinstance(c, Mapping)}
    result: list[dict[str, Any]] = []
    for verdict in verdicts:
        status = "True" if verdict.status else "False"
        before = old.get(verdict.type)
        same_status = before is not None and before.get("status") == status
        same_text = (
            same_status
            and before is not None
            and before.get("reason") == verdict.reason
            and before.get("message", "") == verdict.message
        )
        if same_text and before is not None and before.get("observedGeneration") == generation:
            result.append(dict(before))
            continue
        result.append(
            {
                "type": verdict.type,
                "status": status,
                "reason": verdict.reason,
                "message": verdict.message,
                "lastUpdateTime": (
                    before.get("lastUpdateTime", now) if same_text and before else now
                ),
                "lastTransitionTime": (
                    before.get("lastTransitionTime", now) if same_status and before else now
                ),
                "observedGeneration": generation,
            }
        )
    return result
