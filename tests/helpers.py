"""Small helpers shared by the integration tests."""

import os
import socket
import time

API = "/api/2.0/mlflow"
ARTIFACTS = "/api/2.0/mlflow-artifacts/artifacts"


def now_ms() -> int:
    return int(time.time() * 1000)


def assert_error(resp, status: int, code: str):
    """`resp` (a requests response) is the error envelope {"error_code", "message"} with
    HTTP `status` and error code `code`, and a non-empty message."""
    assert resp.status_code == status, f"{resp.status_code} {resp.text[:500]}"
    body = resp.json()
    assert body.get("error_code") == code, body
    assert isinstance(body.get("message"), str) and body["message"], body


def assert_mlflow_error(exc_info, code: str):
    """The MlflowException caught by `pytest.raises` carries error code `code`."""
    assert exc_info.value.error_code == code, str(exc_info.value)


class RawConnection:
    """A plain socket with a read buffer, for byte-level HTTP/1.1 tests."""

    def __init__(self, port: int, timeout: float = 15):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buf += chunk

    def read_until(self, marker: bytes) -> bytes:
        while marker not in self.buf:
            self._fill()
        out, _, self.buf = self.buf.partition(marker)
        return out + marker

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_response(self) -> tuple[int, dict[str, str], bytes]:
        """Reads one response (an interim 1xx response has no body)."""
        head = self.read_until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip()
                   for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
        if 100 <= status < 200 or status in (204, 304):
            return status, headers, b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.read_until(b"\r\n")[:-2].split(b";")[0], 16)
                if size == 0:
                    self.read_until(b"\r\n")
                    return status, headers, body
                body += self.read_exact(size)
                self.read_exact(2)
        return status, headers, self.read_exact(int(headers.get("content-length", "0")))


def service_uri(engine: str) -> str:
    """The URI of a test engine that scripts/test_services.sh started (CAIRN_TEST_<ENGINE>_URI).

    Skips the test when it is unset, or fails it when CAIRN_REQUIRE_SERVICES=1 (./dev.sh test
    sets it, so a missing engine can never pass there as a skip).
    """
    import pytest

    name = f"CAIRN_TEST_{engine}_URI"
    value = os.environ.get(name, "")
    if value:
        return value
    if os.environ.get("CAIRN_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{name} is unset but CAIRN_REQUIRE_SERVICES=1 (scripts/test_services.sh)")
    pytest.skip(f"{name} is unset (scripts/test_services.sh starts it)")
