"""How ``ovnctl ipam check`` shows a report: a table for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ovnctl.audit import AuditReport, SubnetUtilisation

__all__ = ["render_json", "render_table"]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*headers).rstrip()] + [fmt.format(*r).rstrip() for r in rows]


def _share(used: int, capacity: int | None) -> str:
    if capacity is None:
        return f"{used}/?"
    percent = 100.0 * used / capacity if capacity else 0.0
    return f"{used}/{capacity} ({percent:.0f}%)"


def _utilisation_row(u: SubnetUtilisation) -> list[str]:
    return [
        u.subnet,
        str(u.ip_objects),
        _share(u.v4_used, u.v4_capacity) if u.v4_capacity or u.v4_used else "-",
        _share(u.v6_used, u.v6_capacity) if u.v6_capacity or u.v6_used else "-",
    ]


def render_table(report: AuditReport) -> str:
    """Findings (or a clean line) and the utilisation of every subnet."""
    read = report.counts
    lines = [
        f"Read {read['subnets']} subnets, {read['ips']} IP objects, {read['pods']} pods, "
        f"{read['vms']} VMs, {read['vmis']} VMIs"
        + (f", {read['ports']} NB ports" if read.get("ports") else "")
        + "."
    ]
    if report.findings:
        lines.append(f"{len(report.findings)} problem(s):")
        rows = [
            [f.kind.value, f.subnet or "-", f.address or "-", f.subject] for f in report.findings
        ]
        lines.extend(_table(["KIND", "SUBNET", "ADDRESS", "SUBJECT"], rows))
        lines.append("")
        lines.extend(f"{f.kind.value} {f.subject}: {f.detail}" for f in report.findings)
    else:
        lines.append("No problems found.")
    if report.utilisation:
        lines.append("")
        rows = [_utilisation_row(u) for u in report.utilisation]
        lines.extend(_table(["SUBNET", "IP OBJECTS", "V4 USED/CAPACITY", "V6 USED/CAPACITY"], rows))
    return "\n".join(lines)


def render_json(report: AuditReport) -> str:
    return json.dumps(report.to_json(), indent=2, sort_keys=True)
