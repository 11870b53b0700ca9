"""Regenerates the ONNX test models and their expected outputs (run with the project venv).

    .venv/bin/python src/runtime/onnx/testdata/make_models.py

- iris_logreg.onnx: scikit-learn LogisticRegression on iris, converted by skl2onnx with its
  default ZipMap (probabilities as a sequence of maps) -- what most users export.
- mlp.onnx: a 4-16-3 MLP graph in the shape PyTorch's exporter writes (Gemm, Relu, Gemm,
  Softmax), built with the onnx package, FP32 input "input" of shape [batch, 4].
- strings.onnx: a string label encoder (string tensor in, int64 out).
expected.json holds inputs and onnxruntime-python's outputs for each model.
"""

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

HERE = Path(__file__).parent
rng = np.random.default_rng(7)

X, y = load_iris(return_X_y=True)
X = X.astype(np.float32)
clf = LogisticRegression(max_iter=500).fit(X, y)
logreg = to_onnx(clf, X[:1], target_opset={"": 17, "ai.onnx.ml": 3})
(HERE / "iris_logreg.onnx").write_bytes(logreg.SerializeToString())

w1 = rng.normal(size=(4, 16)).astype(np.float32)
b1 = rng.normal(size=(16,)).astype(np.float32)
w2 = rng.normal(size=(16, 3)).astype(np.float32)
b2 = rng.normal(size=(3,)).astype(np.float32)
graph = helper.make_graph(
    [
        helper.make_node("Gemm", ["input", "w1", "b1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("Gemm", ["r", "w2", "b2"], ["logits"]),
        helper.make_node("Softmax", ["logits"], ["output"], axis=1),
    ],
    "mlp",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 4])],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])],
    [numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))],
)
mlp = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
mlp.ir_version = 8
onnx.checker.check_model(mlp)
(HERE / "mlp.onnx").write_bytes(mlp.SerializeToString())

encoder = helper.make_graph(
    [helper.make_node("LabelEncoder", ["text"], ["code"], domain="ai.onnx.ml",
                      keys_strings=["setosa", "versicolor", "virginica"],
                      values_int64s=[0, 1, 2], default_int64=-1)],
    "strings",
    [helper.make_tensor_value_info("text", TensorProto.STRING, ["batch"])],
    [helper.make_tensor_value_info("code", TensorProto.INT64, ["batch"])],
)
strings = helper.make_model(encoder, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("ai.onnx.ml", 3)])
strings.ir_version = 8
(HERE / "strings.onnx").write_bytes(strings.SerializeToString())

rows = X[[0, 60, 120, 149]]
expected = {}
sess = ort.InferenceSession(str(HERE / "iris_logreg.onnx"), providers=["CPUExecutionProvider"])
label, probabilities = sess.run(None, {"X": rows})
expected["iris_logreg"] = {
    "input": rows.tolist(),
    "label": label.tolist(),
    "probabilities": [[float(p[k]) for k in sorted(p)] for p in probabilities],
}
sess = ort.InferenceSession(str(HERE / "mlp.onnx"), providers=["CPUExecutionProvider"])
(out,) = sess.run(None, {"input": rows})
expected["mlp"] = {"input": rows.tolist(), "output": out.tolist()}
sess = ort.InferenceSession(str(HERE / "strings.onnx"), providers=["CPUExecutionProvider"])
words = np.array(["virginica", "setosa", "rose"], dtype=object)
(codes,) = sess.run(None, {"text": words})
expected["strings"] = {"input": words.tolist(), "code": codes.tolist()}
(HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
