"""Authentication, authorization, rate limits and the audit log, end to end.

A real server with --auth token (and token,jwt) on loopback, driven by `requests`, the official
MLflow client (token and basic auth) and the `cairn` CLI. JWTs are signed by PyJWT with keys
from `cryptography`, against a JWKS the test serves itself on loopback.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import sqlite3
import subprocess
import threading
import time

import jwt
import mlflow
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from mlflow.exceptions import MlflowException

from server_process import cairn_binary, metadata_args

pytestmark = pytest.mark.cairn_only


def bootstrap(data_dir, *extra) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    out = subprocess.run([str(cairn_binary()), "admin", "bootstrap", "--data-dir", str(data_dir),
                          *metadata_args(data_dir), *extra], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().splitlines()[-1]
    assert token.startswith("cairn_"), out.stdout
    return token


def auth(token: str | None, workspace: str | None = None) -> dict[str, str]:
    headers = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if workspace:
        headers["X-MLflow-Workspace"] = workspace
    return headers


def make_token(url, admin, principal, tenant, roles, **extra) -> str:
    r = requests.post(f"{url}/api/v1/tokens", headers=auth(admin),
                      json={"principal": principal, "tenant": tenant, "roles": roles, **extra})
    assert r.status_code == 200, r.text
    return r.json()["token"]


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """A server with API tokens on, two tenants and a token per role in tenant team-a."""
    from server_process import ServerProcess
    data = tmp_path_factory.mktemp("secured") / "data"
    admin = bootstrap(data)
    proc = ServerProcess("cairn", data, extra_args=("--auth", "token"), workers=1).start()
    url = proc.url
    for tenant in ("team-a", "team-b"):
        r = requests.post(f"{url}/api/v1/tenants", headers=auth(admin), json={"name": tenant})
        assert r.status_code == 200, r.text
    tokens = {role: make_token(url, admin, f"{role}-bot", "team-a", [role])
              for role in ("viewer", "editor", "deployer", "predictor", "admin")}
    tokens["b-admin"] = make_token(url, admin, "b-admin", "team-b", ["admin"])
    yield {"url": url, "admin": admin, "tokens": tokens, "proc": proc, "data": data}
    assert proc.stop() == 0, proc.log_tail()


def test_missing_and_bad_credentials_are_401_with_a_challenge(secured):
    url = secured["url"]
    bodies = set()
    for headers in ({}, {"Authorization": "Bearer cairn_0123456789abcdef_" + "A" * 43},
                    {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic !!!"},
                    {"Authorization": "Digest x"},
                    {"Authorization": "Bearer " + secured["admin"][:-1] + "B"}):
        r = requests.get(f"{url}/api/2.0/mlflow/experiments/search?max_results=1",
                         headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert "Bearer" in r.headers["WWW-Authenticate"]
        assert "Basic" in r.headers["WWW-Authenticate"]
        bodies.add(r.text)
    # The body never says which check failed.
    assert len(bodies) == 1
    # Public routes need no credentials.
    assert requests.get(f"{url}/health").status_code == 200
    assert requests.get(f"{url}/v2/health/live").status_code == 200
    assert requests.get(f"{url}/api/v1/openapi.json").status_code == 200


def test_roles_allow_and_deny_per_permission(secured):
    url, t = secured["url"], secured["tokens"]
    search = f"{url}/api/2.0/mlflow/experiments/search?max_results=1"
    create = f"{url}/api/2.0/mlflow/experiments/create"
    expect_read = {"viewer": 200, "editor": 200, "deployer": 200, "predictor": 403, "admin": 200}
    for role, code in expect_read.items():
        r = requests.get(search, headers=auth(t[role]))
        assert r.status_code == code, (role, r.text)
    expect_write = {"viewer": 403, "editor": 200, "deployer": 403, "predictor": 403,
                    "admin": 200}
    for role, code in expect_write.items():
        r = requests.post(create, headers=auth(t[role]), json={"name": f"roles-{role}"})
        assert r.status_code == code, (role, r.text)
        if code == 403:
            assert r.json()["error_code"] == "PERMISSION_DENIED"
    # Admin APIs: a tenant admin manages its tenant's tokens, not tenants or other tenants.
    assert requests.get(f"{url}/api/v1/tokens", headers=auth(t["admin"])).status_code == 200
    assert requests.get(f"{url}/api/v1/tokens", headers=auth(t["editor"])).status_code == 403
    assert requests.get(f"{url}/api/v1/tenants", headers=auth(t["admin"])).status_code == 403
    r = requests.post(f"{url}/api/v1/tokens", headers=auth(t["admin"]),
                      json={"principal": "x", "tenant": "team-b", "roles": ["viewer"]})
    assert r.status_code == 403, r.text
    r = requests.post(f"{url}/api/v1/tokens", headers=auth(t["admin"]),
                      json={"principal": "x", "tenant": "*", "roles": ["admin"]})
    assert r.status_code == 403, r.text
    # Whoami shows the caller's view.
    me = requests.get(f"{url}/api/v1/whoami", headers=auth(t["deployer"])).json()
    assert me["principal"] == "deployer-bot" and me["tenant"] == "team-a"
    assert me["roles"] == ["deployer"]


def test_no_cross_tenant_reads_or_writes(secured):
    url, t = secured["url"], secured["tokens"]
    r = requests.post(f"{url}/api/2.0/mlflow/experiments/create", headers=auth(t["editor"]),
                      json={"name": "team-a-secret"})
    assert r.status_code == 200, r.text
    exp_id = r.json()["experiment_id"]
    # team-a's editor cannot select team-b, and team-b's admin cannot select team-a.
    for token, workspace in ((t["editor"], "team-b"), (t["b-admin"], "team-a"),
                             (t["admin"], "team-b")):
        for method, path, body in (
                ("GET", f"/api/2.0/mlflow/experiments/get?experiment_id={exp_id}", None),
                ("POST", "/api/2.0/mlflow/experiments/create", {"name": "intruder"}),
                ("GET", "/api/2.0/mlflow/registered-models/search", None)):
            r = requests.request(method, url + path, headers=auth(token, workspace), json=body)
            assert r.status_code == 403, (workspace, path, r.text)
    # In its own tenant, team-b's admin does not see team-a's experiment.
    r = requests.get(f"{url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=team-a-secret",
                     headers=auth(t["b-admin"]))
    assert r.status_code == 404, r.text
    r = requests.get(f"{url}/api/2.0/mlflow/experiments/get?experiment_id={exp_id}",
                     headers=auth(t["b-admin"]))
    assert r.status_code == 404, r.text
    # The server administrator ("*") may address any tenant.
    r = requests.get(f"{url}/api/2.0/mlflow/experiments/get?experiment_id={exp_id}",
                     headers=auth(secured["admin"], "team-a"))
    assert r.status_code == 200, r.text


def test_mlflow_client_with_token_and_basic_auth(secured, monkeypatch):
    url, t = secured["url"], secured["tokens"]
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", t["editor"])
    client = mlflow.MlflowClient(tracking_uri=url)
    exp = client.create_experiment("client-token")
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "m", 1.0)
    client.log_param(run.info.run_id, "p", "v")
    client.create_registered_model("client-token-model")
    assert client.get_run(run.info.run_id).data.metrics["m"] == 1.0

    monkeypatch.delenv("MLFLOW_TRACKING_TOKEN")
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "editor-bot")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", t["editor"])
    client = mlflow.MlflowClient(tracking_uri=url)
    client.log_metric(run.info.run_id, "m", 2.0, step=1)
    assert [m.value for m in client.get_metric_history(run.info.run_id, "m")] == [1.0, 2.0]
    # Basic auth with another principal's name is refused.
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "someone-else")
    with pytest.raises(MlflowException) as failed:
        mlflow.MlflowClient(tracking_uri=url).get_run(run.info.run_id)
    assert "401" in str(failed.value) or "UNAUTHENTICATED" in str(failed.value)

    # A viewer reads, and is denied when it writes.
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME")
    monkeypatch.delenv("MLFLOW_TRACKING_PASSWORD")
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", t["viewer"])
    viewer = mlflow.MlflowClient(tracking_uri=url)
    assert viewer.get_run(run.info.run_id).data.params["p"] == "v"
    with pytest.raises(MlflowException) as denied:
        viewer.log_metric(run.info.run_id, "m", 3.0)
    assert "PERMISSION_DENIED" in str(denied.value)
    with pytest.raises(MlflowException):
        viewer.create_experiment("viewer-cannot")


def test_revoked_and_expired_tokens_stop_working(secured):
    url, admin = secured["url"], secured["admin"]
    r = requests.post(f"{url}/api/v1/tokens", headers=auth(admin),
                      json={"principal": "short", "tenant": "team-a", "roles": ["viewer"],
                            "expires_in": 1})
    short = r.json()["token"]
    r = requests.post(f"{url}/api/v1/tokens", headers=auth(admin),
                      json={"principal": "revoked", "tenant": "team-a", "roles": ["viewer"]})
    revoked, revoked_id = r.json()["token"], r.json()["id"]
    search = f"{url}/api/2.0/mlflow/experiments/search?max_results=1"
    assert requests.get(search, headers=auth(short)).status_code == 200
    assert requests.get(search, headers=auth(revoked)).status_code == 200
    r = requests.delete(f"{url}/api/v1/tokens/{revoked_id}", headers=auth(admin))
    assert r.status_code == 200 and r.json()["revoked_at"] > 0
    assert requests.get(search, headers=auth(revoked)).status_code == 401
    time.sleep(1.2)
    assert requests.get(search, headers=auth(short)).status_code == 401
    # Listing shows ids, never secrets or hashes.
    listing = requests.get(f"{url}/api/v1/tokens?tenant=team-a", headers=auth(admin)).text
    assert revoked not in listing and short not in listing
    assert revoked.split("_", 2)[2] not in listing
    assert "secret" not in listing


def test_bad_admin_input_is_a_clear_400(secured):
    url, admin = secured["url"], secured["admin"]
    cases = [
        ("POST", "/api/v1/tokens", {"principal": "x", "roles": ["owner"]}),
        ("POST", "/api/v1/tokens", {"principal": "x", "roles": []}),
        ("POST", "/api/v1/tokens", {"principal": "", "roles": ["viewer"]}),
        ("POST", "/api/v1/tokens", {"principal": "x", "roles": ["viewer"], "expires_in": "soon"}),
        ("POST", "/api/v1/tokens", {"principal": "x", "roles": ["viewer"], "extra": 1}),
        ("POST", "/api/v1/tokens", {"principal": "x", "tenant": "nope", "roles": ["viewer"]}),
        ("POST", "/api/v1/tokens", {"principal": "a b", "roles": ["viewer"]}),
        ("POST", "/api/v1/tenants", {"name": "Bad Name"}),
        ("POST", "/api/v1/tenants", {"name": "x" * 64}),
        ("PUT", "/api/v1/rate-limits/team-a", {"control": {"rate": -1}}),
        ("PUT", "/api/v1/rate-limits/team-a", {"bogus": {}}),
        ("POST", "/api/v1/role-bindings", {"principal": "x", "role": "root"}),
    ]
    for method, path, body in cases:
        r = requests.request(method, url + path, headers=auth(admin, "team-a"), json=body)
        assert r.status_code == 400, (path, body, r.text)
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE", r.text
    r = requests.post(f"{url}/api/v1/tokens", headers={**auth(admin), "Content-Type": "x"},
                      data=b"{not json")
    assert r.status_code == 400
    r = requests.post(f"{url}/api/v1/tokens", headers=auth(admin), data=b"x" * (70 << 10))
    assert r.status_code == 413


def test_role_bindings_grant_roles_across_tenants(secured):
    url, admin = secured["url"], secured["admin"]
    token = make_token(url, admin, "multi", "team-a", ["viewer"])
    r = requests.get(f"{url}/api/2.0/mlflow/experiments/search?max_results=1",
                     headers=auth(token, "team-b"))
    assert r.status_code == 403
    r = requests.post(f"{url}/api/v1/role-bindings", headers=auth(admin, "team-b"),
                      json={"principal": "multi", "role": "editor"})
    assert r.status_code == 200, r.text
    r = requests.post(f"{url}/api/2.0/mlflow/experiments/create",
                      headers=auth(token, "team-b"), json={"name": "multi-in-b"})
    assert r.status_code == 200, r.text
    r = requests.delete(f"{url}/api/v1/role-bindings?principal=multi&role=editor",
                        headers=auth(admin, "team-b"))
    assert r.status_code == 200, r.text
    r = requests.get(f"{url}/api/2.0/mlflow/experiments/search?max_results=1",
                     headers=auth(token, "team-b"))
    assert r.status_code == 403
    # Disabling a principal refuses all its credentials at once.
    r = requests.post(f"{url}/api/v1/principals", headers=auth(admin),
                      json={"name": "multi", "disabled": True})
    assert r.status_code == 200, r.text
    r = requests.get(f"{url}/api/2.0/mlflow/experiments/search?max_results=1",
                     headers=auth(token))
    assert r.status_code == 401


def test_rate_limits_429_then_recover_and_tenants_do_not_starve_each_other(secured):
    url, admin, t = secured["url"], secured["admin"], secured["tokens"]
    r = requests.put(f"{url}/api/v1/rate-limits/team-b", headers=auth(admin),
                     json={"control": {"rate": 2, "burst": 3}})
    assert r.status_code == 200, r.text
    search = f"{url}/api/2.0/mlflow/experiments/search?max_results=1"
    codes = [requests.get(search, headers=auth(t["b-admin"])).status_code for _ in range(6)]
    assert codes[:3] == [200, 200, 200] and 429 in codes[3:], codes
    r = requests.get(search, headers=auth(t["b-admin"]))
    if r.status_code == 429:
        assert int(r.headers["Retry-After"]) >= 1
        assert r.json()["error_code"] == "RESOURCE_EXHAUSTED"
    # team-a is not slowed by team-b's budget.
    assert all(requests.get(search, headers=auth(t["viewer"])).status_code == 200
               for _ in range(20))
    time.sleep(1.1)
    assert requests.get(search, headers=auth(t["b-admin"])).status_code == 200
    metrics = requests.get(f"{url}/metrics", headers=auth(admin)).text
    assert 'cairn_rate_limited_total{class="control",tenant="team-b"}' in metrics
    assert requests.delete(f"{url}/api/v1/rate-limits/team-b",
                           headers=auth(admin)).status_code == 200
    # /metrics needs a server-wide role, and never shows a secret.
    assert requests.get(f"{url}/metrics", headers=auth(t["admin"])).status_code == 403
    for token in secured["tokens"].values():
        assert token not in metrics


def test_every_mutation_leaves_exactly_one_audit_entry(secured):
    url, t, admin = secured["url"], secured["tokens"], secured["admin"]
    ids = []
    for i in range(10):
        rid = f"audit-{i}-{time.time_ns()}"
        ids.append(rid)
        r = requests.post(f"{url}/api/2.0/mlflow/experiments/create",
                          headers={**auth(t["editor"]), "X-Request-Id": rid},
                          json={"name": f"audited-{rid}"})
        assert r.status_code == 200, r.text
    denied = f"denied-{time.time_ns()}"
    requests.post(f"{url}/api/2.0/mlflow/experiments/create",
                  headers={**auth(t["viewer"]), "X-Request-Id": denied}, json={"name": "no"})
    failed = f"unauth-{time.time_ns()}"
    requests.get(f"{url}/api/2.0/mlflow/experiments/search",
                 headers={"Authorization": "Bearer nope", "X-Request-Id": failed})
    read = f"read-{time.time_ns()}"
    requests.get(f"{url}/api/2.0/mlflow/experiments/search?max_results=1",
                 headers={**auth(t["viewer"]), "X-Request-Id": read})
    time.sleep(0.3)  # denials are recorded without holding their answer
    entries = []
    page = ""
    while True:
        r = requests.get(f"{url}/api/v1/audit?max_results=1000{page}", headers=auth(admin))
        assert r.status_code == 200, r.text
        body = r.json()
        entries += body["entries"]
        if "next_page_token" not in body:
            break
        page = f"&page_token={body['next_page_token']}"
    by_id = {}
    for e in entries:
        by_id.setdefault(e["request_id"], []).append(e)
    for rid in ids:
        assert len(by_id.get(rid, [])) == 1, rid
        e = by_id[rid][0]
        assert e["principal"] == "editor-bot" and e["tenant"] == "team-a"
        assert e["action"] == "POST /api/2.0/mlflow/experiments/create"
        assert e["outcome"] == "ok" and e["status"] == 200 and e["client"] == "127.0.0.1"
        assert e["resource"] == f"name=audited-{rid}"
    assert [e["outcome"] for e in by_id[denied]] == ["denied"]
    assert [e["outcome"] for e in by_id[failed]] == ["unauthenticated"]
    assert read not in by_id  # reads are not audited
    # A tenant admin sees only its tenant; the export is JSON lines.
    own = requests.get(f"{url}/api/v1/audit?max_results=1000", headers=auth(t["admin"])).json()
    assert {e["tenant"] for e in own["entries"]} <= {"team-a"}
    assert requests.get(f"{url}/api/v1/audit?tenant=team-b",
                        headers=auth(t["admin"])).status_code == 403
    export = requests.get(f"{url}/api/v1/audit/export", headers=auth(admin))
    assert export.status_code == 200
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert [e["seq"] for e in lines] == list(range(1, len(lines) + 1))
    verify = requests.get(f"{url}/api/v1/audit/verify", headers=auth(admin)).json()
    assert verify["ok"] is True and verify["checked"] >= len(ids)


def test_audit_tampering_is_detected(tmp_path, server_factory):
    data = tmp_path / "data"
    admin = bootstrap(data)
    server = server_factory(data_dir=data, extra_args=("--auth", "token"))
    for i in range(5):
        r = requests.post(f"{server.url}/api/2.0/mlflow/experiments/create", headers=auth(admin),
                          json={"name": f"tamper-{i}"})
        assert r.status_code == 200
    verify = subprocess.run([str(cairn_binary()), "admin", "audit-verify", "--data-dir",
                             str(data), *metadata_args(data)], capture_output=True, text=True,
                            timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert server.stop() == 0
    store = metadata_args(data)
    if store:  # the audit log sits beside the metadata in PostgreSQL
        base, schema = store[1].split("?schema=")
        subprocess.run(["psql", base, "-qc", f"SET search_path TO {schema}; UPDATE audit_entries "
                        "SET principal = convert_to('someone-else', 'UTF8') WHERE seq = 2"],
                       check=True, capture_output=True)
    else:
        db = sqlite3.connect(data / "audit.db")
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        table = next(t for t in tables if "entr" in t or "audit" in t)
        db.execute(f"UPDATE {table} SET principal = 'someone-else' WHERE seq = 2")
        db.commit()
        db.close()
    verify = subprocess.run([str(cairn_binary()), "admin", "audit-verify", "--data-dir",
                             str(data), *metadata_args(data)], capture_output=True, text=True,
                            timeout=60)
    assert verify.returncode == 1, verify.stdout + verify.stderr
    assert "entry 2" in verify.stdout
    server.restart()
    r = requests.get(f"{server.url}/api/v1/audit/verify", headers=auth(admin)).json()
    assert r["ok"] is False and r["first_bad_seq"] == 2


def test_cli_tokens_tenants_roles_and_rate_limits(secured):
    env = {**os.environ, "CAIRN_SERVER": secured["url"], "CAIRN_TOKEN": secured["admin"]}

    def cli(*args):
        return subprocess.run([str(cairn_binary()), *args], capture_output=True, text=True,
                              env=env, timeout=60)

    out = cli("tenants", "create", "team-cli")
    assert out.returncode == 0, out.stderr
    out = cli("tokens", "create", "--principal", "cli-bot", "--tenant", "team-cli",
              "--role", "editor", "--role", "viewer", "--expires-in", "7d")
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip().splitlines()[-1]
    assert token.startswith("cairn_")
    out = cli("tokens", "list", "--tenant", "team-cli")
    assert out.returncode == 0 and "cli-bot" in out.stdout and token not in out.stdout
    token_id = token.split("_")[1]
    out = cli("roles", "grant", "cli-bot", "deployer", "--tenant", "team-cli")
    assert out.returncode == 0, out.stderr
    out = cli("roles", "list", "--tenant", "team-cli")
    assert "deployer" in out.stdout
    out = cli("rate-limits", "set", "team-cli", "--control", "50:100", "--predict", "1000")
    assert out.returncode == 0, out.stderr
    assert "team-cli" in cli("rate-limits", "list").stdout
    # The new token drives the other commands through CAIRN_TOKEN.
    user_env = {**env, "CAIRN_TOKEN": token}
    out = subprocess.run([str(cairn_binary()), "models", "versions", "nope"],
                         capture_output=True, text=True, env=user_env, timeout=60)
    assert "RESOURCE_DOES_NOT_EXIST" in out.stderr or "not found" in out.stderr.lower()
    out = cli("tokens", "revoke", token_id)
    assert out.returncode == 0, out.stderr
    out = subprocess.run([str(cairn_binary()), "models", "versions", "nope"],
                         capture_output=True, text=True, env=user_env, timeout=60)
    assert out.returncode == 1 and "UNAUTHENTICATED" in out.stderr
    out = cli("audit", "verify")
    assert out.returncode == 0 and "intact" in out.stdout, out.stdout + out.stderr
    out = cli("audit", "list", "--action", "POST /api/v1/tokens")
    assert out.returncode == 0 and "admin" in out.stdout
    out = cli("tokens", "create", "--principal", "x", "--role", "owner")
    assert out.returncode == 1 and "INVALID_PARAMETER_VALUE" in out.stderr


def test_bootstrap_is_idempotent_only_with_force(tmp_path):
    data = tmp_path / "data"
    bootstrap(data)
    again = subprocess.run([str(cairn_binary()), "admin", "bootstrap", "--data-dir", str(data),
                            *metadata_args(data)],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "already" in again.stderr
    assert bootstrap(data, "--force").startswith("cairn_")


def test_auth_none_on_a_public_address_warns(tmp_path, server_factory):
    server = server_factory(extra_args=("--auth", "none"))
    assert "authentication is off" not in server.log_path.read_text()
    server.stop()
    from server_process import ServerProcess
    proc = ServerProcess("cairn", tmp_path / "public", extra_args=("--auth", "none"), workers=1)
    proc.command = lambda: [str(cairn_binary()), "server", "--host", "0.0.0.0", "--port",
                            str(proc.port), "--data-dir", str(proc.data_dir)]
    server_factory.servers.append(proc)
    proc.start()
    assert "authentication is off" in proc.log_path.read_text()
    assert proc.stop() == 0


# -- JWT ----------------------------------------------------------------------------------


class Jwks:
    """A JWKS endpoint on loopback that counts its fetches."""

    def __init__(self):
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.fetches = 0
        keys = []
        for kid, key, alg in (("rsa-1", self.rsa, "RS256"), ("ec-1", self.ec, "ES256")):
            jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(
                key.public_key()))
            jwk.update({"kid": kid, "alg": alg, "use": "sig"})
            keys.append(jwk)
        body = json.dumps({"keys": keys}).encode()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.fetches += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def sign(self, claims=None, *, kid="rsa-1", alg="RS256", key=None, headers=None, **extra):
        now = int(time.time())
        payload = {"sub": "alice", "iss": "https://idp.test", "aud": "cairn", "iat": now,
                   "exp": now + 300, "tenant": "team-a", "roles": ["editor"], **extra}
        if claims is not None:
            payload = claims
        if key is None:
            key = self.rsa if alg == "RS256" else self.ec
        return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid, **(headers or {})})


@pytest.fixture(scope="module")
def jwt_server(tmp_path_factory):
    from server_process import ServerProcess
    jwks = Jwks()
    data = tmp_path_factory.mktemp("jwt") / "data"
    admin = bootstrap(data)
    proc = ServerProcess("cairn", data, workers=1, extra_args=(
        "--auth", "token,jwt", "--jwt-jwks-url", jwks.url, "--jwt-issuer", "https://idp.test",
        "--jwt-audience", "cairn,other", "--jwt-leeway-s", "5")).start()
    requests.post(f"{proc.url}/api/v1/tenants", headers=auth(admin), json={"name": "team-a"})
    yield {"url": proc.url, "jwks": jwks, "admin": admin, "proc": proc}
    assert proc.stop() == 0, proc.log_tail()
    jwks.httpd.shutdown()


def test_valid_jwts_authenticate_with_their_claims(jwt_server):
    url, jwks = jwt_server["url"], jwt_server["jwks"]
    r = requests.get(f"{url}/api/v1/whoami", headers=auth(jwks.sign()))
    assert r.status_code == 200, r.text
    assert r.json()["principal"] == "alice" and r.json()["tenant"] == "team-a"
    assert r.json()["roles"] == ["editor"]
    ec_token = jwks.sign(kid="ec-1", alg="ES256", aud=["x", "other"])
    assert requests.get(f"{url}/api/v1/whoami", headers=auth(ec_token)).status_code == 200
    r = requests.post(f"{url}/api/2.0/mlflow/experiments/create", headers=auth(jwks.sign()),
                      json={"name": "jwt-made"})
    assert r.status_code == 200, r.text
    viewer = jwks.sign(roles=["viewer"], sub="bob")
    r = requests.post(f"{url}/api/2.0/mlflow/experiments/create", headers=auth(viewer),
                      json={"name": "jwt-denied"})
    assert r.status_code == 403
    # The MLflow client sends a JWT as MLFLOW_TRACKING_TOKEN unchanged.
    os.environ["MLFLOW_TRACKING_TOKEN"] = jwks.sign()
    try:
        client = mlflow.MlflowClient(tracking_uri=url)
        assert client.get_experiment_by_name("jwt-made") is not None
    finally:
        del os.environ["MLFLOW_TRACKING_TOKEN"]


def test_jwt_attacks_are_refused(jwt_server):
    url, jwks = jwt_server["url"], jwt_server["jwks"]
    now = int(time.time())
    public_pem = jwks.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    good = jwks.sign()
    head, payload, sig = good.split(".")

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    none_header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "rsa-1"}).encode())
    # Alg confusion: HS256 "signed" with the RSA public key's PEM as the shared secret.
    forged = _hmac_token(json.dumps({"sub": "eve", "iss": "https://idp.test", "aud": "cairn",
                                     "exp": now + 300, "tenant": "team-a",
                                     "roles": ["admin"]}).encode(), public_pem, kid="rsa-1")
    duplicated = (b64(json.dumps({"alg": "RS256", "kid": "rsa-1"}).encode()) + "." +
                  b64(b'{"sub":"alice","sub":"admin","iss":"https://idp.test","aud":"cairn",'
                      b'"exp":' + str(now + 300).encode() + b'}'))
    swapped = json.dumps({"sub": "admin", "iss": "https://idp.test", "aud": "cairn",
                          "exp": now + 300, "roles": ["admin"], "tenant": "team-a"}).encode()
    attacks = {
        "alg none": f"{none_header}.{payload}.",
        "alg none with signature": f"{none_header}.{payload}.{sig}",
        "expired": jwks.sign(exp=now - 60),
        "not yet valid": jwks.sign(nbf=now + 600),
        "wrong issuer": jwks.sign(iss="https://evil.test"),
        "wrong audience": jwks.sign(aud="someone-else"),
        "bad signature": f"{head}.{payload}.{sig[:-4]}AAAA",
        "payload swapped": f"{head}.{b64(swapped)}.{sig}",
        "unknown kid": jwks.sign(kid="rsa-unknown"),
        "truncated": good[: len(good) // 2],
        "two parts": f"{head}.{payload}",
        "oversized": jwks.sign(pad="x" * 20000),
        "duplicated claims": duplicated + "." + sig,
        "ES256 header on an RSA signature": jwks.sign(kid="ec-1", alg="RS256", key=jwks.rsa),
        "garbage": "a.b.c",
        "HS256 signed with the RSA public key": forged,
    }
    for name, token in attacks.items():
        r = requests.get(f"{url}/api/v1/whoami", headers=auth(token))
        assert r.status_code == 401, (name, r.status_code, r.text)
    # Unknown kids refresh the JWKS at most once per interval, not per request.
    before = jwks.fetches
    for i in range(20):
        requests.get(f"{url}/api/v1/whoami", headers=auth(jwks.sign(kid=f"random-{i}")))
    assert jwks.fetches - before <= 1


def _hmac_token(payload: bytes, secret: bytes, kid: str) -> str:
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode()) + "." + b64(
        payload)
    mac = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return signing + "." + b64(mac)
