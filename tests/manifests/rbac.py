"""Reading the manifests: the objects they declare and the permissions their roles grant.

A permission is ``(verb, group, resource, subresource)``, the shape of an
entry in the embedded API server's request log, so what the controller sent
and what its roles grant compare as sets. ``subnets/status`` in a role is
``("patch", "kubeovn.io", "subnets", "status")`` here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import yaml

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "manifests"
CRDS = REPO / "crds"


class Permission(NamedTuple):
    verb: str
    group: str
    resource: str
    subresource: str | None

    def __str__(self) -> str:
        what = self.resource + (f"/{self.subresource}" if self.subresource else "")
        return f"{self.verb} {what}.{self.group or 'core'}"


def kustomization_files(root: Path = MANIFESTS) -> list[Path]:
    """The files a kustomization lists, in order (directories are bases, followed too)."""
    spec = yaml.safe_load((root / "kustomization.yaml").read_text())
    files: list[Path] = []
    for entry in [*(spec.get("resources") or []), *(spec.get("bases") or [])]:
        path = (root / entry).resolve()
        files.extend(kustomization_files(path) if path.is_dir() else [path])
    return files


def documents(paths: Iterable[Path] | None = None) -> list[dict[str, Any]]:
    """Every YAML document of the kustomization's files (or the given ones)."""
    docs: list[dict[str, Any]] = []
    for path in kustomization_files() if paths is None else paths:
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict))
    return docs


def find(kind: str, name: str, docs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The one object of ``kind`` named ``name``."""
    matches = [
        d
        for d in (documents() if docs is None else docs)
        if d.get("kind") == kind and d["metadata"]["name"] == name
    ]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def granted(role: dict[str, Any]) -> Iterator[Permission]:
    """Every permission a Role or ClusterRole grants (no wildcards allowed)."""
    for rule in role.get("rules") or []:
        assert "nonResourceURLs" not in rule, "discovery is granted by system:discovery"
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                for verb in rule["verbs"]:
                    assert "*" not in (group, resource, verb), f"wildcard in {rule}"
                    plural, _, sub = resource.partition("/")
                    yield Permission(verb, group, plural, sub or None)
