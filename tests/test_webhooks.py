"""MLflow registry webhooks: the official MlflowClient manages them and a real HTTP receiver on
loopback gets the deliveries, checked against MLflow's payloads and its signature recipe.

Both targets run with loopback http receivers allowed: Cairn with
--registry-webhook-allow=http,private-ips, the reference with MLFLOW_WEBHOOK_ALLOWED_SCHEMES and
MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS (and a one-second webhook cache, so a disabled webhook stops
receiving within the test).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
import uuid
from datetime import datetime, timezone

import mlflow
import pytest
import requests
from mlflow.exceptions import MlflowException
from mlflow.webhooks.delivery import _generate_hmac_signature

from server_process import ServerProcess

WAIT_S = 20.0
CACHE_TTL_S = 1.0


# -- the receiver ---------------------------------------------------------------------------

class Receiver:
    """Records every POST by path. /ok/<k> answers 200, /flaky/<k> 503 twice then 200,
    /missing/<k> 404."""

    def __init__(self):
        self.requests: dict[str, list[dict]] = {}
        self.cond = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                with receiver.cond:
                    seen = receiver.requests.setdefault(self.path, [])
                    seen.append({"headers": dict(self.headers), "body": body})
                    count = len(seen)
                    receiver.cond.notify_all()
                if self.path.startswith("/flaky/") and count <= 2:
                    status = 503
                elif self.path.startswith("/missing/"):
                    status = 404
                else:
                    status = 200
                reply = b'{"received": true}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, kind: str) -> tuple[str, str]:
        path = f"/{kind}/{uuid.uuid4().hex[:12]}"
        return self.base + path, path

    def wait(self, path: str, n: int, timeout: float = WAIT_S) -> list[dict]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.requests.get(path, [])) >= n, timeout), (
                f"{path}: got {len(self.requests.get(path, []))} of {n} deliveries")
            return list(self.requests[path])

    def got(self, path: str) -> list[dict]:
        with self.cond:
            return list(self.requests.get(path, []))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# -- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def wh_server(target, tmp_path_factory):
    if target == "cairn":
        # With an artifact master key, so every signed delivery below also shows that sealed
        # secrets open again on their way to the signer.
        base = tmp_path_factory.mktemp("webhooks")
        key_file = base / "master.key"
        key_file.write_text(uuid.uuid4().hex + uuid.uuid4().hex)
        proc = ServerProcess(target, base / "data", extra_args=(
            "--registry-webhook-allow", "http,private-ips", "--artifact-key-file", str(key_file)),
            workers=1)
    else:
        proc = ServerProcess(target, tmp_path_factory.mktemp("webhooks") / "data", env={
            "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
            "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
            "MLFLOW_WEBHOOK_CACHE_TTL": str(int(CACHE_TTL_S)),
        }, workers=1)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(autouse=True)
def _mlflow_client_state(wh_server, monkeypatch):
    """This module's own server replaces the session one (see conftest.py)."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", wh_server.url)
    mlflow.set_tracking_uri(wh_server.url)
    yield
    mlflow.set_tracking_uri(None)


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def client(wh_server):
    return mlflow.MlflowClient(tracking_uri=wh_server.url)


@pytest.fixture
def api(wh_server):
    return f"{wh_server.url}/api/2.0/mlflow"


def settle():
    """Waits out the reference server's webhook list cache after a webhook changed."""
    time.sleep(CACHE_TTL_S + 0.3)


def name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


# -- checks ---------------------------------------------------------------------------------

def verify_signature(payload: str, signature: str, secret: str, delivery_id: str,
                     timestamp: str) -> bool:
    """The receiver recipe of MLflow's webhook documentation."""
    if not signature or not signature.startswith("v1,"):
        return False
    if abs(time.time() - int(timestamp)) > 300:
        return False
    signed_content = f"{delivery_id}.{timestamp}.{payload}"
    expected = base64.b64encode(hmac.new(secret.encode("utf-8"), signed_content.encode("utf-8"),
                                         hashlib.sha256).digest()).decode("utf-8")
    return hmac.compare_digest(signature[3:], expected)


def check_delivery(request: dict, secret: str | None, entity: str, action: str,
                   data: dict) -> None:
    headers = {k.lower(): v for k, v in request["headers"].items()}
    body = request["body"]
    assert headers["content-type"] == "application/json"
    delivery_id = headers["x-mlflow-delivery-id"]
    assert str(uuid.UUID(delivery_id)) == delivery_id
    timestamp = headers["x-mlflow-timestamp"]
    if secret is None:
        assert "x-mlflow-signature" not in headers
    else:
        signature = headers["x-mlflow-signature"]
        assert verify_signature(body, signature, secret, delivery_id, timestamp)
        assert signature == _generate_hmac_signature(secret, delivery_id, timestamp, body)
    payload = json.loads(body)
    assert list(payload) == ["entity", "action", "timestamp", "data"]
    assert payload["entity"] == entity
    assert payload["action"] == action
    sent_at = datetime.fromisoformat(payload["timestamp"])
    assert sent_at.tzinfo == timezone.utc
    assert abs(sent_at.timestamp() - time.time()) < 300
    assert abs(sent_at.timestamp() - int(timestamp)) < 5
    assert payload["data"] == data


MODEL_EVENTS = ["registered_model.created", "model_version.created", "model_version_tag.set",
                "model_version_tag.deleted", "model_version_alias.created",
                "model_version_alias.deleted"]


# -- tests ----------------------------------------------------------------------------------

def test_registry_events_deliver_mlflows_payloads(client, receiver):
    url, path = receiver.url("ok")
    secret = "whsec-" + uuid.uuid4().hex
    hook = client.create_webhook(name("all"), url, MODEL_EVENTS, description="every model event",
                                 secret=secret)
    assert hook.status == "ACTIVE"
    assert sorted(str(e) for e in hook.events) == sorted(MODEL_EVENTS)
    model = name("model")
    settle()

    client.create_registered_model(model, tags={"team": "a", "stage": "x"}, description="d")
    got = receiver.wait(path, 1)
    check_delivery(got[0], secret, "registered_model", "created",
                   {"name": model, "tags": {"team": "a", "stage": "x"}, "description": "d"})

    exp = client.create_experiment(name("exp"))
    run_id = client.create_run(exp).info.run_id
    source = f"runs:/{run_id}/model"
    mv = client.create_model_version(model, source, run_id=run_id, tags={"k": "v"})
    got = receiver.wait(path, 2)
    check_delivery(got[1], secret, "model_version", "created",
                   {"name": model, "version": mv.version, "source": source, "run_id": run_id,
                    "tags": {"k": "v"}, "description": None})

    client.set_model_version_tag(model, mv.version, "quality", "good")
    got = receiver.wait(path, 3)
    check_delivery(got[2], secret, "model_version_tag", "set",
                   {"name": model, "version": mv.version, "key": "quality", "value": "good"})

    client.delete_model_version_tag(model, mv.version, "quality")
    got = receiver.wait(path, 4)
    check_delivery(got[3], secret, "model_version_tag", "deleted",
                   {"name": model, "version": mv.version, "key": "quality"})

    client.set_registered_model_alias(model, "champion", mv.version)
    got = receiver.wait(path, 5)
    check_delivery(got[4], secret, "model_version_alias", "created",
                   {"name": model, "alias": "champion", "version": mv.version})

    client.delete_registered_model_alias(model, "champion")
    got = receiver.wait(path, 6)
    check_delivery(got[5], secret, "model_version_alias", "deleted",
                   {"name": model, "alias": "champion"})

    # A registered model's own tags are no model event; nothing more arrives.
    client.set_registered_model_tag(model, "x", "y")
    time.sleep(1.0)
    assert len(receiver.got(path)) == 6


def test_only_subscribed_events_are_delivered_unsigned_without_secret(client, receiver):
    url, path = receiver.url("ok")
    client.create_webhook(name("alias-only"), url, ["model_version_alias.created"])
    settle()
    model = name("model")
    client.create_registered_model(model)
    exp = client.create_experiment(name("exp"))
    run_id = client.create_run(exp).info.run_id
    mv = client.create_model_version(model, f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(model, "prod", mv.version)
    got = receiver.wait(path, 1)
    check_delivery(got[0], None, "model_version_alias", "created",
                   {"name": model, "alias": "prod", "version": mv.version})
    time.sleep(1.0)
    assert len(receiver.got(path)) == 1


def test_test_webhook_sends_the_example_payload(client, receiver):
    url, path = receiver.url("ok")
    hook = client.create_webhook(name("tested"), url,
                                 ["model_version_tag.set", "registered_model.created"],
                                 secret="s3cret")
    result = client.test_webhook(hook.webhook_id)
    assert result.success is True
    assert result.response_status == 200
    assert json.loads(result.response_body) == {"received": True}
    assert result.error_message is None
    got = receiver.wait(path, 1)
    check_delivery(got[0], "s3cret", "model_version_tag", "set",
                   {"name": "example_model", "version": "1", "key": "example_key",
                    "value": "example_value"})

    result = client.test_webhook(hook.webhook_id, event="prompt_version.created")
    assert result.success is True
    got = receiver.wait(path, 2)
    check_delivery(got[1], "s3cret", "prompt_version", "created",
                   {"name": "example_prompt", "version": "1", "template": "Hello {{name}}!",
                    "tags": {"example_key": "example_value"},
                    "description": "An example prompt version"})

    missing_url, missing_path = receiver.url("missing")
    refused = client.create_webhook(name("refused"), missing_url, ["registered_model.created"])
    result = client.test_webhook(refused.webhook_id)
    assert result.success is False
    assert result.response_status == 404
    assert len(receiver.wait(missing_path, 1)) == 1

    closed = client.create_webhook(name("closed"), "http://127.0.0.1:9/nothing",
                                   ["registered_model.created"])
    result = client.test_webhook(closed.webhook_id)
    assert result.success is False
    assert result.response_status is None
    assert result.error_message.startswith("Failed to test webhook: ")


def test_disabled_webhook_gets_nothing_until_enabled_again(client, receiver):
    url, path = receiver.url("ok")
    hook = client.create_webhook(name("toggled"), url, ["registered_model.created"])
    settle()
    client.create_registered_model(name("before"))
    assert len(receiver.wait(path, 1)) == 1

    updated = client.update_webhook(hook.webhook_id, status="DISABLED")
    assert updated.status == "DISABLED"
    assert updated.last_updated_timestamp >= hook.last_updated_timestamp
    settle()
    client.create_registered_model(name("while-disabled"))
    time.sleep(1.5)
    assert len(receiver.got(path)) == 1

    client.update_webhook(hook.webhook_id, status="ACTIVE")
    settle()
    after = name("after")
    client.create_registered_model(after)
    got = receiver.wait(path, 2)
    assert json.loads(got[1]["body"])["data"]["name"] == after


def test_update_changes_only_given_fields_and_delete_removes(client, receiver):
    url, _ = receiver.url("ok")
    hook = client.create_webhook(name("upd"), url, ["registered_model.created"],
                                 description="first", secret="one")
    new_url, _ = receiver.url("ok")
    updated = client.update_webhook(hook.webhook_id, name="renamed", url=new_url,
                                    events=["model_version.created", "model_version_tag.set"])
    assert updated.name == "renamed"
    assert updated.url == new_url
    assert updated.description == "first"
    assert sorted(str(e) for e in updated.events) == [
        "model_version.created", "model_version_tag.set"]
    assert updated.creation_timestamp == hook.creation_timestamp
    got = client.get_webhook(hook.webhook_id)
    assert (got.name, got.url, got.description, got.status) == (
        "renamed", new_url, "first", updated.status)
    assert hook.webhook_id in {w.webhook_id for w in client.list_webhooks(max_results=1000)}

    client.delete_webhook(hook.webhook_id)
    with pytest.raises(MlflowException) as e:
        client.get_webhook(hook.webhook_id)
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert hook.webhook_id not in {w.webhook_id for w in client.list_webhooks(max_results=1000)}


def test_failing_receiver_gets_the_event_after_retries(client, receiver):
    url, path = receiver.url("flaky")
    client.create_webhook(name("flaky"), url, ["registered_model.created"], secret="k")
    settle()
    model = name("retried")
    client.create_registered_model(model)
    got = receiver.wait(path, 3, timeout=30)
    assert len({r["headers"]["X-MLflow-Delivery-Id"] for r in got}) == 1
    assert len({r["body"] for r in got}) == 1
    check_delivery(got[2], "k", "registered_model", "created",
                   {"name": model, "tags": {}, "description": ""})
    time.sleep(1.0)
    assert len(receiver.got(path)) == 3


def test_secret_is_never_returned(client, receiver, api):
    url, _ = receiver.url("ok")
    hook = client.create_webhook(name("secret"), url, ["registered_model.created"],
                                 secret="top-secret")
    assert hook.secret is None
    for body in (requests.get(f"{api}/webhooks/{hook.webhook_id}").json(),
                 requests.get(f"{api}/webhooks", params={"max_results": 1000}).json()):
        assert "top-secret" not in json.dumps(body)
    raw = requests.get(f"{api}/webhooks/{hook.webhook_id}").json()["webhook"]
    assert set(raw) == {"webhook_id", "name", "url", "events", "status", "creation_timestamp",
                        "last_updated_timestamp"}
    assert raw["events"] == [{"entity": "REGISTERED_MODEL", "action": "CREATED"}]
    assert isinstance(raw["creation_timestamp"], int)


@pytest.mark.cairn_only
def test_secrets_are_sealed_in_the_metadata_database(client, receiver, wh_server):
    url, path = receiver.url("ok")
    secret = "plain-" + uuid.uuid4().hex
    client.create_webhook(name("sealed"), url, ["registered_model.created"], secret=secret)
    client.create_registered_model(name("sealed-model"))
    got = receiver.wait(path, 1)
    assert got[0]["headers"]["X-MLflow-Signature"].startswith("v1,")
    for f in wh_server.data_dir.rglob("*"):
        if f.is_file():
            assert secret.encode() not in f.read_bytes(), f


def test_list_is_paged_newest_first(client, receiver):
    url, _ = receiver.url("ok")
    ids = [client.create_webhook(name(f"page{i}"), url, ["registered_model.created"]).webhook_id
           for i in range(3)]
    first = client.list_webhooks(max_results=2)
    assert [w.webhook_id for w in first] == ids[::-1][:2]
    assert first.token
    second = client.list_webhooks(max_results=2, page_token=first.token)
    assert second[0].webhook_id == ids[0]


def post(api: str, body: dict, path: str = "webhooks", method: str = "POST"):
    return requests.request(method, f"{api}/{path}", json=body)


def test_bad_input_gives_mlflows_errors(client, api, receiver):
    url, _ = receiver.url("ok")
    event = [{"entity": "REGISTERED_MODEL", "action": "CREATED"}]

    with pytest.raises(MlflowException) as e:
        client.create_webhook(name("bad-url"), "ftp://example.com/hook",
                              ["registered_model.created"])
    assert e.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "Invalid webhook URL scheme: 'ftp'" in e.value.message

    r = post(api, {"name": "h", "url": "http:///nohost", "events": event})
    assert r.status_code == 400
    assert r.json()["message"] == "Webhook URL must include a hostname: 'http:///nohost'"

    r = post(api, {"name": "h", "url": url,
                   "events": [{"entity": "REGISTERED_MODEL", "action": "DELETED"}]})
    assert r.status_code == 400
    assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert r.json()["message"] == ("Invalid action 'deleted' for entity 'registered_model'. "
                                   "Valid actions are: ['created']")

    for missing in ("name", "url"):
        body = {"name": "h", "url": url, "events": event}
        del body[missing]
        r = post(api, body)
        assert r.status_code == 400
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert r.json()["message"].startswith(f"Missing value for required parameter '{missing}'")

    r = post(api, {"name": "h", "url": url, "events": []})
    assert r.status_code == 400
    assert r.json()["message"] == (
        "Webhook events must be a non-empty list of WebhookEvent objects: [].")

    r = post(api, {"name": "bad name!", "url": url, "events": event})
    assert r.status_code == 400
    assert r.json()["message"].startswith("Webhook name 'bad name!' is invalid.")

    r = requests.get(f"{api}/webhooks", params={"max_results": 1001})
    assert r.status_code == 400
    assert r.json()["message"] == "max_results must be between 1 and 1000."

    unknown = uuid.uuid4().hex
    for method, path, body in (("GET", f"webhooks/{unknown}", None),
                               ("PATCH", f"webhooks/{unknown}", {"name": "x"}),
                               ("DELETE", f"webhooks/{unknown}", {}),
                               ("POST", f"webhooks/{unknown}/test", {})):
        r = requests.request(method, f"{api}/{path}", json=body)
        assert r.status_code == 404, (method, path)
        assert r.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
        assert r.json()["message"] == f"Webhook with ID {unknown} not found."
    with pytest.raises(MlflowException) as e:
        client.update_webhook(unknown, status="DISABLED")
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.cairn_only
def test_unknown_entity_is_a_client_error(api, receiver):
    # The reference server answers these with a 500.
    url, _ = receiver.url("ok")
    for event in ({"entity": "NOPE", "action": "CREATED"}, {"entity": "REGISTERED_MODEL"}):
        r = post(api, {"name": "h", "url": url, "events": [event]})
        assert r.status_code == 400
        assert r.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_prompt_changes_are_prompt_events(client, receiver):
    url, path = receiver.url("ok")
    client.create_webhook(name("prompts"), url, [
        "prompt.created", "prompt_version.created", "prompt_alias.created",
        "registered_model.created", "model_version.created"])
    settle()
    prompt = name("prompt")
    mlflow.genai.register_prompt(prompt, "Hello {{name}}!", commit_message="first",
                                 tags={"team": "nlp"})
    got = receiver.wait(path, 2)
    by_entity = {json.loads(r["body"])["entity"]: json.loads(r["body"])["data"] for r in got}
    assert by_entity == {
        "prompt": {"name": prompt, "tags": {"team": "nlp"}, "description": "first"},
        "prompt_version": {"name": prompt, "version": "1", "template": "Hello {{name}}!",
                           "tags": {"team": "nlp"}, "description": "first"},
    }
    mlflow.genai.set_prompt_alias(prompt, "prod", 1)
    got = receiver.wait(path, 3)
    alias = json.loads(got[2]["body"])
    assert (alias["entity"], alias["action"]) == ("prompt_alias", "created")
    assert alias["data"] == {"name": prompt, "alias": "prod", "version": "1"}


@pytest.mark.cairn_only
def test_models_registered_and_promoted_through_api_v1_are_events_too(client, receiver,
                                                                      wh_server):
    url, path = receiver.url("ok")
    secret = "whsec-" + uuid.uuid4().hex
    client.create_webhook(name("v1"), url, ["registered_model.created", "model_version.created",
                                            "model_version_alias.created"], secret=secret)
    model = name("v1-model")
    v1 = f"{wh_server.url}/api/v1/models"
    r = requests.post(f"{v1}/register", json={"name": model, "description": "from v1",
                                              "source": {"artifact_uri": "s3://bucket/m"}},
                      timeout=30)
    assert r.status_code == 201, r.text
    got = receiver.wait(path, 2)
    check_delivery(got[0], secret, "registered_model", "created",
                   {"name": model, "tags": {}, "description": ""})
    check_delivery(got[1], secret, "model_version", "created",
                   {"name": model, "version": "1", "source": "s3://bucket/m", "run_id": None,
                    "tags": {}, "description": "from v1"})

    # A stage transition has no MLflow event; pointing an alias is model_version_alias.created.
    r = requests.post(f"{v1}/{model}/promote", json={"version": 1, "stage": "Production"},
                      timeout=30)
    assert r.status_code == 200, r.text
    r = requests.post(f"{v1}/{model}/promote", json={"version": 1, "alias": "champion"},
                      timeout=30)
    assert r.status_code == 200, r.text
    got = receiver.wait(path, 3)
    check_delivery(got[2], secret, "model_version_alias", "created",
                   {"name": model, "alias": "champion", "version": "1"})
    time.sleep(1.0)
    assert len(receiver.got(path)) == 3
