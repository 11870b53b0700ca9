"""Writes the models python_runtime_test serves, and what they should answer.

Usage: python make_test_models.py OUT_DIR

  iris/     mlflow.sklearn LogisticRegression trained on sklearn's iris, with a signature
  behave/   a pyfunc PythonModel that doubles "x" and answers a DataFrame of three dtypes; its
            "action" column makes it raise ("raise"), exit the process ("exit") or hang ("sleep");
            given a single tensor it answers that tensor doubled
  broken/   a pyfunc PythonModel whose load_context imports a module that does not exist
  badpickle/  behave/ with its pickled model replaced by bytes that are not a pickle
  expected.json  the iris rows and sklearn's own predictions for them
"""

import json
import os
import sys
import time

import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
# Listing requirements by hand skips MLflow's inference, which loads each model in a subprocess.
REQUIREMENTS = ["mlflow"]

iris = load_iris(as_frame=True)
features = iris.data
model = LogisticRegression(max_iter=1000).fit(features, iris.target)
predictions = model.predict(features)
mlflow.sklearn.save_model(
    model,
    os.path.join(out, "iris"),
    signature=infer_signature(features, predictions),
    pip_requirements=REQUIREMENTS,
)


class Behave(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        if not isinstance(model_input, pd.DataFrame):
            return np.asarray(model_input) * 2
        action = str(model_input["action"].iloc[0]) if "action" in model_input else ""
        if action == "raise":
            raise ValueError("asked to fail")
        if action == "exit":
            os._exit(1)
        if action == "sleep":
            time.sleep(60)
        x = model_input["x"]
        return pd.DataFrame(
            {
                "doubled": x * 2,
                "count": np.arange(len(x), dtype=np.int64),
                "label": ["row%d" % i for i in range(len(x))],
            }
        )


class Broken(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        import cairn_no_such_module  # noqa: F401

    def predict(self, context, model_input, params=None):
        return model_input


mlflow.pyfunc.save_model(os.path.join(out, "behave"), python_model=Behave(),
                         pip_requirements=REQUIREMENTS)
mlflow.pyfunc.save_model(os.path.join(out, "broken"), python_model=Broken(),
                         pip_requirements=REQUIREMENTS)

mlflow.pyfunc.save_model(os.path.join(out, "badpickle"), python_model=Behave(),
                         pip_requirements=REQUIREMENTS)
with open(os.path.join(out, "badpickle", "python_model.pkl"), "wb") as f:
    f.write(b"this is not a pickle")

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump(
        {
            "iris": {
                "columns": list(features.columns),
                "rows": features.to_numpy().tolist(),
                "predictions": [int(p) for p in predictions],
            }
        },
        f,
    )
