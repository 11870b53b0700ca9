# Cairn's Python model worker: one process serves one MLflow model through mlflow.pyfunc.
#
# The server embeds this file in its binary and runs it as `python -c <this text> <fd>`, where
# <fd> is one end of a Unix socketpair. The worker imports mlflow, pandas and numpy, says
# "ready", and then answers one request at a time until the socket closes.
#
# A frame, both ways:  u32 header_len | u64 payload_len | header (UTF-8 JSON) | payload
# (integers little-endian). The header names the tensors of the payload in order:
#   {"name": str, "datatype": V2 type, "shape": [int], "size": bytes in the payload}
# Fixed-size tensors are their raw little-endian elements; a BYTES tensor is, per element, a u32
# length and that many bytes (Triton's binary tensor extension).
#
# Requests:  {"op": "load", "id", "path"}
#            {"op": "predict", "id", "columnar": bool, "params": object|null, "tensors": [...]}
# Answers:   {"op": "ready", "pid", "python", "mlflow"}               (once, unsolicited)
#            {"op": "loaded", "id", "input": "columns"|"tensor"|"tensors"|"none"}
#            {"op": "result", "id", "columnar": bool, "tensors": [...]}
#            {"op": "error", "id", "kind": "input"|"model"|"load", "message": str}
# An "input" error means the request did not fit the model (schema enforcement failed).

import sys

# `python -c` puts the current directory first on sys.path: a stray file there must not shadow
# a module the model imports.
sys.path[:] = [p for p in sys.path if p not in ("", ".")]

import inspect  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import struct  # noqa: E402
import traceback  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

_PREFIX = struct.Struct("<IQ")
_LEN = struct.Struct("<I")

_NUMPY_OF = {
    "BOOL": np.dtype("?"),
    "UINT8": np.dtype("u1"),
    "UINT16": np.dtype("<u2"),
    "UINT32": np.dtype("<u4"),
    "UINT64": np.dtype("<u8"),
    "INT8": np.dtype("i1"),
    "INT16": np.dtype("<i2"),
    "INT32": np.dtype("<i4"),
    "INT64": np.dtype("<i8"),
    "FP16": np.dtype("<f2"),
    "FP32": np.dtype("<f4"),
    "FP64": np.dtype("<f8"),
}
_V2_OF = {(d.kind, d.itemsize): name for name, d in _NUMPY_OF.items()}


class InputError(Exception):
    """The request does not fit the model."""


# ---- frames ---------------------------------------------------------------------------------


def recv_exact(sock, view):
    got = 0
    while got < len(view):
        n = sock.recv_into(view[got:])
        if n == 0:
            return False
        got += n
    return True


def recv_frame(sock):
    """Returns (header dict, payload memoryview) or None at end of stream."""
    prefix = bytearray(_PREFIX.size)
    if not recv_exact(sock, memoryview(prefix)):
        return None
    header_len, payload_len = _PREFIX.unpack(prefix)
    # One writable buffer: numpy arrays made over it are writable, as models may expect.
    body = bytearray(header_len + payload_len)
    view = memoryview(body)
    if not recv_exact(sock, view):
        return None
    return json.loads(bytes(view[:header_len])), view[header_len:]


def send_frame(sock, header, buffers=()):
    head = json.dumps(header, separators=(",", ":")).encode()
    payload_len = sum(len(b) for b in buffers)
    sock.sendall(b"".join([_PREFIX.pack(len(head), payload_len), head, *buffers]))


# ---- tensors <-> numpy ----------------------------------------------------------------------


def decode_bytes(buf, count):
    out = np.empty(count, dtype=object)
    pos = 0
    for i in range(count):
        (n,) = _LEN.unpack_from(buf, pos)
        pos += 4
        out[i] = bytes(buf[pos : pos + n])
        pos += n
    if pos != len(buf):
        raise InputError("BYTES tensor has trailing bytes")
    return out


def decode_tensors(specs, payload):
    """Returns [(name, ndarray)]: numeric tensors are views of the payload, BYTES are objects."""
    out = []
    pos = 0
    for spec in specs:
        size = spec["size"]
        shape = tuple(spec["shape"])
        count = 1
        for d in shape:
            count *= d
        buf = payload[pos : pos + size]
        if len(buf) != size:
            raise InputError("tensor %r is past the end of the frame" % spec["name"])
        pos += size
        datatype = spec["datatype"]
        if datatype == "BYTES":
            arr = decode_bytes(buf, count)
        else:
            dtype = _NUMPY_OF.get(datatype)
            if dtype is None:
                raise InputError("datatype %s is not supported" % datatype)
            if size != count * dtype.itemsize:
                raise InputError(
                    "tensor %r has %d bytes for shape %s" % (spec["name"], size, shape)
                )
            arr = np.frombuffer(buf, dtype=dtype, count=count)
        out.append((spec["name"], arr.reshape(shape)))
    return out


def as_text(arr, binary):
    """BYTES elements arrive as bytes; MLflow's string columns want str."""
    if binary:
        return arr
    try:
        return np.array([b.decode("utf-8") for b in arr.reshape(-1)], dtype=object).reshape(
            arr.shape
        )
    except UnicodeDecodeError:
        return arr


def encode_array(name, value):
    """Returns (header spec, [buffers]) for one output array."""
    arr = np.asarray(value)
    dtype = arr.dtype
    if dtype.kind == "M":
        arr, dtype = arr.astype(str).astype(object), np.dtype(object)
    if dtype.kind in "biuf":
        v2 = _V2_OF.get((dtype.kind, dtype.itemsize))
        if v2 is None:
            raise TypeError("output %r has dtype %s, which has no V2 type" % (name, dtype))
        arr = np.ascontiguousarray(arr, dtype=dtype.newbyteorder("<"))
        data = arr.data.cast("B") if arr.size else b""
        return {"name": name, "datatype": v2, "shape": list(arr.shape), "size": len(data)}, [data]
    parts = []
    for item in arr.reshape(-1):
        if isinstance(item, (bytes, bytearray, memoryview)):
            b = bytes(item)
        elif isinstance(item, str):
            b = item.encode("utf-8")
        elif item is None:
            b = b""
        else:
            b = json.dumps(item, default=str).encode() if isinstance(item, (dict, list)) else str(
                item
            ).encode()
        parts.append(_LEN.pack(len(b)))
        parts.append(b)
    size = sum(len(p) for p in parts)
    return {"name": name, "datatype": "BYTES", "shape": list(arr.shape), "size": size}, parts


def column_array(series):
    """A DataFrame column as a numpy array that keeps its dtype (nullable ints with NA as float)."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        return series.to_numpy()
    kind = getattr(dtype, "kind", "O")
    if kind in "biuf":
        if series.isna().any():
            return series.to_numpy(dtype="float64", na_value=np.nan)
        return series.to_numpy(dtype=getattr(dtype, "numpy_dtype", None))
    return series.to_numpy(dtype=object)


def encode_output(result):
    """Returns (columnar, [(name, array)]) for what pyfunc's predict returned."""
    if isinstance(result, pd.DataFrame):
        return True, [(str(c), column_array(result[c])) for c in result.columns]
    if isinstance(result, pd.Series):
        return False, [("predictions", column_array(result))]
    if isinstance(result, dict):
        return False, [(str(k), v.to_numpy() if isinstance(v, pd.Series) else v) for k, v in
                       result.items()]
    if isinstance(result, (list, tuple)) and result and all(isinstance(r, dict) for r in result):
        # Records, as many generative flavors answer: one JSON text per row.
        return False, [("predictions", np.array([json.dumps(r, default=str) for r in result],
                                                dtype=object))]
    return False, [("predictions", result)]


# ---- the model ------------------------------------------------------------------------------


class Served:
    def __init__(self, model):
        self.model = model
        self.takes_params = "params" in inspect.signature(model.predict).parameters
        schema = model.metadata.get_input_schema()
        self.binary_columns = set()
        if schema is None:
            self.input = "none"
        elif schema.is_tensor_spec():
            self.input = "tensors" if schema.has_input_names() else "tensor"
        else:
            self.input = "columns"
            for col in schema.inputs:
                if str(getattr(col, "type", "")).endswith("binary") and col.name is not None:
                    self.binary_columns.add(col.name)

    def model_input(self, header, payload):
        try:
            named = decode_tensors(header.get("tensors", []), payload)
        except InputError:
            raise
        except Exception as exc:  # a malformed frame: say so instead of failing as the model
            raise InputError("cannot decode the request: %s" % exc) from exc
        named = [
            (n, as_text(a, n in self.binary_columns) if a.dtype == object else a) for n, a in named
        ]
        if header.get("columnar") or (
            self.input == "columns" and named and all(a.ndim == 1 for _, a in named)
        ):
            return pd.DataFrame({n: a for n, a in named})
        if len(named) == 1 and self.input in ("tensor", "none"):
            return named[0][1]
        return {n: a for n, a in named}

    def predict(self, header, payload):
        data = self.model_input(header, payload)
        params = header.get("params")
        if params is not None and self.takes_params:
            return self.model.predict(data, params=params)
        return self.model.predict(data)


def error_kind(exc):
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.protos.databricks_pb2 import BAD_REQUEST, INVALID_PARAMETER_VALUE, ErrorCode
    except Exception:  # pragma: no cover - mlflow is imported at start
        return "model"
    if isinstance(exc, InputError):
        return "input"
    if isinstance(exc, MlflowException) and exc.error_code in (
        ErrorCode.Name(BAD_REQUEST),
        ErrorCode.Name(INVALID_PARAMETER_VALUE),
    ):
        return "input"
    return "model"


def describe(exc):
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()


def preload():
    """Imports the frameworks named in CAIRN_PYTHON_PRELOAD (comma-separated; default: sklearn)
    before the worker says it is ready, so a model taken from the spare pool loads without
    paying for them. A framework that is not installed is skipped."""
    import importlib

    for name in os.environ.get("CAIRN_PYTHON_PRELOAD", "sklearn").split(","):
        name = name.strip()
        if name:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a missing framework only costs its import later
                pass


def serve(sock):
    import mlflow
    import mlflow.pyfunc

    preload()

    send_frame(
        sock,
        {"op": "ready", "pid": os.getpid(), "python": sys.version.split()[0],
         "mlflow": mlflow.__version__},
    )
    served = None
    while True:
        frame = recv_frame(sock)
        if frame is None:
            return
        header, payload = frame
        op, rid = header.get("op"), header.get("id", 0)
        if op == "load":
            try:
                served = Served(mlflow.pyfunc.load_model(header["path"]))
                send_frame(sock, {"op": "loaded", "id": rid, "input": served.input})
            except Exception as exc:
                traceback.print_exc()
                send_frame(sock, {"op": "error", "id": rid, "kind": "load",
                                  "message": describe(exc)})
        elif op == "predict":
            if served is None:
                send_frame(sock, {"op": "error", "id": rid, "kind": "model",
                                  "message": "no model is loaded"})
                continue
            try:
                result = served.predict(header, payload)
                columnar, named = encode_output(result)
                specs, buffers = [], []
                for name, value in named:
                    spec, bufs = encode_array(name, value)
                    specs.append(spec)
                    buffers.extend(bufs)
            except Exception as exc:
                kind = error_kind(exc)
                if kind == "model":
                    traceback.print_exc()
                send_frame(sock, {"op": "error", "id": rid, "kind": kind,
                                  "message": describe(exc)})
                continue
            send_frame(sock, {"op": "result", "id": rid, "columnar": columnar, "tensors": specs},
                       buffers)
        elif op == "ping":
            send_frame(sock, {"op": "pong", "id": rid})
        else:
            send_frame(sock, {"op": "error", "id": rid, "kind": "model",
                              "message": "unknown op %r" % op})


def main():
    sock = socket.socket(fileno=int(sys.argv[1]))
    try:
        serve(sock)
    except (BrokenPipeError, ConnectionResetError):
        pass


if __name__ == "__main__":
    main()
