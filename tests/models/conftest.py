"""Shared helpers for the models tests: the sample objects users write.

The YAML files in ``data/`` are copies of the project's shared examples, so
these tests do not depend on anything outside the repository.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

DATA = Path(__file__).parent / "data"

E = TypeVar("E", bound=Exception)


def load_examples(filename: str, *, kind: str | None = None) -> list[dict[str, Any]]:
    """All documents of ``data/<filename>``, optionally only those of ``kind``."""
    with (DATA / filename).open() as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    return [d for d in docs if kind is None or d.get("kind") == kind]


def example(filename: str, *, name: str, kind: str | None = None) -> dict[str, Any]:
    """The one document of ``data/<filename>`` named ``name``."""
    matches = [d for d in load_examples(filename, kind=kind) if d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{filename}: {len(matches)} documents named {name!r}"
    return matches[0]


@contextmanager
def raises_naming(
    error: type[E], field: str, fragment: str = ""
) -> Iterator[pytest.ExceptionInfo[E]]:
    """Expect ``error`` whose ``field`` is ``field`` and whose message holds ``fragment``.

    Bad input must be answered with an error naming the field; this is that check.
    """
    with pytest.raises(error) as info:
        yield info
    assert getattr(info.value, "field", None) == field
    assert fragment in str(info.value)


@pytest.fixture
def nad_body():
    """A factory for NAD dicts with a given ``spec.config``."""

    def make(config: Any, *, name: str = "net1", namespace: str = "ns1") -> dict[str, Any]:
        return {
            "apiVersion": "k8s.cni.cncf.io/v1",
            "kind": "NetworkAttachmentDefinition",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"config": config},
        }

    return make
