"""MLflow deployments plugin for Cairn: target name `cairn`.

Registered through the `mlflow.deployments` entry point group (see pyproject.toml), so that

    mlflow deployments create -t cairn --name iris -m models:/iris/1
    mlflow.deployments.get_deploy_client("cairn:/http://127.0.0.1:5000")

manage Cairn deployments. MLflow imports this module only when a `cairn` target is used; it
needs mlflow installed (the rest of cairn_client does not). `target_help()` documents the target
URI forms and config keys.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple
from urllib.parse import parse_qs, urlparse

from mlflow.deployments import BaseDeploymentClient, PredictionsResponse
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import INVALID_PARAMETER_VALUE, NOT_IMPLEMENTED, ErrorCode

from cairn_client.client import Client
from cairn_client.errors import CairnError

TARGET_NAME = "cairn"
DEFAULT_URL = "http://127.0.0.1:5000"
DEFAULT_WAIT_TIMEOUT_S = 300.0

# Flat config keys (as `-C key=value` on the CLI) and where they go in the request.
_TOP_LEVEL = {"runtime": str, "device": str}
_DEPLOYMENT_CONFIG = {"replicas": int, "cpu": str, "memory": str}
_AUTOSCALING = {"min_replicas": ("min", int), "max_replicas": ("max", int),
                "target_concurrency": ("target_concurrency", float),
                "target_cpu": ("target_cpu", float)}
_OPTIONS = {"intra_op_threads": int, "inter_op_threads": int, "graph_optimization": str,
            "predict_timeout_ms": int, "log_predictions": bool, "backpressure": bool}
_JSON_KEYS = ("deployment_config", "options")
_CLIENT_KEYS = {"wait": bool, "timeout": float}
_SCALE_KEYS = ("replicas", "min_replicas", "max_replicas")

# Error codes of the client's own making -> MLflow error codes.
_CLIENT_ERROR_CODES = {"DEPLOYMENT_FAILED": "INVALID_STATE",
                       "CONNECTION_ERROR": "TEMPORARILY_UNAVAILABLE",
                       "INVALID_RESPONSE": "INTERNAL_ERROR"}

_FLAVOR_RUNTIMES = {"onnx": "onnx", "python_function": "python", "pyfunc": "python",
                    "python": "python"}
_RUNTIME_FLAVORS = {"onnx": "onnx", "python": "python_function"}


def _invalid(message: str) -> MlflowException:
    return MlflowException(message, error_code=INVALID_PARAMETER_VALUE)


def _mlflow_error(error: CairnError) -> MlflowException:
    code = _CLIENT_ERROR_CODES.get(error.error_code, error.error_code)
    if code not in ErrorCode.keys():
        code = "RESOURCE_DOES_NOT_EXIST" if error.status_code == 404 else "INTERNAL_ERROR"
    return MlflowException(error.message, error_code=ErrorCode.Value(code))


@contextlib.contextmanager
def _as_mlflow_errors() -> Iterator[None]:
    """Raises the CairnErrors of the block as MlflowExceptions with the same error code."""
    try:
        yield
    except CairnError as e:
        raise _mlflow_error(e) from e


def _default_url() -> str:
    url = os.environ.get("CAIRN_URL")
    if url:
        return url
    import mlflow

    tracking_uri = mlflow.get_tracking_uri()
    if tracking_uri and tracking_uri.startswith(("http://", "https://")):
        return tracking_uri
    return DEFAULT_URL


def parse_target_uri(target_uri: str) -> Tuple[str, Optional[str]]:
    """The server URL and the workspace (None: not in the URI) a target URI names.

    `cairn`                              $CAIRN_URL, else MLflow's tracking URI when it is
                                         http(s), else http://127.0.0.1:5000
    `cairn:/http://host:port[/prefix]`   that URL (https too; `cairn:http://...` also works)
    `cairn:/host:port`, `cairn://host:port`   http://host:port
    Any of them may end with `?workspace=<tenant>`.
    """
    parsed = urlparse(target_uri)
    if not parsed.scheme:
        if parsed.path != TARGET_NAME:
            raise _invalid(f"not a Cairn target URI: {target_uri!r}")
        return _default_url(), None
    if parsed.scheme != TARGET_NAME:
        raise _invalid(f"not a Cairn target URI: {target_uri!r}")
    workspace = parse_qs(parsed.query).get("workspace", [None])[0]
    if parsed.netloc:
        return f"http://{parsed.netloc}{parsed.path}", workspace
    rest = parsed.path.lstrip("/")
    if not rest:
        return _default_url(), workspace
    if rest.startswith(("http://", "https://")):
        return rest, workspace
    if "://" in rest:
        raise _invalid(f"Cairn target URIs take an http(s) URL, not {rest!r}")
    return f"http://{rest}", workspace


def parse_model_uri(model_uri: str) -> Tuple[str, Optional[str], Optional[str]]:
    """(model name, version, alias) of `models:/<name>/<version>` or `models:/<name>@<alias>`."""
    prefix = "models:/"
    if not isinstance(model_uri, str) or not model_uri.startswith(prefix):
        raise _invalid(f"Cairn deploys registered models: the model URI must be "
                       f"models:/<name>/<version> or models:/<name>@<alias>, not {model_uri!r}")
    rest = model_uri[len(prefix):].strip("/")
    if "@" in rest:
        name, alias = rest.rsplit("@", 1)
        if name and alias and "/" not in alias:
            return name, None, alias
    elif "/" in rest:
        name, version = rest.rsplit("/", 1)
        if name and version.isdigit():
            return name, version, None
        if name and version:
            raise _invalid(f"model URI {model_uri!r}: the version must be a number (stages and "
                           f"'latest' are not supported; use an alias: models:/{name}@<alias>)")
    raise _invalid(f"model URI {model_uri!r} is not models:/<name>/<version> or "
                   f"models:/<name>@<alias>")


def _convert(key: str, value: Any, kind: type) -> Any:
    if value is None or isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    text = str(value).strip()
    try:
        if kind is bool:
            lowered = text.lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
            raise ValueError(text)
        if kind is int:
            return int(text)
        if kind is float:
            number = float(text)
            return int(number) if number.is_integer() else number
        return text
    except ValueError:
        raise _invalid(f"config {key}={value!r}: expected {kind.__name__}") from None


def _json_object(key: str, value: Any) -> Dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        parsed = None
    if not isinstance(parsed, dict):
        raise _invalid(f"config {key} must be a JSON object, not {value!r}")
    return parsed


def parse_config(config: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """Splits a deployment config (CLI strings or Python values) into request parts.

    Returns a dict with any of: runtime, device, deployment_config, options (the request's
    fields) and wait, timeout (the client's). Raises MlflowException for an unknown key or a
    value of the wrong type.
    """
    out: Dict[str, Any] = {}
    deployment_config: Dict[str, Any] = {}
    options: Dict[str, Any] = {}
    for key, value in (config or {}).items():
        if key in _JSON_KEYS:
            (deployment_config if key == "deployment_config" else options).update(
                _json_object(key, value))
    for key, value in (config or {}).items():
        if key in _JSON_KEYS:
            continue
        if key in _TOP_LEVEL:
            out[key] = _convert(key, value, _TOP_LEVEL[key])
        elif key in _CLIENT_KEYS:
            out[key] = _convert(key, value, _CLIENT_KEYS[key])
        elif key in _DEPLOYMENT_CONFIG:
            deployment_config[key] = _convert(key, value, _DEPLOYMENT_CONFIG[key])
        elif key in _AUTOSCALING:
            field, kind = _AUTOSCALING[key]
            deployment_config.setdefault("autoscaling", {})[field] = _convert(key, value, kind)
        elif key in _OPTIONS:
            options[key] = _convert(key, value, _OPTIONS[key])
        else:
            known = sorted([*_TOP_LEVEL, *_CLIENT_KEYS, *_DEPLOYMENT_CONFIG, *_AUTOSCALING,
                            *_OPTIONS, *_JSON_KEYS])
            raise _invalid(f"unknown Cairn deployment config key {key!r}; known keys: "
                           f"{', '.join(known)}")
    if deployment_config:
        out["deployment_config"] = deployment_config
    if options:
        out["options"] = options
    return out


def _runtime_for(flavor: Optional[str], configured: Optional[str]) -> Optional[str]:
    if flavor is None:
        return configured
    runtime = _FLAVOR_RUNTIMES.get(flavor)
    if runtime is None:
        raise _invalid(f"Cairn serves the flavors onnx and python_function, not {flavor!r}")
    if configured is not None and configured not in ("auto", runtime):
        raise _invalid(f"flavor {flavor!r} and config runtime={configured!r} disagree")
    return runtime


def _deployment(status: Mapping[str, Any]) -> Dict[str, Any]:
    """A status object as MLflow's deployment dict: the status plus `flavor`."""
    result = dict(status)
    runtime = result.get("runtime")
    result["flavor"] = _RUNTIME_FLAVORS.get(runtime, runtime)
    return result


def _no_endpoint(endpoint: Optional[str]) -> None:
    if endpoint is not None:
        raise _invalid("Cairn deployments are their own endpoints (the endpoint name is the "
                       "deployment name); leave `endpoint` unset")


class CairnDeploymentClient(BaseDeploymentClient):
    """MLflow deployment client for a Cairn server.

    Target URIs: `cairn` (server from $CAIRN_URL, else MLflow's http(s) tracking URI, else
    http://127.0.0.1:5000), `cairn:/http://host:port`, `cairn://host:port`; optionally with
    `?workspace=<tenant>` (else $CAIRN_WORKSPACE or $MLFLOW_WORKSPACE). The bearer token comes
    from $CAIRN_TOKEN or $MLFLOW_TRACKING_TOKEN.

    Deployments are created from registered models (`models:/<name>/<version>` or
    `models:/<name>@<alias>`); the deployment name is also its endpoint name. create and update
    block until the deployment is READY unless config has wait=false.
    """

    def __init__(self, target_uri: str):
        super().__init__(target_uri)
        url, workspace = parse_target_uri(target_uri)
        workspace = workspace or os.environ.get("CAIRN_WORKSPACE") or os.environ.get(
            "MLFLOW_WORKSPACE") or None
        token = os.environ.get("CAIRN_TOKEN") or os.environ.get("MLFLOW_TRACKING_TOKEN") or None
        self.client = Client(url, workspace=workspace, token=token)

    def create_deployment(self, name: str, model_uri: str, flavor: Optional[str] = None,
                          config: Optional[Mapping[str, Any]] = None,
                          endpoint: Optional[str] = None) -> Dict[str, Any]:
        """Deploys a registered model as deployment (and endpoint) `name`.

        config keys: runtime, device, replicas, cpu, memory, min_replicas, max_replicas,
        target_concurrency, target_cpu, intra_op_threads, inter_op_threads, graph_optimization,
        predict_timeout_ms, log_predictions, backpressure, deployment_config (JSON), options
        (JSON), wait (default true), timeout (seconds, default 300). `flavor` "onnx" or
        "python_function" picks the runtime.

        Returns the deployment's status object with `name` and `flavor`.
        """
        _no_endpoint(endpoint)
        model_name, version, alias = parse_model_uri(model_uri)
        parts = parse_config(config)
        with _as_mlflow_errors():
            status = self.client.deploy_model(
                model_name=model_name, version=version, alias=alias, name=name,
                deployment_config=parts.get("deployment_config"),
                runtime=_runtime_for(flavor, parts.get("runtime")), device=parts.get("device"),
                options=parts.get("options"), wait=parts.get("wait", True),
                timeout=parts.get("timeout", DEFAULT_WAIT_TIMEOUT_S))
        return _deployment(status)

    def update_deployment(self, name: str, model_uri: Optional[str] = None,
                          flavor: Optional[str] = None,
                          config: Optional[Mapping[str, Any]] = None,
                          endpoint: Optional[str] = None) -> Dict[str, Any]:
        """Moves deployment `name` to another model version (swapped in without failing
        requests) and/or changes its config (same keys as create_deployment; replicas,
        min_replicas and max_replicas alone rescale it).

        Returns the status object with `name` and `flavor` (the `mlflow deployments update` CLI
        prints the flavor).
        """
        _no_endpoint(endpoint)
        if flavor is not None and model_uri is None:
            raise _invalid("a new flavor needs a model_uri too")
        parts = parse_config(config)
        wait = parts.get("wait", True)
        timeout = parts.get("timeout", DEFAULT_WAIT_TIMEOUT_S)
        deployment_config = dict(parts.get("deployment_config", {}))
        scale: Dict[str, Any] = {}
        if "replicas" in deployment_config:
            scale["replicas"] = deployment_config.pop("replicas")
        autoscaling = deployment_config.get("autoscaling", {})
        if set(autoscaling) <= {"min", "max"}:
            scale.update({k: autoscaling[k] for k in ("min", "max") if k in autoscaling})
            deployment_config.pop("autoscaling", None)
        changes = {k: parts[k] for k in ("runtime", "device", "options") if k in parts}
        if deployment_config:
            changes["deployment_config"] = deployment_config
        if flavor is not None:
            changes["runtime"] = _runtime_for(flavor, parts.get("runtime"))
        with _as_mlflow_errors():
            status = None
            if scale:
                status = self.client.scale(name, **scale)
            if model_uri is not None or changes:
                kwargs: Dict[str, Any] = dict(changes)
                if model_uri is not None:
                    model_name, version, alias = parse_model_uri(model_uri)
                    kwargs.update(model_name=model_name, version=version, alias=alias)
                status = self.client.update(name, wait=wait, timeout=timeout, **kwargs)
            if status is None:
                raise _invalid("nothing to update: give a model_uri or config")
        return _deployment(status)

    def delete_deployment(self, name: str, config: Optional[Mapping[str, Any]] = None,
                          endpoint: Optional[str] = None) -> None:
        """Deletes deployment `name` once its in-flight requests are done; deleting one that
        does not exist is not an error."""
        _no_endpoint(endpoint)
        try:
            self.client.delete(name)
        except CairnError as e:
            if e.status_code == 404 and e.error_code == "RESOURCE_DOES_NOT_EXIST":
                return
            raise _mlflow_error(e) from e

    def list_deployments(self, endpoint: Optional[str] = None) -> List[Dict[str, Any]]:
        """Every deployment of the tenant, as status objects with `name` and `flavor`."""
        _no_endpoint(endpoint)
        with _as_mlflow_errors():
            return [_deployment(status) for status in self.client.list_deployments()]

    def get_deployment(self, name: str, endpoint: Optional[str] = None) -> Dict[str, Any]:
        """The status object of deployment `name` (or deployment id), with `flavor`."""
        _no_endpoint(endpoint)
        with _as_mlflow_errors():
            return _deployment(self.client.status(name))

    def predict(self, deployment_name: Optional[str] = None, inputs: Any = None,
                endpoint: Optional[str] = None) -> PredictionsResponse:
        """Scores `inputs` (DataFrame, dict of arrays, array, list, or a dict shaped as a scoring
        request) on the deployment's /invocations endpoint. `endpoint` may name the deployment
        instead of `deployment_name`."""
        if deployment_name is not None and endpoint is not None and deployment_name != endpoint:
            raise _invalid("deployment_name and endpoint name different deployments")
        name = deployment_name if deployment_name is not None else endpoint
        if not name:
            raise _invalid("give the deployment name")
        with _as_mlflow_errors():
            predictions = self.client.predict(name, inputs)
        return PredictionsResponse({"predictions": predictions})

    def predict_stream(self, deployment_name: Optional[str] = None, inputs: Any = None,
                       endpoint: Optional[str] = None):
        raise MlflowException("Cairn deployments do not stream predictions; use predict",
                              error_code=NOT_IMPLEMENTED)

    def explain(self, deployment_name: Optional[str] = None, df: Any = None,
                endpoint: Optional[str] = None):
        raise MlflowException("Cairn deployments do not compute explanations",
                              error_code=NOT_IMPLEMENTED)

    def _no_endpoints(self) -> MlflowException:
        return MlflowException(
            "Cairn has no endpoints apart from deployments: each deployment is served at its own "
            "endpoint named after it. Use create_deployment / get_deployment / list_deployments.",
            error_code=NOT_IMPLEMENTED)

    def create_endpoint(self, name, config=None):
        raise self._no_endpoints()

    def update_endpoint(self, endpoint, config=None):
        raise self._no_endpoints()

    def delete_endpoint(self, endpoint):
        raise self._no_endpoints()

    def list_endpoints(self):
        raise self._no_endpoints()

    def get_endpoint(self, endpoint):
        raise self._no_endpoints()


def run_local(name, model_uri, flavor=None, config=None):
    """Not offered: run `cairn server` locally and deploy to it with target `cairn`."""
    raise MlflowException(
        "The cairn target has no run-local mode: start a local server (`cairn server` or "
        "`./dev.sh start`) and use `mlflow deployments create -t cairn ...`, which deploys to "
        "http://127.0.0.1:5000 unless CAIRN_URL or MLFLOW_TRACKING_URI say otherwise.",
        error_code=NOT_IMPLEMENTED)


def target_help() -> str:
    """The text of `mlflow deployments help -t cairn`."""
    return """\
Cairn deployment target: serves registered models on a Cairn server
(models:/<name>/<version> or models:/<name>@<alias>; the deployment name is also the
endpoint name, scored at /endpoints/<name>/invocations and /v2/models/<name>/infer).

Target URI:
  cairn                              server from $CAIRN_URL, else MLflow's tracking URI when it
                                     is http(s), else http://127.0.0.1:5000
  cairn:/http://host:port[/prefix]   that server (https:// too)
  cairn:/host:port, cairn://host:port   http://host:port
  ...?workspace=<tenant>             tenant (else $CAIRN_WORKSPACE, else $MLFLOW_WORKSPACE)
Token: $CAIRN_TOKEN, else $MLFLOW_TRACKING_TOKEN (sent as Authorization: Bearer).

Config (-C key=value), create and update:
  runtime=auto|onnx|python    device=cpu|cuda      (--flavor onnx|python_function sets runtime)
  replicas=N  cpu=1  memory=2Gi
  min_replicas=N  max_replicas=N  target_concurrency=N  target_cpu=N   (autoscaling)
  intra_op_threads=N  inter_op_threads=N  graph_optimization=all  predict_timeout_ms=N
  log_predictions=true|false  backpressure=true|false
  deployment_config='{...}'  options='{...}'   (JSON objects, merged with the keys above)
  wait=true|false (block until READY; default true)  timeout=<seconds, default 300>
On update, replicas/min_replicas/max_replicas rescale the deployment without a reload.

Examples:
  mlflow deployments create -t cairn:/http://127.0.0.1:5000 --name iris -m models:/iris/1
  mlflow deployments update -t cairn --name iris -m models:/iris@champion
  mlflow deployments update -t cairn --name iris -C replicas=2
  mlflow deployments predict -t cairn --name iris -I input.json
  mlflow deployments delete -t cairn --name iris
"""
