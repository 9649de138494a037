"""MLflow runs and their models: list an experiment's runs, find a run's model, validate and try a model.

Every function takes the tracking URI explicitly and uses an `MlflowClient`, so nothing here changes
MLflow's process-wide tracking URI.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.runtime.errors import StepError

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run


def client(tracking_uri: str) -> MlflowClient:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri)


def experiment_id(tracking_uri: str, name: str) -> str | None:
    found = client(tracking_uri).get_experiment_by_name(name)
    return found.experiment_id if found is not None else None


def _models_by_run(mlflow_client: MlflowClient, experiment: str) -> dict[str, dict[str, Any]]:
    """The newest logged model of each run (MLflow 3 LoggedModels), by source run id."""
    found: dict[str, dict[str, Any]] = {}
    token = None
    while True:
        page = mlflow_client.search_logged_models([experiment], page_token=token)
        for model in page:
            run_id = model.source_run_id
            previous = found.get(run_id) if run_id else None
            if run_id and (previous is None or model.creation_timestamp > previous["created"]):
                found[run_id] = {"name": model.name, "model_id": model.model_id,
                                 "created": model.creation_timestamp}
        token = page.token
        if not token:
            return found


def _history_model(run: Run) -> dict[str, Any] | None:
    """A model recorded the MLflow 2 way, in the run's `mlflow.log-model.history` tag."""
    try:
        history = json.loads(run.data.tags.get("mlflow.log-model.history", "[]"))
    except ValueError:
        return None
    return {"name": history[-1]["artifact_path"], "model_id": None} if history else None


def _row(run: Run, model: dict[str, Any] | None) -> dict[str, Any]:
    return {"run_id": run.info.run_id, "run_name": run.info.run_name, "status": run.info.status,
            "start_time": run.info.start_time, "metrics": dict(run.data.metrics), "params": dict(run.data.params),
            "has_model": model is not None, "model_name": model["name"] if model else None,
            "model_id": model["model_id"] if model else None,
            "model_uri": f"runs:/{run.info.run_id}/{model['name']}" if model else None}


def list_runs(tracking_uri: str, experiment: str, since_ms: int | None = None) -> list[dict[str, Any]]:
    """The experiment's runs, newest first, with metrics and whether (and which) model each holds."""
    mlflow_client = client(tracking_uri)
    query = f"attributes.start_time >= {since_ms}" if since_ms is not None else ""
    runs = mlflow_client.search_runs([experiment], filter_string=query, order_by=["attributes.start_time DESC"],
                                     max_results=1000)
    models = _models_by_run(mlflow_client, experiment)
    return [_row(run, models.get(run.info.run_id) or _history_model(run)) for run in runs]


def get_run(tracking_uri: str, run_id: str) -> dict[str, Any]:
    """One run by id, as a `list_runs` row; a sentence when it does not exist."""
    from mlflow.exceptions import MlflowException

    mlflow_client = client(tracking_uri)
    try:
        run = mlflow_client.get_run(run_id)
    except MlflowException:
        raise StepError(f"There is no MLflow run {run_id} on {tracking_uri}. Check model.run_id (or --run-id); "
                        "the model step's log lists the runs there are.") from None
    models = _models_by_run(mlflow_client, run.info.experiment_id)
    row = _row(run, models.get(run_id) or _history_model(run))
    row["experiment_id"] = run.info.experiment_id
    return row


def location(tracking_uri: str, row: dict[str, Any]) -> str:
    """Where a run's model is stored (an artifact URI), found without MLflow's process-wide tracking URI."""
    mlflow_client = client(tracking_uri)
    if row["model_id"]:
        return mlflow_client.get_logged_model(row["model_id"]).artifact_location
    return f"{mlflow_client.get_run(row['run_id']).info.artifact_uri.rstrip('/')}/{row['model_name']}"


def local_copy(model: dict[str, Any], into: Path, tracking_uri: Callable[[], str | None]) -> Path:
    """The chosen model on disk: the copy the model step downloaded and validated while it is still there,
    else a fresh download through the run's artifact location (a bare `runs:/` URI would fall back to MLflow's
    process-wide tracking URI). `tracking_uri` is asked only when a download is needed."""
    import mlflow.artifacts

    kept = Path(model.get("local_path") or into / "missing")
    if (kept / "MLmodel").is_file():
        return kept
    uri = tracking_uri()
    where = model["model_uri"]
    try:
        logged_id = where.split("/", 1)[1] if where.startswith("models:/m-") else ""
        if uri and (where.startswith("runs:/") or logged_id):
            # models:/ and runs:/ would resolve through MLflow's process-wide URIs (./mlruns by default)
            where = location(uri, {"run_id": model.get("run_id", ""), "model_id": model.get("model_id") or logged_id,
                                   "model_name": where.rsplit("/", 1)[-1]})
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=where, dst_path=str(into),
                                                         tracking_uri=uri or None))
    except Exception as exc:  # MLflow raises many kinds here (unreachable server, missing run)
        raise StepError(f"The model {model['model_uri']} could not be downloaded from MLflow ({exc}). Check that "
                        "the tracking server runs (the tracking step starts it) and the run still exists.") from None
    if not (local / "MLmodel").is_file():
        raise StepError(f"{model['model_uri']} has no MLmodel file: it is not an MLflow model. Pick another run.")
    return local


def artifacts(tracking_uri: str, row: dict[str, Any]) -> list[str]:
    """File names in the model's directory (MLmodel, conda.yaml, python_env.yaml, requirements.txt, model file)."""
    import mlflow.artifacts

    found = mlflow.artifacts.list_artifacts(artifact_uri=location(tracking_uri, row), tracking_uri=tracking_uri)
    return sorted(Path(info.path).name for info in found)


def _frame_json(frame: Any) -> dict[str, Any]:  # a pandas DataFrame
    split = json.loads(frame.to_json(orient="split", index=False))
    return {"columns": split["columns"], "data": split["data"]}


def inspect(tracking_uri: str, row: dict[str, Any], dest: Path) -> dict[str, Any]:
    """Download a run's model, require python_function, load it and predict on its input example."""
    import mlflow.artifacts
    import mlflow.pyfunc
    import pandas as pd
    from mlflow.models import Model

    dest.mkdir(parents=True, exist_ok=True)
    model_uri = row["model_uri"]
    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=location(tracking_uri, row),
                                                     tracking_uri=tracking_uri, dst_path=str(dest)))
    meta = Model.load(str(local))
    flavors = sorted(meta.flavors)
    if "python_function" not in meta.flavors:
        raise StepError(f"The model {model_uri} has no python_function flavor (it has {', '.join(flavors)}), "
                        "which SageMaker serving needs. Log it with mlflow.sklearn.log_model (or another "
                        "flavor that adds python_function) and choose that run.")
    example = meta.load_input_example(str(local))
    if example is None:
        raise StepError(f"The model {model_uri} was logged without an input example, so it cannot be tried "
                        "here or smoke-tested later. Log it with input_example=<a few training rows>.")
    frame = example if isinstance(example, pd.DataFrame) else pd.DataFrame(example)
    try:
        loaded = mlflow.pyfunc.load_model(str(local))
        predictions = loaded.predict(frame)
    except Exception as exc:
        raise StepError(f"The model {model_uri} does not load or predict here ({type(exc).__name__}: {exc}), so "
                        "it would fail on SageMaker too. Check its requirements.txt against this environment, "
                        "or choose another run.") from exc
    req_file = local / "requirements.txt"
    lines = req_file.read_text(encoding="utf-8").splitlines() if req_file.exists() else []
    return {"flavor": "python_function", "flavors": flavors, "python_version": _python_version(local),
            "requirements": [line.strip() for line in lines if line.strip() and not line.startswith("#")],
            "input_example": _frame_json(frame), "local_predictions": _as_list(predictions),
            "local_path": str(local), "model_uuid": meta.model_uuid or ""}


def predict(local: Path, columns: list[str], rows: list[list[Any]]) -> list[Any]:
    """The model's own predictions for rows, loaded from its directory (no tracking server involved)."""
    import mlflow.pyfunc
    import pandas as pd

    return _as_list(mlflow.pyfunc.load_model(str(local)).predict(pd.DataFrame(rows, columns=columns)))


def _python_version(local: Path) -> str:
    env = local / "python_env.yaml"
    if env.exists():
        import yaml

        version = (yaml.safe_load(env.read_text(encoding="utf-8")) or {}).get("python")
        if version:
            return str(version)
    return platform.python_version()


def _as_list(predictions: Any) -> list[Any]:
    if hasattr(predictions, "tolist"):  # a numpy array, or a pandas object (its values)
        values: list[Any] = predictions.tolist() if not hasattr(predictions, "to_dict") else predictions.values.tolist()
        return values
    return list(predictions)
