"""The tutorial's training (its Step 4 train.py), written for today's MLflow.

The tutorial's `mlflow.sklearn.log_model(rf, "random-forest-model")` fails on MLflow 3: the default skops
format refuses the RandomForest's tree type unless it is trusted, so it is trusted here explicitly.
Run as `python -m core.tracking.training` (the train step does, against MLFLOW_TRACKING_URI and
MLFLOW_EXPERIMENT_NAME) or call `train_tutorial_model` from Python.
"""

from __future__ import annotations

import json
import os
from typing import Any

EXPERIMENT = "my_classification_model"
MODEL_NAME = "random-forest-model"
FEATURES = ["petal length (cm)", "petal width (cm)"]
TRUSTED_TYPES = ["sklearn.tree._tree.Tree"]
# What loading the model needs, pinned to this environment; MLflow's inference also picks up unrelated
# packages that happen to be imported (pytest, rich), which would bloat the serving image.
RUNTIME_PACKAGES = ("mlflow", "scikit-learn", "numpy", "pandas", "scipy", "skops")


def train_tutorial_model(tracking_uri: str, experiment: str = EXPERIMENT, n_estimators: int = 100,
                         run_name: str = "sagewiz-train") -> dict[str, Any]:
    """Train the iris RandomForestRegressor, log num_estimators, mse and the model; return the run's facts."""
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature
    from sklearn import datasets
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.metrics import mean_squared_error
    from sklearn.model_selection import train_test_split

    mlflow.set_tracking_uri(tracking_uri)
    found = mlflow.set_experiment(experiment)
    iris = datasets.load_iris(as_frame=True)
    features, target = iris.data[FEATURES], iris.target
    x_train, x_test, y_train, y_test = train_test_split(features, target, test_size=0.3, random_state=7)
    with mlflow.start_run(run_name=run_name) as run:
        model = RandomForestRegressor(n_estimators=n_estimators).fit(x_train, y_train)
        mse = float(mean_squared_error(y_test, model.predict(x_test)))
        mlflow.log_param("num_estimators", n_estimators)
        mlflow.log_metric("mse", mse)
        info = mlflow.sklearn.log_model(
            model, name=MODEL_NAME, signature=infer_signature(x_train, model.predict(x_train)),
            input_example=x_train.head(3), skops_trusted_types=TRUSTED_TYPES, pip_requirements=_pinned())
    return {"experiment_id": found.experiment_id, "run_id": run.info.run_id,
            "model_uri": f"runs:/{run.info.run_id}/{MODEL_NAME}", "model_id": info.model_id,
            "artifact_uri": info.artifact_path, "metrics": {"mse": mse},
            "params": {"num_estimators": str(n_estimators)}}


def _pinned() -> list[str]:
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in RUNTIME_PACKAGES]


def main(argv: list[str] | None = None) -> int:
    import argparse  # only when run as a script (the train step's child process)

    parser = argparse.ArgumentParser(description="Train and log the tutorial's iris RandomForest.")
    parser.add_argument("--n-estimators", type=int, default=100)
    parser.add_argument("--run-name", default="sagewiz-train")
    args = parser.parse_args(argv)
    result = train_tutorial_model(os.environ["MLFLOW_TRACKING_URI"],
                                  os.environ.get("MLFLOW_EXPERIMENT_NAME", EXPERIMENT),
                                  args.n_estimators, args.run_name)
    print(f"Logged run {result['run_id']} (mse {result['metrics']['mse']:.4f}) with model {result['model_uri']}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
