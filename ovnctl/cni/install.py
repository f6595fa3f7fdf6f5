"""Install the plugin and the primary network's configuration into a node's CNI paths.

Where it sits: the DaemonSet's init container runs ``python -m
ovnctl.cni.install`` with the host's ``/opt/cni/bin`` and ``/etc/cni/net.d``
mounted. The runtime execs the plugin on the *host*, outside any container,
so it must not depend on the image's virtualenv: the plugin imports only the
standard library and :mod:`ovnctl.cni`, and this module packs exactly those
files into a zipapp run by the host's ``python3`` (3.8 or later). It is
installed as ``kube-ovn`` (so NADs written for Kube-OVN find it) and as
``ovnctl``. Every file is written to a temporary name and renamed, so a
runtime never execs or reads half a file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import zipapp
from pathlib import Path

from ovnctl.cni.protocol import DEFAULT_SOCKET

__all__ = ["BINARY_NAMES", "CONF_NAME", "build_zipapp", "install", "main", "primary_conflist"]

BINARY_NAMES = ("kube-ovn", "ovnctl")
CONF_NAME = "01-ovnctl.conflist"

_MAIN = "import sys\nfrom ovnctl.cni.plugin import main\nsys.exit(main())\n"


def build_zipapp(target: Path, *, interpreter: str = "/usr/bin/env python3") -> Path:
    """Write the plugin as an executable zipapp at ``target``; return it."""
    package = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory(prefix="ovnctl-cni-") as stage_name:
        stage = Path(stage_name)
        (stage / "ovnctl" / "cni").mkdir(parents=True)
        (stage / "ovnctl" / "__init__.py").write_text('__version__ = "plugin"\n')
        for source in sorted(package.glob("*.py")):
            if source.name not in ("command.py", "install.py"):  # click, and this installer
                (stage / "ovnctl" / "cni" / source.name).write_text(source.read_text())
        (stage / "__main__.py").write_text(_MAIN)
        tmp = target.with_name(f".{target.name}.tmp")
        zipapp.create_archive(stage, tmp, interpreter=interpreter)
        tmp.chmod(0o755)
        os.replace(tmp, target)
    return target


def primary_conflist(
    *, socket_path: str = DEFAULT_SOCKET, mtu: int | None = None
) -> dict[str, object]:
    """The conflist that makes ovnctl the pods' primary network (provider ``ovn``)."""
    plugin: dict[str, object] = {
        "type": "kube-ovn",
        "provider": "ovn",
        "server_socket": socket_path,
    }
    if mtu is not None:
        plugin["mtu"] = mtu
    return {"cniVersion": "1.0.0", "name": "ovnctl", "plugins": [plugin]}


def install(
    *,
    bin_dir: Path,
    conf_dir: Path | None,
    socket_path: str = DEFAULT_SOCKET,
    mtu: int | None = None,
) -> list[Path]:
    """Install the binaries (and the conflist unless ``conf_dir`` is None); the paths written."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    written = [build_zipapp(bin_dir / name) for name in BINARY_NAMES]
    if conf_dir is not None:
        conf_dir.mkdir(parents=True, exist_ok=True)
        target = conf_dir / CONF_NAME
        tmp = conf_dir / f".{CONF_NAME}.tmp"
        tmp.write_text(json.dumps(primary_conflist(socket_path=socket_path, mtu=mtu), indent=2))
        os.replace(tmp, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ovnctl.cni.install", description=__doc__)
    parser.add_argument("--bin-dir", type=Path, default=Path("/opt/cni/bin"))
    parser.add_argument("--conf-dir", type=Path, default=Path("/etc/cni/net.d"))
    parser.add_argument(
        "--no-primary",
        action="store_true",
        help="install only the binaries (another CNI serves the primary network; "
        "ovnctl serves Multus attachments)",
    )
    parser.add_argument("--socket", default=DEFAULT_SOCKET, help="the daemon's socket path")
    parser.add_argument("--mtu", type=int, default=None)
    args = parser.parse_args(argv)
    written = install(
        bin_dir=args.bin_dir,
        conf_dir=None if args.no_primary else args.conf_dir,
        socket_path=args.socket,
        mtu=args.mtu,
    )
    for path in written:
        print(f"installed {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
