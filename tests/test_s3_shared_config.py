"""The AWS shared credentials and config files (~/.aws/credentials, ~/.aws/config) for the S3
artifact store (src/artifact/s3/aws_shared_config.cc).

Cross-check: for the same temporary files and environment, Cairn's resolution (printed by
build/.../src/artifact/s3/s3_config_tool, keys as SHA-256 digests) must match botocore's
(Session.get_credentials and the `region` config variable). End to end: a server whose only S3
credentials are in a temporary credentials file logs and downloads artifacts with the mlflow
client; the reference server (boto3) reads the same files."""

import hashlib
import os
import subprocess
import uuid
from pathlib import Path

import boto3
import botocore.session
import mlflow
import pytest
from botocore.config import Config

from helpers import service_uri
from server_process import ServerProcess, ServerStartError, cairn_binary

# Everything botocore or Cairn would read besides the files under test.
CLEARED = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
           "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
           "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL",
           "AWS_ENDPOINT_URL_S3", "AWS_CA_BUNDLE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
           "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
           "BOTO_CONFIG", "MLFLOW_S3_ENDPOINT_URL")

KEYS = "aws_access_key_id = {p}_ID\naws_secret_access_key = {p}_SECRET\n"

# (name, {file under $HOME: text}, environment); paths in the environment may use {home}.
CASES = [
    ("credentials-file-default", {
        ".aws/credentials": "[default]\n" + KEYS.format(p="CRED"),
        ".aws/config": "[default]\nregion = eu-west-1\n",
    }, {}),
    ("named-profile-only-in-config-with-session-token", {
        ".aws/credentials": "[default]\n" + KEYS.format(p="DEFAULT"),
        ".aws/config": "[default]\nregion = us-west-1\n[profile dev]\n" + KEYS.format(p="DEV")
        + "aws_session_token = DEV_TOKEN\nregion = eu-central-1\n[dev]\nregion = not-this\n",
    }, {"AWS_PROFILE": "dev"}),
    ("credentials-file-wins-over-config-file", {
        ".aws/credentials": "[prod]\n" + KEYS.format(p="CRED") + "region = ap-south-1\n",
        ".aws/config": "[profile prod]\n" + KEYS.format(p="CONF") + "region = ap-east-1\n",
    }, {"AWS_PROFILE": "prod"}),
    ("environment-wins-over-files", {
        ".aws/credentials": "[default]\n" + KEYS.format(p="CRED"),
        ".aws/config": "[default]\nregion = eu-west-1\n",
    }, {"AWS_ACCESS_KEY_ID": "ENV_ID", "AWS_SECRET_ACCESS_KEY": "ENV_SECRET",
        "AWS_SESSION_TOKEN": "ENV_TOKEN", "AWS_DEFAULT_REGION": "sa-east-1"}),
    ("comments-whitespace-colons-crlf", {
        ".aws/credentials": "# leading comment\r\n; another\r\n\r\n[default]   ; trailing\r\n"
        "   AWS_Access_Key_Id   =   SPACED_ID   \r\n\taws_secret_access_key: SPACED_SECRET\r\n"
        "  # indented comment\r\n",
        ".aws/config": "[default]\ns3 =\n    addressing_style = path\n"
        "region=eu-north-1\n",
    }, {}),
    ("files-named-by-the-environment", {
        "elsewhere/creds": "[ci]\n" + KEYS.format(p="CI") + "aws_security_token = LEGACY\n",
        "elsewhere/conf": "[profile ci]\nregion = us-east-2\n",
    }, {"AWS_SHARED_CREDENTIALS_FILE": "{home}/elsewhere/creds",
        "AWS_CONFIG_FILE": "{home}/elsewhere/conf", "AWS_PROFILE": "ci"}),
    ("no-files-no-keys", {}, {}),
    ("config-without-keys", {".aws/config": "[default]\nregion = ca-central-1\n"}, {}),
    ("named-profile-missing", {
        ".aws/credentials": "[default]\n" + KEYS.format(p="CRED"),
    }, {"AWS_PROFILE": "missing"}),
    ("profile-prefix-means-nothing-in-credentials-file", {
        ".aws/credentials": "[profile dev]\n" + KEYS.format(p="CRED"),
    }, {"AWS_PROFILE": "dev"}),
    ("default-named-explicitly-but-missing", {
        ".aws/config": "[profile other]\nregion = eu-west-1\n",
    }, {"AWS_PROFILE": "default"}),
    ("malformed-line", {
        ".aws/credentials": "[default]\n" + KEYS.format(p="CRED") + "not a setting\n",
    }, {}),
    ("repeated-key", {
        ".aws/config": "[default]\nregion = eu-west-1\nregion = eu-west-2\n",
    }, {}),
    ("setting-before-any-section", {
        ".aws/credentials": KEYS.format(p="CRED"),
    }, {}),
]


def digest(value) -> str:
    return hashlib.sha256(value.encode()).hexdigest() if value else ""


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


def botocore_view(env: dict[str, str]) -> dict[str, str] | str:
    session = botocore.session.Session()
    try:
        creds = session.get_credentials()
        region = session.get_config_variable("region")
    except Exception as e:  # noqa: BLE001 - any failure counts as "refused"
        return f"error {type(e).__name__}"
    frozen = creds.get_frozen_credentials() if creds else None
    return {
        "access_key_sha256": digest(frozen.access_key if frozen else ""),
        "secret_key_sha256": digest(frozen.secret_key if frozen else ""),
        "session_token_sha256": digest(frozen.token if frozen else ""),
        "region": region or "us-east-1",
    }


def cairn_view(uri: str = "s3://bucket") -> dict[str, str] | str:
    tool = cairn_binary().parent / "src" / "artifact" / "s3" / "s3_config_tool"
    if not tool.exists():
        pytest.fail(f"{tool} is missing: build the s3_config_tool target")
    out = subprocess.run([str(tool), uri], capture_output=True, text=True, timeout=30,
                         env=dict(os.environ))
    if out.returncode == 2:
        return out.stdout.strip()
    assert out.returncode == 0, out.stderr
    return dict((line.split(" ", 1) + [""])[:2] for line in out.stdout.splitlines())


@pytest.mark.cairn_only
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_resolves_what_botocore_resolves(case, clean_env, tmp_path):
    _, files, env = case
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(text.encode())
    for name, value in env.items():
        clean_env.setenv(name, value.format(home=tmp_path))
    expected = botocore_view(env)
    got = cairn_view()
    if isinstance(expected, str):
        assert isinstance(got, str) and got.startswith("error "), (expected, got)
        # Messages never carry a key.
        assert "_SECRET" not in got and "_ID" not in got, got
        return
    assert not isinstance(got, str), (expected, got)
    assert {k: got[k] for k in expected} == expected


@pytest.mark.cairn_only
def test_endpoint_url_of_the_profile_matches_botocore(clean_env, tmp_path):
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text(
        "[profile minio]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:9000\n")
    clean_env.setenv("AWS_PROFILE", "minio")
    client = botocore.session.Session().create_client("s3")
    got = cairn_view()
    assert got["endpoint"] == client.meta.endpoint_url.rstrip("/") == "http://127.0.0.1:9000"
    assert got["path_style"] == "true"
    # The environment and then the URI win over the profile.
    clean_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9001")
    assert cairn_view()["endpoint"] == "http://127.0.0.1:9001"
    assert cairn_view("s3://bucket?endpoint=http://127.0.0.1:9002")["endpoint"] == \
        "http://127.0.0.1:9002"


@pytest.mark.cairn_only
def test_aws_region_wins_over_the_profile(clean_env, tmp_path):
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[default]\nregion = eu-west-1\n")
    assert cairn_view()["region"] == "eu-west-1"
    clean_env.setenv("AWS_DEFAULT_REGION", "eu-west-2")
    assert cairn_view()["region"] == "eu-west-2"
    clean_env.setenv("AWS_REGION", "eu-west-3")
    assert cairn_view()["region"] == "eu-west-3"
    assert cairn_view("s3://bucket?region=eu-south-1")["region"] == "eu-south-1"


# End to end against the S3-compatible test server.

@pytest.fixture(scope="module")
def s3():
    return {
        "endpoint": service_uri("S3"),
        "bucket": os.environ.get("CAIRN_TEST_S3_BUCKET", "cairn-test"),
        "key": os.environ["CAIRN_TEST_S3_ACCESS_KEY_ID"],
        "secret": os.environ["CAIRN_TEST_S3_SECRET_ACCESS_KEY"],
        "region": os.environ.get("CAIRN_TEST_S3_REGION", "us-east-1"),
    }


def write_profile_files(s3, directory: Path) -> dict[str, str]:
    """Keys only in a credentials file; region and endpoint only in a config file."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "credentials").write_text(
        f"# test profile\n[ci]\naws_access_key_id = {s3['key']}\n"
        f"aws_secret_access_key = {s3['secret']}\n")
    (directory / "config").write_text(
        f"[profile ci]\nregion = {s3['region']}\nendpoint_url = {s3['endpoint']}\n"
        "s3 =\n    addressing_style = path\n")
    return {
        "AWS_SHARED_CREDENTIALS_FILE": str(directory / "credentials"),
        "AWS_CONFIG_FILE": str(directory / "config"),
        "AWS_PROFILE": "ci",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
        "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
    }


def root_args(target: str, uri: str) -> tuple[str, ...]:
    return ("--artifacts-uri", uri) if target == "cairn" else ("--artifacts-destination", uri)


def test_server_with_keys_only_in_a_credentials_file(target, s3, clean_env, tmp_path, unique):
    env = write_profile_files(s3, tmp_path / "aws")
    prefix = f"profile/{uuid.uuid4().hex[:12]}"
    proc = ServerProcess(target, tmp_path / "data",
                         extra_args=root_args(target, f"s3://{s3['bucket']}/{prefix}"),
                         env=env, workers=1)
    try:
        proc.start()
    except ServerStartError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        clean_env.setenv("MLFLOW_TRACKING_URI", proc.url)
        mlflow.set_tracking_uri(proc.url)
        mlflow.set_experiment(f"s3-profile-{unique}")
        src = tmp_path / "note.txt"
        src.write_bytes(b"from a profile\n")
        with mlflow.start_run() as run:
            mlflow.log_artifact(str(src), artifact_path="docs")
        out = mlflow.artifacts.download_artifacts(run_id=run.info.run_id,
                                                  artifact_path="docs/note.txt",
                                                  dst_path=str(tmp_path / "out"))
        assert Path(out).read_bytes() == b"from a profile\n"
        if target == "cairn":
            log = proc.log_path.read_text(errors="replace")
            assert f"credentials from {env['AWS_SHARED_CREDENTIALS_FILE']} (AWS profile 'ci')" \
                in log, proc.log_tail()
            assert s3["secret"] not in log
    finally:
        proc.stop()
    bucket = boto3.client(
        "s3", endpoint_url=s3["endpoint"], aws_access_key_id=s3["key"],
        aws_secret_access_key=s3["secret"], region_name=s3["region"],
        config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"))
    keys = [o["Key"] for o in bucket.list_objects_v2(
        Bucket=s3["bucket"], Prefix=prefix + "/").get("Contents", [])]
    assert any(k.endswith(f"{run.info.run_id}/artifacts/docs/note.txt") for k in keys), keys


def start_failure(target, s3, env, tmp_path) -> str:
    """Starts a server on s3:// artifacts with `env`, which must refuse to start; its log."""
    proc = ServerProcess(target, tmp_path / "data",
                         extra_args=root_args(target, f"s3://{s3['bucket']}/x"), env=env,
                         workers=1)
    with pytest.raises(ServerStartError) as info:
        proc.start()
    return str(info.value)


@pytest.mark.cairn_only
def test_server_refuses_a_named_profile_that_no_file_has(target, s3, clean_env, tmp_path):
    env = write_profile_files(s3, tmp_path / "aws")
    env["AWS_PROFILE"] = "nope"
    log = start_failure(target, s3, env, tmp_path)
    assert "'nope'" in log and env["AWS_SHARED_CREDENTIALS_FILE"] in log, log
    assert s3["secret"] not in log, log


@pytest.mark.cairn_only
def test_server_refuses_a_malformed_credentials_file_naming_file_and_line(target, s3, clean_env,
                                                                         tmp_path):
    env = write_profile_files(s3, tmp_path / "aws")
    path = Path(env["AWS_SHARED_CREDENTIALS_FILE"])
    path.write_text(path.read_text() + f"{s3['secret']}\n")
    log = start_failure(target, s3, env, tmp_path)
    assert f"{path} line 5" in log, log
    assert s3["secret"] not in log, log
