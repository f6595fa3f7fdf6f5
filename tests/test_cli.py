"""The ovnctl command line: commands load lazily and missing extras are a clear error."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest
from click.testing import CliRunner

from ovnctl.cli import main


def test_help_lists_every_command() -> None:
    """`ovnctl --help` lists the commands without importing them."""
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("bench", "cni", "daemon", "demo", "run", "sim"):
        assert f"  {command} " in result.output


@pytest.mark.parametrize(
    ("command", "absent", "extras"),
    [
        ("sim", "kmock", "sim"),
        ("demo", "kmock", "sim"),  # demo imports kmock only once it runs
        ("bench", "matplotlib", "sim,bench"),  # bench would plot only after every scenario
    ],
)
def test_missing_extra_is_a_clear_error_before_anything_runs(
    monkeypatch, command: str, absent: str, extras: str
) -> None:
    """A command whose optional dependency is absent names it and the extra, up front."""
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name == absent else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 1
    assert f"'ovnctl {command}' needs '{absent}'" in result.output
    assert f"pip install 'ovnctl[{extras}]'" in result.output
    assert "Traceback" not in result.output
