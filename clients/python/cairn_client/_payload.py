"""Request and response shaping for the prediction protocols (no HTTP here).

MLflow scoring (`/endpoints/{name}/invocations`) takes one of four JSON layouts; the Open
Inference Protocol V2 (`/v2/models/{name}/infer`) takes typed, flattened tensors. NumPy and pandas
are optional: they are imported only when the caller hands in their objects or asks for V2.
"""

from __future__ import annotations

import json
import math
from typing import Any, Dict, Iterable, Mapping, Optional

SCORING_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")

# NumPy dtype name -> V2 datatype, and back.
_NUMPY_TO_V2 = {
    "bool": "BOOL",
    "uint8": "UINT8",
    "uint16": "UINT16",
    "uint32": "UINT32",
    "uint64": "UINT64",
    "int8": "INT8",
    "int16": "INT16",
    "int32": "INT32",
    "int64": "INT64",
    "float16": "FP16",
    "float32": "FP32",
    "float64": "FP64",
}
_V2_TO_NUMPY = {v: k for k, v in _NUMPY_TO_V2.items()}


def _json_default(obj: Any) -> Any:
    """json.dumps hook for NumPy arrays and scalars, pandas objects and dates."""
    if hasattr(obj, "tolist"):  # numpy.ndarray, numpy scalars, pandas Series/Index
        return obj.tolist()
    if hasattr(obj, "isoformat"):  # datetime, date, pandas.Timestamp
        return obj.isoformat()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def dumps(payload: Any) -> bytes:
    """`payload` as compact UTF-8 JSON, NumPy and pandas values included."""
    return json.dumps(payload, default=_json_default, separators=(",", ":")).encode("utf-8")


def _is_dataframe(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "to_dict")


def _is_series(obj: Any) -> bool:
    return type(obj).__name__ == "Series" and hasattr(obj, "to_frame")


def _is_ndarray(obj: Any) -> bool:
    return hasattr(obj, "tolist") and hasattr(obj, "shape") and hasattr(obj, "dtype")


def _nan_to_none(value: Any) -> Any:
    # JSON has no NaN; MLflow reads null in a numeric column back as NaN.
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def dataframe_split(df: Any) -> Dict[str, Any]:
    """A pandas DataFrame as MLflow's `dataframe_split` value: {"columns": [...], "data": [...]},
    without the index (the scoring server ignores it)."""
    split = df.to_dict(orient="split")
    return {
        "columns": list(split["columns"]),
        "data": [[_nan_to_none(v) for v in row] for row in split["data"]],
    }


def dataframe_records(df: Any) -> list:
    """A pandas DataFrame as MLflow's `dataframe_records` value: one dict per row."""
    return [{k: _nan_to_none(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def scoring_payload(data: Any, params: Optional[Mapping[str, Any]] = None,
                    input_format: Optional[str] = None) -> Dict[str, Any]:
    """The JSON body of an MLflow scoring request for `data`.

    With `input_format` None the layout follows the type of `data`:
      - pandas DataFrame (or Series)           -> {"dataframe_split": {"columns", "data"}}
      - dict already holding one of the four layout keys (and maybe "params") -> sent as it is
      - other dict (name -> list / array)      -> {"inputs": {name: list}}
      - NumPy array                            -> {"inputs": nested list}
      - list or tuple                          -> {"instances": list}
    `input_format` (one of SCORING_FORMATS) forces a layout. `params` is added as "params".

    Raises:
        TypeError: `data` has none of these types.
        ValueError: `input_format` is unknown, or does not fit `data`.
    """
    if input_format is not None and input_format not in SCORING_FORMATS:
        raise ValueError(f"input_format must be one of {SCORING_FORMATS}, not {input_format!r}")
    if _is_series(data):
        data = data.to_frame()

    if input_format is None:
        if _is_dataframe(data):
            body: Dict[str, Any] = {"dataframe_split": dataframe_split(data)}
        elif isinstance(data, Mapping):
            keys = set(data)
            layout_keys = keys & set(SCORING_FORMATS)
            if len(layout_keys) == 1 and keys <= set(SCORING_FORMATS) | {"params"}:
                body = dict(data)
            else:
                body = {"inputs": dict(data)}
        elif _is_ndarray(data):
            body = {"inputs": data}
        elif isinstance(data, (list, tuple)):
            body = {"instances": list(data)}
        else:
            raise TypeError("data must be a pandas DataFrame, a dict, a NumPy array or a list, "
                            f"not {type(data).__name__}")
    elif input_format == "dataframe_split":
        if _is_dataframe(data):
            body = {"dataframe_split": dataframe_split(data)}
        elif isinstance(data, Mapping) and "data" in data:
            body = {"dataframe_split": dict(data)}
        else:
            raise ValueError("dataframe_split needs a pandas DataFrame or a dict with "
                             "'columns' and 'data'")
    elif input_format == "dataframe_records":
        body = {"dataframe_records": dataframe_records(data) if _is_dataframe(data) else data}
    else:
        if _is_dataframe(data):
            raise ValueError(f"{input_format} does not take a DataFrame; convert it first")
        body = {input_format: data}

    if params is not None:
        body["params"] = dict(params)
    return body


def _numpy():
    try:
        import numpy
    except ImportError as e:  # pragma: no cover - numpy is there wherever V2 is used
        raise ImportError("the V2 inference protocol needs numpy (pip install numpy)") from e
    return numpy


def v2_datatype(dtype: Any) -> str:
    """The V2 datatype of a NumPy dtype: FP32, INT64, BOOL, ...; BYTES for strings and objects."""
    if dtype.kind in ("U", "S", "O"):
        return "BYTES"
    try:
        return _NUMPY_TO_V2[dtype.name]
    except KeyError:
        raise TypeError(f"no V2 datatype for NumPy dtype {dtype}") from None


def v2_tensor(name: str, value: Any) -> Dict[str, Any]:
    """One V2 input tensor: name, shape, datatype and the data flattened in row-major order."""
    np = _numpy()
    array = np.asarray(value)
    datatype = v2_datatype(array.dtype)
    flat = array.ravel(order="C")
    if datatype == "BYTES":
        data = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in flat.tolist()]
    else:
        data = flat.tolist()
    return {"name": name, "shape": list(array.shape), "datatype": datatype, "data": data}


def v2_request(inputs: Mapping[str, Any], outputs: Optional[Iterable[str]] = None,
               parameters: Optional[Mapping[str, Any]] = None,
               request_id: Optional[str] = None) -> Dict[str, Any]:
    """The JSON body of a V2 inference request."""
    if not inputs:
        raise ValueError("inputs must name at least one tensor")
    body: Dict[str, Any] = {"inputs": [v2_tensor(name, value) for name, value in inputs.items()]}
    if outputs is not None:
        body["outputs"] = [{"name": name} for name in outputs]
    if parameters:
        body["parameters"] = dict(parameters)
    if request_id is not None:
        body["id"] = request_id
    return body


def v2_outputs(response: Mapping[str, Any]) -> Dict[str, Any]:
    """The output tensors of a V2 inference answer as name -> NumPy array of the answered
    datatype and shape (BYTES as an object array of str)."""
    np = _numpy()
    result = {}
    for tensor in response.get("outputs", []):
        datatype = tensor.get("datatype", "")
        shape = [int(d) for d in tensor.get("shape", [])]
        if datatype == "BYTES":
            array = np.array(tensor.get("data", []), dtype=object)
        elif datatype in _V2_TO_NUMPY:
            array = np.array(tensor.get("data", []), dtype=_V2_TO_NUMPY[datatype])
        else:
            raise ValueError(f"output {tensor.get('name')!r} has an unknown datatype {datatype!r}")
        result[tensor["name"]] = array.reshape(shape)
    return result
