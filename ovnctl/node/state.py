"""What ADD set up, one JSON file per (container, interface), so DEL needs no API server.

Where it sits: the datapath writes a :class:`~ovnctl.node.wiring.Wiring`
here after a successful ADD and removes it on DEL; CHECK compares the kernel
against it; a repeated ADD uses it to recognise its own earlier work. The
directory lives on tmpfs (``/run/ovnctl/state``) on purpose: after a reboot
no pod interface exists either, so nothing stale survives. Writes are atomic
(temporary file and rename) because the agent may die at any instant.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ovnctl.cni.errors import INVALID_ENV, CniError
from ovnctl.node.wiring import Wiring

__all__ = ["DEFAULT_STATE_DIR", "StateStore", "validate_container_id"]

DEFAULT_STATE_DIR = Path("/run/ovnctl/state")

# The CNI spec's rule for container ids; it also keeps them safe as file names.
_CONTAINER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def validate_container_id(container_id: str) -> str:
    """Return ``container_id`` or raise :class:`CniError` 4 naming it."""
    if not _CONTAINER_ID.match(container_id) or len(container_id) > 255:
        raise CniError(
            INVALID_ENV,
            f"CNI_CONTAINERID {container_id!r} must be alphanumeric with '_', '.' or '-'",
        )
    return container_id


class StateStore:
    """A directory of ``<container id>_<ifname>.json`` files."""

    def __init__(self, *, directory: Path) -> None:
        self.directory = directory

    def path(self, *, container_id: str, ifname: str) -> Path:
        validate_container_id(container_id)
        return self.directory / f"{container_id}_{ifname}.json"

    def load(self, *, container_id: str, ifname: str) -> tuple[Wiring, str] | None:
        """The recorded wiring and host MAC, or None (absent or unreadable: treated as absent)."""
        path = self.path(container_id=container_id, ifname=ifname)
        try:
            raw = json.loads(path.read_text())
            return Wiring.from_json(raw["wiring"]), str(raw.get("host_mac", ""))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            # A torn or foreign file: DEL falls back to the deterministic names.
            return None

    def save(self, wiring: Wiring, *, host_mac: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(container_id=wiring.container_id, ifname=wiring.ifname)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"wiring": wiring.to_json(), "host_mac": host_mac}))
        os.replace(tmp, path)

    def remove(self, *, container_id: str, ifname: str) -> None:
        self.path(container_id=container_id, ifname=ifname).unlink(missing_ok=True)

    def all(self) -> list[Wiring]:
        """Every recorded wiring (for inspection and tests)."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                found.append(Wiring.from_json(json.loads(path.read_text())["wiring"]))
            except (ValueError, KeyError, TypeError, OSError):
                continue
        return found
