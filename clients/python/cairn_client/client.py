"""`Client`: deployments, predictions and the prediction log of a Cairn server."""

from __future__ import annotations

import json
import time
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union
from urllib.parse import quote

import requests

from cairn_client import _payload
from cairn_client.errors import CairnError

DEPLOYMENTS = "/api/v1/deployments"
REGISTRY = "/api/2.0/mlflow"

# Deployment states (the `state` field of a status object).
READY = "READY"
FAILED = "FAILED"


def _segment(value: Union[str, int]) -> str:
    """`value` as one URL path segment."""
    text = str(value)
    if not text:
        raise ValueError("a deployment id or name must not be empty")
    return quote(text, safe="")


def _error_from(response: requests.Response) -> CairnError:
    """The CairnError for a non-2xx answer: MLflow's envelope {"error_code", "message"}, the V2
    protocol's {"error": ...}, or the bare status and body."""
    code = f"HTTP_{response.status_code}"
    message = response.text.strip() or response.reason or ""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body.get("error_code") or code)
        message = str(body.get("message") or body.get("error") or message)
    return CairnError(response.status_code, code, message)


class Client:
    """A client for one Cairn server (and one tenant).

    Args:
        url: the server's base URL, e.g. "http://127.0.0.1:5000" (a path prefix is kept).
        workspace: tenant, sent as the `X-MLflow-Workspace` header; None: the server's default.
        token: bearer token, sent as `Authorization: Bearer <token>`; None: no header.
        timeout: seconds each HTTP request may take.

    Every method raises CairnError for an error answer (status_code, error_code, message) and
    for a server that cannot be reached (status_code None, error_code "CONNECTION_ERROR").
    A Client keeps connections alive (one requests.Session): `close()` it, or use it as a context
    manager, when done. requests does not promise that a Session is thread-safe, so give each
    thread its own Client.
    """

    def __init__(self, url: str, workspace: Optional[str] = None, token: Optional[str] = None,
                 timeout: float = 60):
        if not url or not url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self.workspace = workspace
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers["User-Agent"] = "cairn-client-python"
        if workspace:
            self._session.headers["X-MLflow-Workspace"] = workspace
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        """Closes the kept-alive connections."""
        self._session.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client({self.url!r}, workspace={self.workspace!r})"

    # -- HTTP ---------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None,
                 params: Optional[Mapping[str, Any]] = None,
                 headers: Optional[Mapping[str, str]] = None) -> Any:
        """Sends one request and returns the answer's JSON (None for an empty body)."""
        data = None
        all_headers = {"Accept": "application/json"}
        if body is not None:
            data = _payload.dumps(body)
            all_headers["Content-Type"] = "application/json"
        if headers:
            all_headers.update(headers)
        try:
            response = self._session.request(method, self.url + path, data=data, params=params,
                                             headers=all_headers, timeout=self.timeout)
        except requests.RequestException as e:
            raise CairnError(None, "CONNECTION_ERROR",
                             f"{method} {self.url}{path} failed: {e}") from e
        if not 200 <= response.status_code < 300:
            raise _error_from(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as e:
            raise CairnError(response.status_code, "INVALID_RESPONSE",
                             f"{method} {path} answered non-JSON: {response.text[:200]!r}") from e

    # -- deployments --------------------------------------------------------------------------

    def deploy_model(self, model_name: str, version: Optional[Union[str, int]] = None,
                     alias: Optional[str] = None,
                     deployment_config: Optional[Mapping[str, Any]] = None,
                     name: Optional[str] = None, runtime: Optional[str] = None,
                     device: Optional[str] = None, options: Optional[Mapping[str, Any]] = None,
                     wait: bool = True, timeout: float = 120) -> Dict[str, Any]:
        """Deploys a registered model version and returns the deployment's status.

        Args:
            model_name: registered model name.
            version: model version to serve (exactly one of version and alias).
            alias: model alias to serve, e.g. "champion"; resolved by the server at deploy time.
            deployment_config: e.g. {"replicas": 1, "cpu": "1", "memory": "2Gi",
                "autoscaling": {"min": 1, "max": 3, "target_concurrency": 4}}.
            name: endpoint name ([a-z0-9-]); default derived by the server from the model name
                and version.
            runtime: "auto" (default: onnx when the model has an onnx flavor, else python),
                "onnx" or "python".
            device: "cpu" or "cuda".
            options: runtime options, e.g. {"intra_op_threads": 1, "log_predictions": True,
                "predict_timeout_ms": 60000}.
            wait: poll the status until the deployment is READY (or FAILED).
            timeout: seconds to wait for READY.

        Returns:
            The status object (state "READY" when `wait`; else usually "PENDING"/"LOADING").

        Raises:
            ValueError: both version and alias are given.
            CairnError: the server refused the deployment, it FAILED (error_code
                "DEPLOYMENT_FAILED", message the reason) or was not READY within `timeout`
                (error_code "DEADLINE_EXCEEDED").
        """
        if version is not None and alias is not None:
            raise ValueError("give either version or alias, not both")
        body: Dict[str, Any] = {"model_name": model_name}
        if version is not None:
            body["version"] = str(version)
        if alias is not None:
            body["alias"] = alias
        for key, value in (("name", name), ("runtime", runtime), ("device", device),
                           ("deployment_config", deployment_config), ("options", options)):
            if value is not None:
                body[key] = value
        status = self._request("POST", f"{DEPLOYMENTS}/create", body)
        if not wait:
            return status
        return self.wait_until_ready(status.get("deployment_id") or status["name"],
                                     timeout=timeout)

    def status(self, deployment: str) -> Dict[str, Any]:
        """The status object of a deployment, by deployment id or endpoint name."""
        return self._request("GET", f"{DEPLOYMENTS}/{_segment(deployment)}/status")

    def list_deployments(self) -> List[Dict[str, Any]]:
        """The status objects of every deployment of the tenant."""
        answer = self._request("GET", DEPLOYMENTS) or {}
        return list(answer.get("deployments", []))

    def scale(self, deployment: str, replicas: Optional[int] = None, min: Optional[int] = None,
              max: Optional[int] = None) -> Dict[str, Any]:
        """Sets the replica count and/or the autoscaling bounds; returns the status.

        Raises:
            ValueError: none of replicas, min, max is given.
        """
        body: Dict[str, Any] = {}
        if replicas is not None:
            body["replicas"] = int(replicas)
        autoscaling = {k: int(v) for k, v in (("min", min), ("max", max)) if v is not None}
        if autoscaling:
            body["autoscaling"] = autoscaling
        if not body:
            raise ValueError("give replicas, min or max")
        return self._request("PUT", f"{DEPLOYMENTS}/{_segment(deployment)}/scale", body)

    def update(self, deployment: str, version: Optional[Union[str, int]] = None,
               alias: Optional[str] = None, wait: bool = True, timeout: float = 120, *,
               model_name: Optional[str] = None,
               deployment_config: Optional[Mapping[str, Any]] = None,
               runtime: Optional[str] = None, device: Optional[str] = None,
               options: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """Moves a deployment to another model version (swapped in without failing requests)
        and/or changes its configuration; returns the status.

        With `wait`, polls until the deployment is READY and serves the new version (for an
        alias: the version the alias points at when the update is sent).

        Raises:
            ValueError: both version and alias are given, or nothing to change.
            CairnError: as for deploy_model.
        """
        if version is not None and alias is not None:
            raise ValueError("give either version or alias, not both")
        body: Dict[str, Any] = {}
        for key, value in (("model_name", model_name), ("alias", alias), ("runtime", runtime),
                           ("device", device), ("deployment_config", deployment_config),
                           ("options", options)):
            if value is not None:
                body[key] = value
        if version is not None:
            body["version"] = str(version)
        if not body:
            raise ValueError("nothing to update: give version, alias or a setting")
        status = self._request("PUT", f"{DEPLOYMENTS}/{_segment(deployment)}", body)
        if not wait:
            return status
        wanted = body.get("version")
        if wanted is None and alias is not None:
            wanted = self._alias_version(model_name or status.get("model_name"), alias)
        return self.wait_until_ready(status.get("deployment_id") or deployment, timeout=timeout,
                                     version=wanted)

    def _alias_version(self, model_name: Optional[str], alias: str) -> Optional[str]:
        """The version an alias points at, from the registry; None when it cannot be read."""
        if not model_name:
            return None
        try:
            answer = self._request("GET", f"{REGISTRY}/registered-models/alias",
                                   params={"name": model_name, "alias": alias})
        except CairnError:
            return None
        version = (answer or {}).get("model_version", {}).get("version")
        return str(version) if version is not None else None

    def delete(self, deployment: str) -> Dict[str, Any]:
        """Deletes a deployment once its in-flight requests are done; returns
        {"deployment_id": ..., "state": "DELETED"}."""
        return self._request("DELETE", f"{DEPLOYMENTS}/{_segment(deployment)}") or {}

    def wait_until_ready(self, deployment: str, timeout: float = 120,
                         version: Optional[str] = None,
                         poll_interval: float = 0.1) -> Dict[str, Any]:
        """Polls a deployment's status until it is READY (serving `version`, when given).

        The interval starts at `poll_interval` seconds and doubles up to one second.

        Raises:
            CairnError: the deployment FAILED ("DEPLOYMENT_FAILED" with the server's reason), or
                is not ready after `timeout` seconds ("DEADLINE_EXCEEDED").
        """
        deadline = time.monotonic() + timeout
        interval = poll_interval
        while True:
            status = self.status(deployment)
            state = status.get("state")
            if state == FAILED:
                reason = status.get("reason") or "no reason given"
                raise CairnError(None, "DEPLOYMENT_FAILED",
                                 f"deployment {status.get('name') or deployment} failed: {reason}")
            if state == READY and (version is None
                                   or str(status.get("model_version")) == str(version)):
                return status
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                serving = f", version {status.get('model_version')}" if version else ""
                raise CairnError(None, "DEADLINE_EXCEEDED",
                                 f"deployment {status.get('name') or deployment} is not ready "
                                 f"after {timeout:g}s (state {state}{serving})")
            time.sleep(min(interval, remaining))
            interval = min(interval * 2, 1.0)

    # -- predictions --------------------------------------------------------------------------

    def predict(self, deployment: str, data: Any, params: Optional[Mapping[str, Any]] = None,
                input_format: Optional[str] = None) -> Any:
        """Scores `data` on a deployment's MLflow scoring endpoint; returns the `predictions`.

        Args:
            deployment: the endpoint name.
            data: a pandas DataFrame (sent as `dataframe_split`), a dict of lists or NumPy arrays
                (sent as `inputs`), a NumPy array (`inputs`), a list (`instances`), or a dict
                already shaped as a scoring request ({"dataframe_records": [...]}, ...).
            params: inference parameters, sent as `params`.
            input_format: force one of "dataframe_split", "dataframe_records", "instances",
                "inputs".

        Returns:
            The `predictions` member of the answer, as JSON values (lists, dicts, numbers), i.e.
            exactly what `mlflow models serve` answers for the same model and input.
        """
        body = _payload.scoring_payload(data, params, input_format)
        answer = self._request("POST", f"/endpoints/{_segment(deployment)}/invocations", body)
        if isinstance(answer, dict) and "predictions" in answer:
            return answer["predictions"]
        return answer

    def predict_csv(self, deployment: str, csv: Union[str, bytes]) -> Any:
        """Scores CSV text (header row first) on the MLflow scoring endpoint; returns the
        `predictions`."""
        data = csv.encode("utf-8") if isinstance(csv, str) else csv
        path = f"/endpoints/{_segment(deployment)}/invocations"
        try:
            response = self._session.post(self.url + path, data=data, timeout=self.timeout,
                                          headers={"Content-Type": "text/csv",
                                                   "Accept": "application/json"})
        except requests.RequestException as e:
            raise CairnError(None, "CONNECTION_ERROR", f"POST {self.url}{path} failed: {e}") from e
        if not 200 <= response.status_code < 300:
            raise _error_from(response)
        answer = json.loads(response.content)
        return answer.get("predictions", answer) if isinstance(answer, dict) else answer

    def infer(self, deployment: str, inputs: Mapping[str, Any],
              outputs: Optional[Iterable[str]] = None, version: Optional[str] = None,
              parameters: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """Runs one inference through the Open Inference Protocol V2 (JSON).

        Args:
            deployment: the endpoint (model) name.
            inputs: tensor name -> NumPy array (or anything numpy.asarray takes); the V2
                datatype follows the dtype (float32 -> FP32, int64 -> INT64, str -> BYTES, ...).
            outputs: names of the outputs wanted; None: all of them.
            version: address /v2/models/{name}/versions/{version}/infer instead.
            parameters: the request's `parameters`.

        Returns:
            Output name -> NumPy array with the answered datatype and shape.
        """
        path = f"/v2/models/{_segment(deployment)}"
        if version is not None:
            path += f"/versions/{_segment(version)}"
        answer = self._request("POST", f"{path}/infer",
                               _payload.v2_request(inputs, outputs, parameters))
        return _payload.v2_outputs(answer or {})

    def model_metadata(self, deployment: str) -> Dict[str, Any]:
        """The V2 model metadata: name, versions, platform, inputs and outputs."""
        return self._request("GET", f"/v2/models/{_segment(deployment)}")

    def predictions(self, deployment: str, max_results: int = 100,
                    page_token: Optional[str] = None) -> Dict[str, Any]:
        """One page of a deployment's prediction log.

        Returns:
            {"predictions": [{"request_id", "timestamp_ms", "latency_us", "model_version",
            "status_code", "inputs", "outputs"}, ...], "next_page_token": ...}; pass
            next_page_token back as `page_token` for the next page (absent or empty at the end).
        """
        params: Dict[str, Any] = {"max_results": int(max_results)}
        if page_token:
            params["page_token"] = page_token
        return self._request("GET", f"{DEPLOYMENTS}/{_segment(deployment)}/predictions",
                             params=params) or {}
