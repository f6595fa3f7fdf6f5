"""The shared OVN stack fixture: OVS, NB, SB, northd and ovn-controller in a temp folder.

Any test module may ask for ``ovn_stack`` (registered in ``tests/conftest.py``):
one :class:`~ovnctl.ovn.stack.OvnStack` per module, on unix sockets in a short
temp folder (unix socket paths are limited to 107 bytes, pytest's ``tmp_path``
can be longer), never the system services. It is skipped with the reason only
where the machine cannot run it: not root, a binary or schema missing, or no
network namespaces. ``namespaces`` makes network namespaces that are removed
at teardown even when the test fails.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ovnctl.ovn.stack import OvnStack, missing_stack
from tests.node import netns as nstools

__all__ = ["Namespaces", "namespaces", "ovn_stack", "require_stack"]


def require_stack() -> None:
    """Skip, with the reason, unless this machine can run a whole OVN stack."""
    reason = missing_stack()
    if reason:
        pytest.skip(f"needs a local OVS + OVN stack: {reason}")
    nstools.require_netns()


@pytest.fixture(scope="module")
def ovn_stack() -> Iterator[OvnStack]:
    """A running stack shared by one test module (tests use unique switch and pod names)."""
    require_stack()
    folder = Path(tempfile.mkdtemp(prefix="ovs-"))
    try:
        with OvnStack(folder) as stack:
            yield stack
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Namespaces:
    """Network namespaces made for one test; all deleted by :meth:`cleanup`."""

    def __init__(self) -> None:
        self.made: list[str] = []

    def make(self, prefix: str = "ovt-") -> str:
        name = nstools.unique(prefix)
        nstools.ip("netns", "add", name)
        self.made.append(name)
        return name

    def cleanup(self) -> None:
        for name in self.made:
            nstools.ip("netns", "del", name, check=False)
        self.made.clear()


@pytest.fixture
def namespaces() -> Iterator[Namespaces]:
    pool = Namespaces()
    try:
        yield pool
    finally:
        pool.cleanup()
