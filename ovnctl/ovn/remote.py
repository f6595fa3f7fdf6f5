"""The ``--ovn-nb`` value: one NB ovsdb-server, or the members of a clustered NB.

Accepted, as OVN's own tools spell them: ``tcp:IP:PORT``, ``tcp:[IPv6]:PORT``,
``ssl:IP:PORT`` (with the TLS files of :mod:`ovnctl.ovn.tls`),
``unix:/path/to/socket``, and a comma-separated list of those (the members of
a Raft cluster; the client finds the leader and follows it on failover).
"""

from __future__ import annotations

import ipaddress

__all__ = ["parse_remotes"]


def parse_remotes(text: str) -> tuple[str, ...]:
    """Validate an ``--ovn-nb`` value and return its members, stripped, in order.

    Raises :class:`ValueError` naming the bad member.
    """
    members = tuple(part.strip() for part in text.split(","))
    if not text.strip() or not all(members):
        raise ValueError(f"--ovn-nb {text!r}: empty member")
    for member in members:
        _check(member)
    if len(set(members)) != len(members):
        raise ValueError(f"--ovn-nb {text!r}: a member is listed twice")
    return members


def _check(member: str) -> None:
    method, _, rest = member.partition(":")
    if method == "unix":
        if not rest:
            raise ValueError(f"--ovn-nb member {member!r}: unix: needs a socket path")
        return
    if method not in ("tcp", "ssl"):
        raise ValueError(
            f"--ovn-nb member {member!r}: expected tcp:IP:PORT, ssl:IP:PORT or unix:PATH"
        )
    host, sep, port = rest.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--ovn-nb member {member!r}: expected {method}:IP:PORT")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ipaddress.ip_address(host)
    except ValueError:
        # OVS streams resolve no names: a host name would only fail at connect.
        raise ValueError(f"--ovn-nb member {member!r}: {host!r} is not an IP address") from None
