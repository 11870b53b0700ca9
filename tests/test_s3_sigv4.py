"""Cairn's AWS Signature V4 (src/artifact/s3/sigv4_signer.cc) against botocore's for the same
requests: same time, same headers, same credentials. The C++ side runs through
build/.../src/artifact/s3/s3_sigv4_tool, built beside the server binary."""

import hashlib
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from server_process import cairn_binary

pytestmark = pytest.mark.cairn_only

TIMESTAMP = "20261204T193000Z"
EMPTY = hashlib.sha256(b"").hexdigest()


def sigv4_tool() -> Path:
    tool = cairn_binary().parent / "src" / "artifact" / "s3" / "s3_sigv4_tool"
    if not tool.exists():
        pytest.fail(f"{tool} is missing: build the s3_sigv4_tool target")
    return tool


def encode_query(query):
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query))


CASES = [
    # (name, method, host, path as sent (encoded once), query, extra headers, payload hash, token)
    ("get-range", "GET", "127.0.0.1:9000", "/bucket/exp/run/artifacts/model/MLmodel", [],
     {"range": "bytes=0-8388607", "if-match": '"0123abcd"'}, EMPTY, ""),
    ("put-unicode-key", "PUT", "bucket.s3.eu-west-3.amazonaws.com",
     "/" + quote("dir with space/données+x=y;@$.bin", safe="/~"), [], {},
     hashlib.sha256(b"payload").hexdigest(), ""),
    ("upload-part", "PUT", "minio:9000", "/b/big/file.bin",
     [("partNumber", "3"), ("uploadId", "2~abc/DEF+ghi==")], {}, hashlib.sha256(b"x" * 99).hexdigest(),
     "FwoGZXIvYXdzEJr//////////wEaDH+session/token=="),
    ("list-v2", "GET", "127.0.0.1:9000", "/bucket",
     [("list-type", "2"), ("prefix", "a b/c+d/"), ("delimiter", "/"), ("max-keys", "1000"),
      ("continuation-token", "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")], {}, EMPTY, ""),
    ("delete-objects", "POST", "127.0.0.1:9000", "/bucket", [("delete", "")],
     {"content-md5": "1B2M2Y8AsgTpgAmY7PhCfg==", "content-type": "application/xml"},
     hashlib.sha256(b"<Delete/>").hexdigest(), ""),
    ("create-multipart", "POST", "127.0.0.1:9000", "/bucket/k", [("uploads", "")], {}, EMPTY, ""),
    ("folded-header-spaces", "HEAD", "127.0.0.1:9000", "/bucket/k", [],
     {"x-amz-meta-note": "  two   inner   runs  "}, EMPTY, ""),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_signature_matches_botocore(case):
    name, method, host, path, query, extra, payload_hash, token = case
    access, secret, region = "AKIDEXAMPLECAIRN", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-3"
    headers = {"host": host, "x-amz-date": TIMESTAMP, "x-amz-content-sha256": payload_hash, **extra}
    if token:
        headers["x-amz-security-token"] = token

    url = f"http://{host}{path}" + (f"?{encode_query(query)}" if query else "")
    request = AWSRequest(method=method, url=url, headers=headers)
    request.context["timestamp"] = TIMESTAMP
    auth = S3SigV4Auth(Credentials(access, secret, token or None), "s3", region)
    canonical = auth.canonical_request(request)
    string_to_sign = auth.string_to_sign(request, canonical)
    signature = auth.signature(string_to_sign, request)
    signed = auth.signed_headers(auth.headers_to_sign(request))

    lines = [f"method {method}", f"path {path}", f"payload_hash {payload_hash}",
             f"region {region}", "service s3", f"date {TIMESTAMP}", f"access_key {access}",
             f"secret_key {secret}"]
    if token:
        lines.append(f"session_token {token}")
    lines += [f"query {k} {v}" for k, v in query]
    lines += [f"header {k} {v}" for k, v in headers.items()]
    out = subprocess.run([str(sigv4_tool())], input="\n".join(lines) + "\n", capture_output=True,
                         text=True, check=True).stdout
    ours_canonical, ours_sts, ours_auth = out.rstrip("\n").split("\n----\n")
    assert ours_canonical == canonical
    assert ours_sts == string_to_sign
    scope = f"{TIMESTAMP[:8]}/{region}/s3/aws4_request"
    assert ours_auth == (f"AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={signed}, "
                         f"Signature={signature}")
