"""The one exception type the client raises."""

from __future__ import annotations

from typing import Optional


class CairnError(Exception):
    """An error answered by a Cairn server, or a deployment that did not become ready.

    Attributes:
        status_code: the HTTP status of the answer; None when no answer carried the error (the
            server could not be reached, a deployment FAILED or did not become ready in time).
        error_code: MLflow's error code from the answer's envelope (e.g. "RESOURCE_DOES_NOT_EXIST",
            "INVALID_PARAMETER_VALUE"); "HTTP_<status>" when the answer had no envelope;
            "DEPLOYMENT_FAILED", "DEADLINE_EXCEEDED" or "CONNECTION_ERROR" for client-side
            conditions.
        message: the human-readable message.
    """

    def __init__(self, status_code: Optional[int], error_code: str, message: str):
        super().__init__(status_code, error_code, message)
        self.status_code = status_code
        self.error_code = error_code
        self.message = message

    def __str__(self) -> str:
        status = f"HTTP {self.status_code} " if self.status_code is not None else ""
        return f"{status}{self.error_code}: {self.message}"
