"""The tracking step: mlflow tracking server."""

from __future__ import annotations

from core.steps.base import Step


class TrackingStep(Step):
    id = "tracking"
    title = "MLflow tracking server"
    group = "Local"
    consumes = ()
    explanation = (
        'Starts the MLflow tracking server the tutorial opens with `mlflow ui`: it records experiments, runs, '
        "parameters, metrics and model artifacts, and serves the UI on http://127.0.0.1:5000. sagewiz's "
        'embedded default keeps its sqlite database and artifacts under .sagewiz/mlflow; set tracking.uri to '
        "use a team's server instead. "
    )
    manual = 'mlflow server --host 127.0.0.1 --port 5000 \\\n  --backend-store-uri sqlite:///.sagewiz/mlflow/mlflow.db \\\n  --artifacts-destination .sagewiz/mlflow/artifacts'
