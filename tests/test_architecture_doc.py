"""Every package under ovnctl/ is on the architecture page and guarded by an import contract."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = sorted(
    f"ovnctl.{p.name}" for p in (ROOT / "ovnctl").iterdir() if (p / "__init__.py").is_file()
)


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _guarded(package: str) -> list[str]:
    """Names of the contracts whose source modules or layers include ``package``."""
    names = []
    for contract in _contracts():
        modules: list[str] = []
        for key in ("source_modules", "layers"):
            value = contract.get(key, [])
            assert isinstance(value, list)
            modules.extend(str(m) for m in value)
        if any(m == package or m.startswith(package + ".") for m in modules):
            names.append(str(contract["name"]))
    return names


def test_packages_are_found() -> None:
    """The scan sees the packages (guards against an empty parametrisation)."""
    assert {"ovnctl.ipam", "ovnctl.k8s", "ovnctl.node", "ovnctl.bench"} <= set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_package_has_a_row_on_the_architecture_page(package: str) -> None:
    """docs/architecture.md has a table row for the package, saying where it sits."""
    page = (ROOT / "docs" / "architecture.md").read_text()
    assert re.search(rf"^\| `{re.escape(package)}` \|", page, re.MULTILINE), package


@pytest.mark.parametrize("package", [*PACKAGES, "ovnctl.cli"])
def test_package_is_guarded_by_a_contract(package: str) -> None:
    """pyproject.toml has an import-linter contract whose sources include the package."""
    assert _guarded(package), f"no import-linter contract for {package}"
