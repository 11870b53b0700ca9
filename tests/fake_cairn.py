"""A scripted in-process HTTP server for the Python client's unit tests.

It stands in for Cairn only to check how `cairn_client` shapes requests and reads answers (URLs,
headers, JSON bodies, polling, error envelopes): each route answers a scripted sequence of
responses and every request is recorded. Whether the real server accepts those requests is
tested end to end in test_deployments_client.py.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str  # as sent, percent-encoding kept
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw bytes when not JSON, or None when empty


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    content_type: str = "application/json"


@dataclass
class FakeCairn:
    """Routes (method, path) -> replies answered in order (the last one repeats)."""

    routes: dict[tuple[str, str], list[Reply]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def on(self, method: str, path: str, *replies: Any) -> None:
        """Scripts the answers of `method path`; a dict or list is a 200 JSON answer."""
        self.routes[(method, path)] = [r if isinstance(r, Reply) else Reply(200, r)
                                       for r in replies]

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [r for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)]

    def _answer(self, method: str, path: str) -> Reply:
        replies = self.routes.get((method, path))
        if not replies:
            return Reply(404, {"error_code": "ENDPOINT_NOT_FOUND",
                               "message": f"No API route for {method} {path}"})
        return replies.pop(0) if len(replies) > 1 else replies[0]


def _handler(fake: FakeCairn):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep pytest's output clean
            pass

        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            split = urlsplit(self.path)
            fake.requests.append(Recorded(self.command, split.path, parse_qs(split.query),
                                          {k.lower(): v for k, v in self.headers.items()}, body))
            reply = fake._answer(self.command, split.path)
            data = reply.body if isinstance(reply.body, bytes) else (
                b"" if reply.body is None else json.dumps(reply.body).encode())
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    return Handler


class FakeServer:
    """Runs a FakeCairn on 127.0.0.1 in a daemon thread."""

    def __init__(self):
        self.fake = FakeCairn()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake))
        self._server.daemon_threads = True
        self.fake.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    def __enter__(self) -> FakeCairn:
        self._thread.start()
        return self.fake

    def __exit__(self, *exc_info):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def status(name: str = "iris-v1", state: str = "READY", version: str = "1", **extra) -> dict:
    """A deployment status object as the spec describes it."""
    body = {
        "deployment_id": f"d-{name}", "name": name, "state": state, "reason": "",
        "model_name": "iris", "model_version": version, "runtime": "onnx", "device": "cpu",
        "replicas": {"desired": 1, "ready": 1 if state == "READY" else 0, "min": 1, "max": 1},
        "deployment_config": {}, "endpoints": {
            "invocations": f"/endpoints/{name}/invocations",
            "v2_infer": f"/v2/models/{name}/infer", "v2_metadata": f"/v2/models/{name}"},
        "created_at": 1, "updated_at": 2, "load_time_ms": 5, "predictions_dropped": 0,
    }
    body.update(extra)
    return body
