"""TLS for ``ssl:`` northbound remotes: the client's key and certificate, and the CA.

OVN's NB over ``ssl:`` is mutual TLS: ovsdb-server asks the client for a
certificate signed by a CA it trusts, and the client checks the server's
certificate against its own CA file (no host name check, as OVN's own
clients do: remotes are IP addresses). Kube-OVN keeps the three files in its
``kube-ovn-tls`` Secret (``key``, ``cert``, ``cacert``); ovnctl takes them as
``--ovn-nb-private-key``, ``--ovn-nb-certificate`` and ``--ovn-nb-ca-cert``.

python-ovs holds the three paths as process-wide settings and reads the files
at every connection attempt, so a rotated Secret is used from the next
reconnect on. A missing, unreadable, non-PEM or mismatched file would only
fail deep inside the IDL's reconnect loop, again and again, with an OpenSSL
message; :meth:`NbTls.check` makes it fail at start instead, naming the flag
and the path. Sits below :mod:`ovnctl.ovn.client`, which checks and installs it.
"""

from __future__ import annotations

import dataclasses
import os
import ssl

from ovs.stream import Stream

__all__ = ["NbTls", "check_remotes_and_tls"]

KEY_FLAG = "--ovn-nb-private-key"
CERT_FLAG = "--ovn-nb-certificate"
CA_FLAG = "--ovn-nb-ca-cert"


@dataclasses.dataclass(frozen=True, slots=True)
class NbTls:
    """Paths of PEM files: this client's private key and certificate, and the NB's CA."""

    private_key: str
    certificate: str
    ca_cert: str

    def check(self) -> None:
        """Load the files as a connection would; raise :class:`ValueError` naming what is wrong."""
        for flag, path in ((KEY_FLAG, self.private_key), (CERT_FLAG, self.certificate),
                           (CA_FLAG, self.ca_cert)):  # fmt: skip
            if not os.path.isfile(path):
                raise ValueError(f"{flag} {path!r}: no such file")
            if not os.access(path, os.R_OK):
                raise ValueError(f"{flag} {path!r}: not readable by this process")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            context.load_verify_locations(cafile=self.ca_cert)
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ValueError(
                f"{CA_FLAG} {self.ca_cert!r}: not a PEM CA certificate ({exc})"
            ) from None
        try:
            # A password callback that refuses: OpenSSL would otherwise prompt on a terminal.
            context.load_cert_chain(self.certificate, self.private_key, password=_no_password)
        except _EncryptedKey:
            raise ValueError(
                f"{KEY_FLAG} {self.private_key!r}: the key is encrypted; ovsdb streams take "
                "an unencrypted PEM key"
            ) from None
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ValueError(
                f"{CERT_FLAG} {self.certificate!r} with {KEY_FLAG} {self.private_key!r}: "
                f"not a PEM certificate and its matching key ({exc})"
            ) from None

    def install(self) -> None:
        """Hand the paths to python-ovs (process-wide: one NB client per process uses them)."""
        Stream.ssl_set_private_key_file(self.private_key)
        Stream.ssl_set_certificate_file(self.certificate)
        Stream.ssl_set_ca_cert_file(self.ca_cert)


class _EncryptedKey(Exception):
    pass


def _no_password() -> str:
    raise _EncryptedKey


def check_remotes_and_tls(remotes: tuple[str, ...], tls: NbTls | None) -> None:
    """``ssl:`` members need the TLS files, and the files need an ``ssl:`` member."""
    secure = [m for m in remotes if m.startswith("ssl:")]
    if secure and tls is None:
        raise ValueError(
            f"--ovn-nb member {secure[0]!r} needs {KEY_FLAG}, {CERT_FLAG} and {CA_FLAG}"
        )
    if tls is not None and not secure:
        raise ValueError(
            f"{KEY_FLAG}, {CERT_FLAG} and {CA_FLAG} are given, but no --ovn-nb member is ssl:"
        )
    if tls is not None:
        tls.check()
