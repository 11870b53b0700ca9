"""Python client for Cairn's model serving API.

    from cairn_client import Client

    client = Client("http://127.0.0.1:5000")
    status = client.deploy_model(model_name="iris", version="1", name="iris")
    client.predict("iris", dataframe)

The MLflow deployments plugin (target `cairn`) is `cairn_client.mlflow_plugin`.
"""

from cairn_client.client import Client
from cairn_client.errors import CairnError

__all__ = ["Client", "CairnError"]
__version__ = "0.1.0"
