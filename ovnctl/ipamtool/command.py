"""``ovnctl ipam check`` and ``ovnctl ipam release``: the click commands.

Exit codes, for scripts (also in ``docs/ipam-check.md``):

- ``0``: clean (``check``), or every named IP object released (``release``);
- ``1``: problems found (``check``), or something refused (``release``);
- ``2``: the check could not be made: the API server or NB unreachable, a LIST
  refused, bad flags, or ``release`` without confirmation.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

from ovnctl.audit import AuditReport, Scope, audit
from ovnctl.ipamtool.collect import CheckFailed, read_northbound, read_snapshot
from ovnctl.ipamtool.release import Candidate, find_candidate, release_candidate
from ovnctl.ipamtool.render import render_json, render_table
from ovnctl.k8s.api import ApiError, KubeApi
from ovnctl.k8s.connection import connect
from ovnctl.models import now_rfc3339

__all__ = ["ipam"]

logger = logging.getLogger("ovnctl.ipam")

EXIT_CLEAN, EXIT_PROBLEMS, EXIT_CANNOT_CHECK = 0, 1, 2

T = TypeVar("T")

_KUBECONFIG = click.option(
    "--kubeconfig",
    envvar="KUBECONFIG",
    default=None,
    help="Cluster to read, as kubectl finds it (else ~/.kube/config, else in-cluster).",
)


@click.group()
def ipam() -> None:
    """Audit and repair the addresses ovnctl (or Kube-OVN) allocated in a cluster."""


class _ProgressLine:
    """One stderr line, rewritten per page, shown only once a kind takes more than a page."""

    def __init__(self, *, enabled: bool, page_size: int) -> None:
        self._enabled = enabled
        self._page_size = page_size
        self._shown = False

    def __call__(self, kind: str, read: int) -> None:
        if not self._enabled or read < self._page_size:
            return
        self._shown = True
        sys.stderr.write(f"\rreading {kind}: {read:,}   ")
        sys.stderr.flush()

    def done(self) -> None:
        if self._shown:
            sys.stderr.write("\r" + " " * 40 + "\r")
            sys.stderr.flush()


def _run(kubeconfig: str | None, work: Callable[[KubeApi], Coroutine[Any, Any, T]]) -> T:
    """Connect, run ``work``; a cluster that cannot be reached exits 2."""
    try:
        api = connect(kubeconfig=kubeconfig, max_concurrency=4, user_agent="ovnctl-ipam")
    except Exception as exc:  # no kubeconfig, malformed file, no in-cluster account
        raise _cannot_check(f"cannot load the cluster configuration: {exc}") from exc
    try:
        return asyncio.run(work(api))
    finally:
        api.close()


def _log(level: int, message: str) -> None:
    """What ``release`` did, on stderr with a UTC timestamp (and to logging's handlers)."""
    stamp = now_rfc3339()
    click.echo(f"{stamp} {logging.getLevelName(level)} {message}", err=True)
    logger.log(level, message)


def _cannot_check(message: str) -> click.exceptions.Exit:
    click.echo(f"ovnctl ipam: could not check: {message}", err=True)
    return click.exceptions.Exit(EXIT_CANNOT_CHECK)


@ipam.command()
@_KUBECONFIG
@click.option(
    "--ovn-nb",
    default=None,
    help="Also compare the NB's ports with the IP objects (e.g. tcp:10.0.0.5:6641).",
)
@click.option(
    "--output", "-o", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option("--page-size", type=click.IntRange(1, 10_000), default=500, show_default=True)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="A progress line on stderr while listing big kinds (default: when stderr is a terminal).",
)
def check(
    kubeconfig: str | None,
    ovn_nb: str | None,
    output: str,
    page_size: int,
    progress: bool | None,
) -> None:
    """Report duplicate addresses, leaks, missing IP objects, NB drift and subnet counts.

    Read-only. Exit 0: clean; 1: problems found; 2: could not check.
    """
    line = _ProgressLine(
        enabled=sys.stderr.isatty() if progress is None else progress, page_size=page_size
    )

    async def work(api: KubeApi) -> AuditReport:
        snapshot = await read_snapshot(api, progress=line, page_size=page_size)
        if ovn_nb:
            snapshot.add_ports(await read_northbound(ovn_nb))
        return audit(snapshot, scope=Scope.FULL)

    try:
        report = _run(kubeconfig, work)
    except CheckFailed as exc:
        raise _cannot_check(str(exc)) from exc
    finally:
        line.done()
    click.echo(render_json(report) if output == "json" else render_table(report))
    raise click.exceptions.Exit(EXIT_CLEAN if report.clean else EXIT_PROBLEMS)


@ipam.command()
@_KUBECONFIG
@click.argument("names", nargs=-1, required=True)
@click.option("--yes", is_flag=True, help="Release without the typed confirmation.")
def release(kubeconfig: str | None, names: tuple[str, ...], yes: bool) -> None:
    """Delete leaked IP objects NAMES, each only if its owner is gone.

    The owner (pod, or VM with its VMI and launcher pods) is looked up again
    now; an IP object whose owner exists is refused. Asks to type
    ``release N`` unless --yes. Exit 0: all released; 1: some refused; 2: could
    not check or not confirmed.
    """

    async def inspect(api: KubeApi) -> list[Candidate]:
        return [await find_candidate(api, name) for name in dict.fromkeys(names)]

    try:
        candidates = _run(kubeconfig, inspect)
    except ApiError as exc:
        raise _cannot_check(str(exc)) from exc
    safe = [c for c in candidates if c.refusal is None]
    for candidate in candidates:
        if candidate.refusal is not None:
            _log(logging.WARNING, f"refused {candidate.describe()}: {candidate.refusal}")
    if not safe:
        raise click.exceptions.Exit(EXIT_PROBLEMS)
    click.echo("Owner gone, safe to release:", err=True)
    for candidate in safe:
        click.echo(f"  {candidate.describe()}", err=True)
    if not yes:
        if not sys.stdin.isatty():
            raise _cannot_check("not confirmed: pass --yes when stdin is not a terminal")
        expected = f"release {len(safe)}"
        typed = click.prompt(f"Type '{expected}' to delete these IP objects", default="")
        if typed.strip() != expected:
            raise _cannot_check("not confirmed; nothing was changed")

    async def apply(api: KubeApi) -> int:
        released = 0
        for candidate in safe:
            # Checked again right before the DELETE: an owner may have come back meanwhile.
            fresh = await find_candidate(api, candidate.name)
            if fresh.refusal is not None or fresh.uid != candidate.uid:
                why = fresh.refusal or "it changed since it was shown"
                _log(logging.WARNING, f"refused {candidate.describe()}: {why}")
                continue
            if await release_candidate(api, fresh):
                _log(logging.INFO, f"released {fresh.describe()}: its owner is gone")
                released += 1
            else:
                _log(logging.INFO, f"{fresh.describe()} was already gone")
        return released

    try:
        released = _run(kubeconfig, apply)
    except ApiError as exc:
        raise _cannot_check(str(exc)) from exc
    raise click.exceptions.Exit(EXIT_CLEAN if released == len(candidates) else EXIT_PROBLEMS)
