#!/usr/bin/env python3
"""Train the tutorial's iris RandomForest and log it to MLflow, written for today's MLflow (3.x).

Run: python train.py   (MLFLOW_TRACKING_URI overrides the tracking server below)
"""

import argparse
import os

import mlflow
import mlflow.sklearn
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestRegressor
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

__VALUES__


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracking-uri", default=os.environ.get("MLFLOW_TRACKING_URI", TRACKING_URI))
    parser.add_argument("--experiment", default=EXPERIMENT)
    parser.add_argument("--n-estimators", type=int, default=N_ESTIMATORS)
    args = parser.parse_args()

    iris = load_iris(as_frame=True)
    features = iris.data[["petal length (cm)", "petal width (cm)"]]
    x_train, x_test, y_train, y_test = train_test_split(features, iris.target, test_size=0.3, random_state=7)

    mlflow.set_tracking_uri(args.tracking_uri)
    mlflow.set_experiment(args.experiment)
    with mlflow.start_run(run_name=RUN_NAME) as run:
        model = RandomForestRegressor(n_estimators=args.n_estimators, random_state=7).fit(x_train, y_train)
        mse = mean_squared_error(y_test, model.predict(x_test))
        mlflow.log_param("num_estimators", args.n_estimators)
        mlflow.log_metric("mse", mse)
        # MLflow 3 saves scikit-learn models with skops, which refuses the tree type unless it is trusted;
        # `name=` replaces the tutorial's artifact_path.
        info = mlflow.sklearn.log_model(model, name=MODEL_NAME, input_example=x_train.head(1),
                                        skops_trusted_types=["sklearn.tree._tree.Tree"])
    print(f"mse: {mse:.4f}")
    print(f"run id: {run.info.run_id}")
    print(f"model uri: {info.model_uri}")


if __name__ == "__main__":
    main()
