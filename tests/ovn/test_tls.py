"""ssl: northbound remotes: mutual TLS with ovsdb-server, and clear errors for bad TLS files.

A throwaway CA (trustme) signs the sandbox server's certificate and the
client's; ovsdb-server asks for the client's, as OVN's ssl: remotes do.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import trustme
from cryptography.hazmat.primitives import serialization

from ovnctl.ovn import NbTls, NorthboundUnavailable, OvnNorthbound
from ovnctl.ovn.sandbox import NbSandbox
from tests.ovn.conftest import SKIP_REASON, switch


def write_leaf(ca: trustme.CA, directory: Path, name: str, identity: str) -> NbTls:
    """Key and certificate for ``identity`` signed by ``ca``, with ``ca`` as the trusted CA."""
    directory.mkdir(parents=True, exist_ok=True)
    leaf = ca.issue_cert(identity)
    key, cert, ca_cert = (directory / f"{name}-{part}.pem" for part in ("key", "cert", "ca"))
    leaf.private_key_pem.write_to_path(str(key))
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    ca.cert_pem.write_to_path(str(ca_cert))
    return NbTls(private_key=str(key), certificate=str(cert), ca_cert=str(ca_cert))


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_sandbox(tmp_path: Path, ca: trustme.CA):
    if SKIP_REASON:
        pytest.skip(f"needs a local OVN NB ovsdb-server: {SKIP_REASON}")
    server_files = write_leaf(ca, tmp_path / "pki", "server", "127.0.0.1")
    with NbSandbox(tmp_path / "nb", tls=server_files) as server:
        yield server


async def test_ssl_remote_connects_and_writes(tls_sandbox, ca, tmp_path) -> None:
    """A client with a certificate from the NB's CA connects over ssl: and creates a switch."""
    client_files = write_leaf(ca, tmp_path / "pki", "client", "ovnctl")
    client = OvnNorthbound(remote=tls_sandbox.ssl, tls=client_files, timeout=5.0, max_backoff=1.0)
    await client.start()
    try:
        await client.wait_connected(10)
        await client.ensure_subnet(switch("tls-net"))
    finally:
        await client.close()
    assert "tls-net" in tls_sandbox.nbctl("ls-list")


async def test_client_from_another_ca_is_refused(tls_sandbox, tmp_path) -> None:
    """Signed by a CA the NB does not trust (and not trusting the NB's): never connected."""
    stranger = write_leaf(trustme.CA(), tmp_path / "pki", "stranger", "ovnctl")
    client = OvnNorthbound(remote=tls_sandbox.ssl, tls=stranger, timeout=2.0, max_backoff=1.0)
    await client.start()
    try:
        with pytest.raises(NorthboundUnavailable, match="not connected"):
            await client.wait_connected(3)
        assert not client.connected
    finally:
        await client.close()
    assert "tls-net" not in tls_sandbox.nbctl("ls-list")


def test_ssl_member_without_tls_files_is_refused() -> None:
    """ssl: needs all three files, and the error names the flags."""
    with pytest.raises(ValueError, match="--ovn-nb-private-key, --ovn-nb-certificate"):
        OvnNorthbound(remote="tcp:127.0.0.1:6641,ssl:127.0.0.1:6642")


def test_tls_files_without_an_ssl_member_are_refused(ca, tmp_path) -> None:
    """TLS files with only tcp: members are a mistake worth stopping for."""
    files = write_leaf(ca, tmp_path, "client", "ovnctl")
    with pytest.raises(ValueError, match="no --ovn-nb member is ssl:"):
        OvnNorthbound(remote="tcp:127.0.0.1:6641", tls=files)


def _replace(files: NbTls, **changes: str) -> NbTls:
    return NbTls(**{**{f: getattr(files, f) for f in NbTls.__dataclass_fields__}, **changes})


def test_unusable_tls_files_are_named(ca, tmp_path) -> None:
    """Missing, non-PEM, mismatched and encrypted files each fail with flag, path and reason."""
    files = write_leaf(ca, tmp_path, "client", "ovnctl")
    other = write_leaf(ca, tmp_path, "other", "someone-else")
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    encrypted = tmp_path / "encrypted-key.pem"
    key = serialization.load_pem_private_key(Path(files.private_key).read_bytes(), password=None)
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    cases = [
        (
            _replace(files, private_key=str(tmp_path / "nope.pem")),
            "--ovn-nb-private-key .*no such file",
        ),
        (_replace(files, ca_cert=str(garbage)), "--ovn-nb-ca-cert .*not a PEM CA certificate"),
        (_replace(files, certificate=str(garbage)), "--ovn-nb-certificate .*not a PEM certificate"),
        (_replace(files, private_key=other.private_key), "and its matching key"),
        (_replace(files, private_key=str(encrypted)), "the key is encrypted"),
    ]
    for broken, message in cases:
        with pytest.raises(ValueError, match=message):
            broken.check()
    files.check()  # and the good set passes


def test_run_with_partial_or_bad_tls_flags_exits_2(ca, tmp_path) -> None:
    """`ovnctl run`: a lone TLS flag is a usage error; an unreadable file is exit 2, named."""
    base = [sys.executable, "-m", "ovnctl", "run", "--health-port", "0", "--metrics-port", "0"]
    lone = subprocess.run(
        [*base, "--ovn-nb", "ssl:127.0.0.1:6641", "--ovn-nb-private-key", "key.pem"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert lone.returncode == 2
    assert "--ovn-nb-certificate, --ovn-nb-ca-cert missing" in lone.stderr

    files = write_leaf(ca, tmp_path, "client", "ovnctl")
    bad = subprocess.run(
        [*base, "--ovn-nb", "ssl:127.0.0.1:6641",
         "--ovn-nb-private-key", str(tmp_path / "missing-key.pem"),
         "--ovn-nb-certificate", files.certificate, "--ovn-nb-ca-cert", files.ca_cert],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2, bad.stderr
    assert "missing-key.pem': no such file" in bad.stderr
    assert "Traceback" not in bad.stderr
