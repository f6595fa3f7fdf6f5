"""The ovnctl command line: commands load lazily and missing extras are a clear error."""

from __future__ import annotations

import builtins
from typing import Any

from click.testing import CliRunner

from ovnctl.cli import main


def test_help_lists_every_command() -> None:
    """`ovnctl --help` lists the commands without importing them."""
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("bench", "cni", "daemon", "demo", "run", "sim"):
        assert f"  {command} " in result.output


def test_missing_extra_is_a_clear_error(monkeypatch) -> None:
    """A command whose optional dependency is absent names it and the extra to install."""
    real_import = builtins.__import__

    def without_kmock(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "kmock" or name.startswith("kmock."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_kmock)
    for module in [m for m in __import__("sys").modules if m.startswith(("ovnctl.sim", "kmock"))]:
        monkeypatch.delitem(__import__("sys").modules, module)
    result = CliRunner().invoke(main, ["sim", "--help"])
    assert result.exit_code == 1
    assert "'ovnctl sim' needs 'kmock'" in result.output
    assert "pip install 'ovnctl[sim,bench]'" in result.output
    assert "Traceback" not in result.output
