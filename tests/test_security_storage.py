"""Encrypted artifacts at rest and HTTPS, end to end with the official MLflow client.

Artifacts: a server with --artifact-key-file stores nothing in plaintext (the test reads every
file on disk), streams a 1 GB artifact up and down at bounded memory, and survives a master-key
rotation. TLS: a self-signed certificate made with `cryptography`; the MLflow client verifies it
through MLFLOW_TRACKING_SERVER_CERT_PATH.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import secrets
import subprocess

import mlflow
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from server_process import cairn_binary

pytestmark = pytest.mark.cairn_only

MARKER = "cairn-plaintext-marker-7f3a9c"


def write_key(path):
    path.write_text(secrets.token_hex(32) + "\n")
    return path


def files_under(root):
    for dirpath, _, names in os.walk(root):
        for name in names:
            yield os.path.join(dirpath, name)


def vm_hwm_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_artifacts_are_encrypted_on_disk_and_read_back(tmp_path, server_factory):
    key = write_key(tmp_path / "master.key")
    server = server_factory(extra_args=("--artifact-key-file", str(key)))
    client = mlflow.MlflowClient(tracking_uri=server.url)
    exp = client.create_experiment("encrypted")
    run = client.create_run(exp)
    text = (MARKER + " some model card text\n") * 1000
    client.log_text(run.info.run_id, text, "notes/card.txt")
    local = client.download_artifacts(run.info.run_id, "notes/card.txt", str(tmp_path / "dl"))
    assert open(local).read() == text
    listed = client.list_artifacts(run.info.run_id, "notes")
    assert [(f.path, f.file_size) for f in listed] == [("notes/card.txt", len(text))]
    stored = list(files_under(server.artifact_root))
    assert stored, "no artifact files on disk"
    key_bytes = bytes.fromhex(key.read_text().strip())
    for path in stored:
        data = open(path, "rb").read()
        assert MARKER.encode() not in data, path
        assert key_bytes not in data, path
    assert any("/.cairn-keys/" in p for p in stored)


def test_a_1gb_artifact_streams_through_encryption_at_bounded_memory(tmp_path, server_factory):
    key = write_key(tmp_path / "master.key")
    server = server_factory(extra_args=("--artifact-key-file", str(key)))
    size = 1 << 30
    chunk = os.urandom(1 << 20)
    sent = hashlib.sha256()

    class Body:
        """1 GiB made on the fly, read by requests a block at a time (sent with its length)."""

        def __init__(self):
            self.index = 0
            self.pending = b""

        def __len__(self):
            return size - self.index * len(chunk) + len(self.pending)

        def read(self, n=-1):
            if not self.pending and self.index < size // len(chunk):
                self.pending = chunk[:-8] + self.index.to_bytes(8, "big")
                sent.update(self.pending)
                self.index += 1
            n = len(self.pending) if n is None or n < 0 else n
            out, self.pending = self.pending[:n], self.pending[n:]
            return out

    url = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/0/big/blob.bin"
    before = vm_hwm_kib(server.pid)
    r = requests.put(url, data=Body(), timeout=600)
    assert r.status_code == 200, r.text
    got = hashlib.sha256()
    received = 0
    with requests.get(url, stream=True, timeout=600) as r:
        assert r.status_code == 200
        assert int(r.headers["Content-Length"]) == size
        for part in r.iter_content(1 << 20):
            got.update(part)
            received += len(part)
    assert received == size and got.hexdigest() == sent.hexdigest()
    grown_mib = (vm_hwm_kib(server.pid) - before) / 1024
    assert grown_mib < 128, f"peak memory grew by {grown_mib:.0f} MiB for a 1 GiB artifact"
    on_disk = server.artifact_root / "0" / "big" / "blob.bin"
    assert on_disk.stat().st_size > size  # tags and header: it is ciphertext


def test_master_key_rotation_rewraps_without_rewriting(tmp_path, server_factory):
    old = write_key(tmp_path / "old.key")
    new = write_key(tmp_path / "new.key")
    data = tmp_path / "data"
    server = server_factory(data_dir=data, extra_args=("--artifact-key-file", str(old)))
    url = f"{server.url}/api/2.0/mlflow-artifacts/artifacts/0/rot/a.txt"
    assert requests.put(url, data=MARKER.encode()).status_code == 200
    blob = server.artifact_root / "0" / "rot" / "a.txt"
    before = blob.read_bytes()
    assert server.stop() == 0
    out = subprocess.run([str(cairn_binary()), "admin", "rotate-artifact-key", "--data-dir",
                          str(data), "--old-key-file", str(old), "--new-key-file", str(new)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "Re-wrapped 1" in out.stdout
    assert blob.read_bytes() == before  # the artifact itself is untouched
    rotated = server_factory(data_dir=data, extra_args=("--artifact-key-file", str(new)))
    r = requests.get(f"{rotated.url}/api/2.0/mlflow-artifacts/artifacts/0/rot/a.txt")
    assert r.status_code == 200 and r.text == MARKER
    assert rotated.stop() == 0
    stale = server_factory(data_dir=data, extra_args=("--artifact-key-file", str(old)))
    r = requests.get(f"{stale.url}/api/2.0/mlflow-artifacts/artifacts/0/rot/a.txt")
    assert r.status_code >= 500 and MARKER not in r.text


def test_a_bad_master_key_is_refused_at_start(tmp_path):
    bad = tmp_path / "bad.key"
    bad.write_text("too-short\n")
    out = subprocess.run([str(cairn_binary()), "server", "--port", "0", "--data-dir",
                          str(tmp_path / "d"), "--artifact-key-file", str(bad)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "too-short" not in out.stdout + out.stderr


# -- TLS ------------------------------------------------------------------------------------


def self_signed(tmp_path, prefix=""):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path = tmp_path / f"{prefix}cert.pem"
    key_path = tmp_path / f"{prefix}key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_mlflow_client_over_tls(tmp_path, server_factory, monkeypatch):
    cert, key = self_signed(tmp_path)
    server = server_factory(extra_args=("--tls-cert", str(cert), "--tls-key", str(key)))
    assert server.url.startswith("https://")
    monkeypatch.setenv("MLFLOW_TRACKING_SERVER_CERT_PATH", str(cert))
    client = mlflow.MlflowClient(tracking_uri=server.url)
    exp = client.create_experiment("over-tls")
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "m", 1.5)
    client.log_text(run.info.run_id, "hello", "a.txt")
    assert client.get_run(run.info.run_id).data.metrics == {"m": 1.5}
    # Unverified clients fail the handshake; plain HTTP gets no answer.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{server.url}/health", timeout=10)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(server.url.replace("https", "http") + "/health", timeout=10)
    # The CLI trusts the certificate through CAIRN_CA_CERT.
    out = subprocess.run([str(cairn_binary()), "models", "versions", "absent"],
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "CAIRN_SERVER": server.url,
                              "CAIRN_CA_CERT": str(cert)})
    assert "RESOURCE_DOES_NOT_EXIST" in out.stderr or "not found" in out.stderr.lower(), out.stderr


def test_tls_with_a_mismatched_key_is_refused_at_start(tmp_path):
    cert, _ = self_signed(tmp_path, "a-")
    _, other_key = self_signed(tmp_path, "b-")
    out = subprocess.run([str(cairn_binary()), "server", "--port", "0", "--data-dir",
                          str(tmp_path / "d"), "--tls-cert", str(cert), "--tls-key",
                          str(other_key)], capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "match" in out.stdout + out.stderr  # "does not match" or OpenSSL's "mismatch"
