"""A server whose artifact root is a bucket of the S3-compatible test server
(scripts/services/s3.sh, S3Proxy checking SigV4 signatures), driven by the official mlflow
client and by plain HTTP on /api/2.0/mlflow-artifacts.

Cairn runs with --artifacts-uri s3://bucket/prefix and the AWS_* environment; the reference
server with --artifacts-destination s3://bucket/prefix and MLFLOW_S3_ENDPOINT_URL (boto3), so the
client-facing behaviour is checked on both targets. Start-up errors are Cairn's own."""

import hashlib
import http.client
import os
import uuid
from pathlib import Path

import boto3
import mlflow
import mlflow.sklearn
import numpy as np
import pytest
import requests
from botocore.config import Config
from sklearn.linear_model import LinearRegression

from helpers import service_uri
from server_process import ServerProcess, ServerStartError

ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


@pytest.fixture(scope="module")
def s3():
    endpoint = service_uri("S3")
    return {
        "endpoint": endpoint,
        "bucket": os.environ.get("CAIRN_TEST_S3_BUCKET", "cairn-test"),
        "key": os.environ["CAIRN_TEST_S3_ACCESS_KEY_ID"],
        "secret": os.environ["CAIRN_TEST_S3_SECRET_ACCESS_KEY"],
        "region": os.environ.get("CAIRN_TEST_S3_REGION", "us-east-1"),
    }


def s3_env(s3, secret=None) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": s3["key"],
        "AWS_SECRET_ACCESS_KEY": secret or s3["secret"],
        "AWS_REGION": s3["region"],
        "AWS_DEFAULT_REGION": s3["region"],
        "AWS_ENDPOINT_URL_S3": s3["endpoint"],
        # The reference server's boto3.
        "MLFLOW_S3_ENDPOINT_URL": s3["endpoint"],
        "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
        "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def root_args(target: str, uri: str) -> tuple[str, ...]:
    return ("--artifacts-uri", uri) if target == "cairn" else ("--artifacts-destination", uri)


@pytest.fixture(scope="module")
def bucket(s3):
    client = boto3.client(
        "s3", endpoint_url=s3["endpoint"], aws_access_key_id=s3["key"],
        aws_secret_access_key=s3["secret"], region_name=s3["region"],
        config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"))
    return client


@pytest.fixture(scope="module")
def prefix():
    return f"e2e/{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def s3_server(target, s3, prefix, tmp_path_factory):
    uri = f"s3://{s3['bucket']}/{prefix}"
    proc = ServerProcess(target, tmp_path_factory.mktemp("s3") / "data",
                         extra_args=root_args(target, uri), env=s3_env(s3), workers=1)
    try:
        proc.start()
    except ServerStartError as e:
        pytest.fail(str(e), pytrace=False)
    yield proc
    proc.stop()


@pytest.fixture
def tracking(s3_server, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", s3_server.url)
    mlflow.set_tracking_uri(s3_server.url)
    return mlflow.MlflowClient(tracking_uri=s3_server.url)


def keys_under(bucket, s3, prefix: str) -> dict[str, int]:
    out, token = {}, None
    while True:
        kwargs = {"Bucket": s3["bucket"], "Prefix": prefix}
        if token:
            kwargs["ContinuationToken"] = token
        page = bucket.list_objects_v2(**kwargs)
        out.update({o["Key"]: o["Size"] for o in page.get("Contents", [])})
        if not page.get("IsTruncated"):
            return out
        token = page["NextContinuationToken"]


def test_log_artifacts_list_and_download(tracking, bucket, s3, prefix, tmp_path, unique):
    src = tmp_path / "src"
    files = {
        "readme.txt": b"hello s3\n",
        "dir with space/f i l e.txt": b"spaces",
        "data/nested/deeper/blob.bin": os.urandom(300_000),
        "data/empty.txt": b"",
        "unicodé/データ.csv": b"a,b\n1,2\n",
    }
    for rel, content in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(content)
    single = tmp_path / "single.json"
    single.write_bytes(b'{"k": 1}')

    mlflow.set_experiment(f"s3-{unique}")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(single))
        mlflow.log_artifacts(str(src), artifact_path="tree")
    run_id = run.info.run_id

    top = {f.path: f.is_dir for f in tracking.list_artifacts(run_id)}
    assert top == {"single.json": False, "tree": True}
    listed = {f.path: (f.is_dir, f.file_size) for f in tracking.list_artifacts(run_id, "tree/data")}
    # The reference server leaves out a zero file_size (proto default); Cairn sends 0.
    assert listed["tree/data/empty.txt"] in {(False, 0), (False, None)}
    assert listed == {"tree/data/empty.txt": listed["tree/data/empty.txt"],
                      "tree/data/nested": (True, None)}

    out = Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="tree",
                                                   dst_path=str(tmp_path / "out")))
    got = {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert got == files

    # The bytes are objects of the bucket below the configured prefix.
    stored = keys_under(bucket, s3, prefix + "/")
    assert any(k.endswith(f"/{run_id}/artifacts/tree/data/nested/deeper/blob.bin") for k in stored)
    assert any(k.endswith(f"/{run_id}/artifacts/single.json") for k in stored)


def test_large_file_goes_through_multipart_upload(tracking, bucket, s3, prefix, tmp_path, unique):
    big = tmp_path / "big.bin"
    content = os.urandom(17 << 20) + b"tail"
    big.write_bytes(content)
    mlflow.set_experiment(f"s3-big-{unique}")
    with mlflow.start_run() as run:
        mlflow.log_artifact(str(big), artifact_path="blobs")
    [info] = tracking.list_artifacts(run.info.run_id, "blobs")
    assert info.file_size == len(content)
    path = mlflow.artifacts.download_artifacts(run_id=run.info.run_id,
                                               artifact_path="blobs/big.bin",
                                               dst_path=str(tmp_path / "dl"))
    assert hashlib.sha256(Path(path).read_bytes()).digest() == hashlib.sha256(content).digest()
    [key] = [k for k in keys_under(bucket, s3, prefix + "/") if k.endswith(
        f"{run.info.run_id}/artifacts/blobs/big.bin")]
    # A multipart object's ETag is "<md5 of the part md5s>-<parts>".
    etag = bucket.head_object(Bucket=s3["bucket"], Key=key)["ETag"]
    assert "-" in etag, etag


def test_log_and_load_model(tracking, tmp_path, unique):
    mlflow.set_experiment(f"s3-model-{unique}")
    x = np.arange(20, dtype=float).reshape(-1, 2)
    y = x @ np.array([1.5, -2.0]) + 3
    model = LinearRegression().fit(x, y)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(model, name="model",
                                        pip_requirements=["scikit-learn", "numpy"])
    loaded = mlflow.sklearn.load_model(info.model_uri)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x))


def test_mlflow_artifacts_routes(s3_server, unique):
    url = s3_server.url
    base = f"{url}{ARTIFACTS}/0/{unique}"
    r = requests.put(f"{base}/a/b.txt", data=b"bee", timeout=30)
    assert r.status_code == 200, r.text
    r = requests.put(f"{base}/a/c d.bin", data=bytes(range(256)), timeout=30)
    assert r.status_code == 200, r.text
    r = requests.get(f"{base}/a/b.txt", timeout=30)
    assert (r.status_code, r.content) == (200, b"bee")
    listed = requests.get(f"{url}{ARTIFACTS}", params={"path": f"0/{unique}/a"}, timeout=30)
    assert listed.status_code == 200, listed.text
    files = {f["path"]: f.get("file_size") for f in listed.json()["files"]}
    assert files == {"b.txt": "3", "c d.bin": "256"} or files == {"b.txt": 3, "c d.bin": 256}


# Cairn-only: the reference server deletes through boto3's DeleteObjects, which now always sends
# a flexible-checksum header that S3Proxy answers with 501 NotImplemented.
@pytest.mark.cairn_only
def test_mlflow_artifacts_delete_route(s3_server, unique):
    url = s3_server.url
    base = f"{url}{ARTIFACTS}/0/{unique}"
    for name in ("b.txt", "c d.bin", "sub/deeper.txt"):
        r = requests.put(f"{base}/a/{name}", data=b"x", timeout=30)
        assert r.status_code == 200, r.text
    r = requests.delete(f"{base}/a/b.txt", timeout=30)
    assert r.status_code == 200, r.text
    listed = requests.get(f"{url}{ARTIFACTS}", params={"path": f"0/{unique}/a"}, timeout=30)
    assert [f["path"] for f in listed.json()["files"]] == ["c d.bin", "sub"]
    # A directory goes with everything below it.
    r = requests.delete(f"{base}/a", timeout=30)
    assert r.status_code == 200, r.text
    listed = requests.get(f"{url}{ARTIFACTS}", params={"path": f"0/{unique}"}, timeout=30)
    assert listed.json().get("files", []) == []


def raw_get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_path_tricks_are_rejected(s3_server):
    for path in ("../../etc/passwd", "0/../../x", "/etc/passwd"):
        r = requests.get(f"{s3_server.url}{ARTIFACTS}", params={"path": path}, timeout=30)
        assert r.status_code == 400, (path, r.status_code, r.text)
    for raw in (f"{ARTIFACTS}/0/%2E%2E/%2E%2E/x", f"{ARTIFACTS}/0/..%2F..%2Fx"):
        assert raw_get(s3_server.port, raw) in (400, 404), raw


@pytest.mark.cairn_only
def test_missing_file_is_not_found(s3_server, unique):
    r = requests.get(f"{s3_server.url}{ARTIFACTS}/0/{unique}/never.txt", timeout=30)
    assert r.status_code == 404, r.text


def start_failure(target, tmp_path, uri, env) -> str:
    proc = ServerProcess(target, tmp_path / f"d{uuid.uuid4().hex[:6]}",
                         extra_args=root_args(target, uri), env=env, workers=1)
    with pytest.raises(ServerStartError) as info:
        proc.start()
    return str(info.value)


@pytest.mark.cairn_only
def test_missing_bucket_fails_start_up_clearly(target, s3, tmp_path):
    log = start_failure(target, tmp_path, "s3://no-such-bucket-cairn/x", s3_env(s3))
    assert "no-such-bucket-cairn" in log and "does not exist" in log, log


@pytest.mark.cairn_only
def test_wrong_credentials_fail_start_up_clearly(target, s3, tmp_path):
    log = start_failure(target, tmp_path, f"s3://{s3['bucket']}/x", s3_env(s3, secret="wrong"))
    assert "AWS_SECRET_ACCESS_KEY" in log and "SignatureDoesNotMatch" in log, log


@pytest.mark.cairn_only
@pytest.mark.parametrize("uri,expected", [
    ("s3://key:secret@cairn-test/x", "must not carry credentials"),
    ("s3:///no-bucket", "needs a bucket name"),
    ("s3://cairn-test/a/../b", "unusable key prefix"),
    ("s3://cairn-test/x?part_size_mb=1", "part_size_mb"),
    ("s3://cairn-test/x?endpoint=ftp://h", "http:// or https://"),
])
def test_malformed_uri_fails_start_up_clearly(target, s3, tmp_path, uri, expected):
    log = start_failure(target, tmp_path, uri, s3_env(s3))
    assert expected in log, log


@pytest.mark.cairn_only
def test_unreadable_ca_bundle_fails_start_up_clearly(target, s3, tmp_path):
    env = s3_env(s3) | {"AWS_CA_BUNDLE": str(tmp_path / "missing-ca.pem")}
    log = start_failure(target, tmp_path, f"s3://{s3['bucket']}/x", env)
    assert "AWS_CA_BUNDLE" in log and "missing-ca.pem" in log, log


@pytest.mark.cairn_only
def test_unreachable_endpoint_fails_start_up_clearly(target, s3, tmp_path):
    env = s3_env(s3) | {"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1"}
    log = start_failure(target, tmp_path, f"s3://{s3['bucket']}/x", env)
    assert "127.0.0.1:1" in log and "attempts" in log, log


# -- credentials from the instance profile, retries ------------------------------------------


class _Background:
    """A ThreadingHTTPServer on a free loopback port, served from a thread until closed."""

    def __init__(self, handler):
        import threading
        from http.server import ThreadingHTTPServer
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def fake_imds(s3, seen: list):
    """IMDSv2: a session token from PUT /latest/api/token, required on every GET after it. The
    role's credentials are the test server's keys with an empty Token (S3Proxy answers
    x-amz-security-token with 501; signing with a token is checked against botocore in
    test_s3_sigv4.py)."""
    from http.server import BaseHTTPRequestHandler
    import json

    token = uuid.uuid4().hex
    base = "/latest/meta-data/iam/security-credentials/"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, status, body=b""):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self):
            seen.append(("PUT", self.path))
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
            if self.path != "/latest/api/token" or not ttl:
                return self.reply(400)
            self.reply(200, token.encode())

        def do_GET(self):
            seen.append(("GET", self.path))
            if self.headers.get("X-aws-ec2-metadata-token") != token:
                return self.reply(401)
            if self.path == base:
                return self.reply(200, b"cairn-test-role")
            if self.path == base + "cairn-test-role":
                return self.reply(200, json.dumps({
                    "Code": "Success", "AccessKeyId": s3["key"], "SecretAccessKey": s3["secret"],
                    "Token": "", "Expiration": "2099-01-01T00:00:00Z"}).encode())
            self.reply(404)

    return _Background(Handler)


@pytest.mark.cairn_only
def test_credentials_from_the_instance_profile(target, s3, tmp_path, unique):
    seen = []
    imds = fake_imds(s3, seen)
    env = s3_env(s3) | {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                        "AWS_EC2_METADATA_DISABLED": "", "AWS_EC2_METADATA_SERVICE_ENDPOINT": imds.url}
    proc = ServerProcess(target, tmp_path / "data", workers=1, env=env,
                         extra_args=root_args(target, f"s3://{s3['bucket']}/imds-{unique}"))
    try:
        proc.start()
        r = requests.put(f"{proc.url}{ARTIFACTS}/0/x/f.txt", data=b"via imds", timeout=30)
        assert r.status_code == 200, r.text
        assert requests.get(f"{proc.url}{ARTIFACTS}/0/x/f.txt", timeout=30).content == b"via imds"
    finally:
        proc.stop()
        imds.close()
    assert ("PUT", "/latest/api/token") in seen
    assert ("GET", "/latest/meta-data/iam/security-credentials/cairn-test-role") in seen


def flaky_proxy(s3, faults: dict):
    """Forwards to the S3 test server, first answering faults["n"] requests with an injected
    failure (503 SlowDown, 500, 429, a dropped connection, in turn). The client signs for the
    proxy's Host header, which is forwarded as it is, so signatures still check."""
    from http.server import BaseHTTPRequestHandler
    from urllib.parse import urlsplit

    upstream = urlsplit(s3["endpoint"])
    kinds = ["slowdown", "500", "429", "drop"]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if faults["n"] > 0:
                faults["n"] -= 1
                kind = kinds[faults["n"] % len(kinds)]
                faults["injected"].append(kind)
                if kind == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                status, code = {"slowdown": (503, "SlowDown"), "500": (500, "InternalError"),
                                "429": (429, "TooManyRequests")}[kind]
                payload = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items()}
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    return _Background(Handler)


@pytest.mark.cairn_only
def test_transient_s3_failures_are_retried(target, s3, tmp_path, unique):
    faults = {"n": 0, "injected": []}
    proxy = flaky_proxy(s3, faults)
    env = s3_env(s3) | {"AWS_ENDPOINT_URL_S3": proxy.url}
    proc = ServerProcess(target, tmp_path / "data", workers=1, env=env,
                         extra_args=root_args(target, f"s3://{s3['bucket']}/flaky-{unique}"))
    try:
        proc.start()
        content = os.urandom(9 << 20)  # two parts of a multipart upload
        for i in range(3):
            faults["n"] = 4  # one of each kind before the request gets through
            r = requests.put(f"{proc.url}{ARTIFACTS}/0/x/f{i}.bin", data=content, timeout=120)
            assert r.status_code == 200, r.text
            faults["n"] = 4
            r = requests.get(f"{proc.url}{ARTIFACTS}/0/x/f{i}.bin", timeout=120)
            assert r.status_code == 200, r.text
            assert r.content == content
    finally:
        proc.stop()
        proxy.close()
    assert set(faults["injected"]) == {"slowdown", "500", "429", "drop"}


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.mark.cairn_only
def test_large_transfers_stream_at_constant_memory(target, s3, tmp_path, unique):
    """160 MiB up (a 20-part multipart upload) and down through a fresh server: its peak memory
    grows by a few parts and ranged chunks, not by the file."""
    proc = ServerProcess(target, tmp_path / "data", workers=1, env=s3_env(s3),
                         extra_args=root_args(target, f"s3://{s3['bucket']}/mem-{unique}"))
    size_mib = 160
    block = os.urandom(1 << 20)
    try:
        proc.start()
        url = f"{proc.url}{ARTIFACTS}/0/x/huge.bin"
        # Warm up the server's threads and pools with a small upload first.
        assert requests.put(f"{proc.url}{ARTIFACTS}/0/x/warm", data=b"w", timeout=30).ok
        before = peak_rss_mib(proc.pid)
        r = requests.put(url, data=(block for _ in range(size_mib)), timeout=300)
        assert r.status_code == 200, r.text
        got = hashlib.sha256()
        n = 0
        with requests.get(url, stream=True, timeout=300) as r:
            assert r.status_code == 200, r.text
            for chunk in r.iter_content(1 << 20):
                got.update(chunk)
                n += len(chunk)
        assert n == size_mib << 20
        want = hashlib.sha256()
        for _ in range(size_mib):
            want.update(block)
        assert got.digest() == want.digest()
        growth = peak_rss_mib(proc.pid) - before
        assert growth < 64, f"peak memory grew by {growth:.0f} MiB for a {size_mib} MiB file"
        # The test server keeps objects in memory: free them for the tests after this one.
        assert requests.delete(url, timeout=60).status_code == 200
    finally:
        proc.stop()


@pytest.mark.cairn_only
def test_encryption_at_rest_on_s3(target, s3, bucket, tmp_path, unique):
    key_file = tmp_path / "artifact.key"
    key_file.write_text(os.urandom(32).hex())
    prefix = f"enc-{unique}"
    proc = ServerProcess(target, tmp_path / "data", workers=1, env=s3_env(s3),
                         extra_args=(*root_args(target, f"s3://{s3['bucket']}/{prefix}"),
                                     "--artifact-key-file", str(key_file)))
    secret = b"plaintext that must not reach the bucket " * 1000
    try:
        proc.start()
        url = f"{proc.url}{ARTIFACTS}/0/x/secret.txt"
        assert requests.put(url, data=secret, timeout=30).status_code == 200
        assert requests.get(url, timeout=30).content == secret
        stored = keys_under(bucket, s3, prefix + "/")
        [key] = [k for k in stored if k.endswith("secret.txt")]
        body = bucket.get_object(Bucket=s3["bucket"], Key=key)["Body"].read()
        assert b"plaintext that must not" not in body
    finally:
        proc.stop()
