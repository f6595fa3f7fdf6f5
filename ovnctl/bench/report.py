"""Results of ``ovnctl bench``: one :class:`ScenarioResult` per scenario, and three views.

* :func:`table`: what a human reads on stdout (numbers, then each target
  with ``met`` or ``MISSED``);
* :func:`to_json`: everything measured, including the time series, for
  tools and for docs/bench.md;
* :func:`plot`: a PNG (matplotlib, Agg backend) with one panel per scenario.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["Check", "ScenarioResult", "Series", "machine", "plot", "table", "to_json"]


@dataclasses.dataclass(frozen=True, slots=True)
class Check:
    """One acceptance target and what was measured against it."""

    name: str
    target: str
    measured: str
    met: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Series:
    """A line (``kind="line"``) or a set of bars (``kind="bar"``) for the plot."""

    label: str
    x: list[float | str]
    y: list[float]
    kind: str = "line"


@dataclasses.dataclass(slots=True)
class ScenarioResult:
    """What one scenario measured."""

    scenario: str
    title: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    """Numbers by name (JSON); nested dicts per mode where a scenario compares modes."""
    rows: list[tuple[str, str]]
    """The table's lines: label, value."""
    checks: list[Check]
    series: list[Series] = dataclasses.field(default_factory=list)
    x_label: str = ""
    y_label: str = ""
    notes: list[str] = dataclasses.field(default_factory=list)


def machine() -> dict[str, Any]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cores": cores,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def table(results: Sequence[ScenarioResult], *, header: str = "") -> str:
    lines = [header] if header else []
    for result in results:
        lines.append("")
        lines.append(f"== {result.scenario}: {result.title}")
        params = ", ".join(f"{k}={v}" for k, v in result.params.items())
        if params:
            lines.append(f"   ({params})")
        width = max((len(label) for label, _ in result.rows), default=0)
        for label, value in result.rows:
            lines.append(f"   {label:<{width}}  {value}")
        for check in result.checks:
            verdict = "met" if check.met else "MISSED"
            lines.append(
                f"   target: {check.name}: {check.target}; measured {check.measured}: {verdict}"
            )
        for note in result.notes:
            lines.append(f"   note: {note}")
    return "\n".join(lines)


def to_json(results: Sequence[ScenarioResult], *, run: dict[str, Any]) -> dict[str, Any]:
    return {
        "run": run,
        "machine": machine(),
        "scenarios": {r.scenario: dataclasses.asdict(r) for r in results},
        "all_met": all(c.met for r in results for c in r.checks),
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")


def plot(results: Sequence[ScenarioResult], path: Path, *, title: str = "") -> None:
    """One panel per scenario; lines for time series, bars for single numbers."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    count = max(1, len(results))
    columns = 2 if count > 1 else 1
    rows = (count + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(6.5 * columns, 4.2 * rows), squeeze=False)
    for index, result in enumerate(results):
        ax = axes[index // columns][index % columns]
        bars = [s for s in result.series if s.kind == "bar"]
        for series in result.series:
            if series.kind == "line":
                ax.plot(series.x, series.y, label=series.label, linewidth=1.2)
        if bars:
            labels = [str(x) for s in bars for x in s.x]
            values = [y for s in bars for y in s.y]
            drawn = ax.bar(labels, values, color=[f"C{i}" for i in range(len(values))])
            ax.bar_label(drawn, fmt="%.3g")
        ax.set_title(f"{result.scenario}: {result.title}", fontsize=10)
        ax.set_xlabel(result.x_label)
        ax.set_ylabel(result.y_label)
        ax.grid(True, alpha=0.3)
        if any(s.kind == "line" for s in result.series):
            ax.legend(fontsize=8)
    for index in range(len(results), rows * columns):
        axes[index // columns][index % columns].axis("off")
    if title:
        figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
