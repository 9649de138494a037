"""The model step: choose the run whose model gets deployed, validate it and try it locally."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from core import models
from core.errors import StepError
from core.steps.base import Step, StepContext
from core.steps.tracking import tracking_uri

TABLE_ROWS = 10


def own_predictions(ctx: StepContext, columns: list[str], rows: list[list]) -> list:
    """The chosen model's predictions for rows, loaded here: what the image's and endpoint's answers are held to."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="sagewiz-model-") as tmp:
        return models.predict(model_on_disk(ctx, Path(tmp)), columns, rows)


def model_on_disk(ctx: StepContext, into: Path) -> Path:
    """The chosen model's directory for the steps that package it (image, deploy)."""
    model = ctx.outputs("model")
    if not model.get("model_uri"):
        raise StepError("No model is chosen yet; run the model step first.")
    return models.local_copy(model, into,
                             lambda: tracking_uri(ctx) if ctx.outputs("tracking") else model.get("tracking_uri"))


class ModelStep(Step):
    id = "model"
    title = "Choose the model"
    group = "Local"
    consumes = ('tracking', 'train')
    settings = ("model.run_id", "train.experiment")
    explanation = (
        'Picks the run whose model gets deployed (the newest by default, or model.run_id), checks that it has '
        'the python_function flavor SageMaker serving needs, loads it and predicts on its input example, so a '
        'broken model fails here and not on a paid endpoint. '
    )
    manual = 'mlflow runs list --experiment-id <id>\npython -c "import mlflow; m = mlflow.pyfunc.load_model(\'runs:/<run_id>/random-forest-model\'); print(m.metadata)"'

    def run(self, ctx: StepContext) -> dict[str, Any]:
        uri = tracking_uri(ctx)
        experiment = ctx.settings["train.experiment"]
        experiment_id = ctx.outputs("train").get("experiment_id") or models.experiment_id(uri, experiment)
        rows = models.list_runs(uri, experiment_id) if experiment_id else []
        self._log_table(ctx, rows)
        row = self._choose(ctx, uri, experiment, rows)
        ctx.log(f"Chosen: run {row['run_id']} ({row['run_name']}), model {row['model_uri']}.")
        dest = ctx.project.dir / "models" / row["run_id"]  # outside build/, which the image step replaces
        shutil.rmtree(dest, ignore_errors=True)
        facts = models.inspect(uri, row, dest)
        ctx.log(f"Loaded the model (python_function, Python {facts['python_version']}) and predicted on its "
                f"input example: {facts['local_predictions']}.")
        return {"run_id": row["run_id"], "run_name": row["run_name"], "model_uri": row["model_uri"],
                "model_id": row["model_id"], "tracking_uri": uri,
                "experiment_id": row.get("experiment_id", experiment_id), "metrics": row["metrics"], **facts}

    def _choose(self, ctx: StepContext, uri: str, experiment: str, rows: list[dict]) -> dict[str, Any]:
        wanted = ctx.settings["model.run_id"]
        if wanted:
            row = next((r for r in rows if r["run_id"] == wanted), None) or models.get_run(uri, wanted)
            if not row["has_model"]:
                raise StepError(f"The run {wanted} holds no model, so there is nothing to deploy. Choose a run "
                                "with a model (the table above marks them), or empty model.run_id for the newest.")
            return row
        with_model = [r for r in rows if r["has_model"]]
        if not with_model:
            raise StepError(f"No run in the experiment {experiment} holds a model yet. Run the train step first, "
                            "or set model.run_id to a run of another experiment.")
        return with_model[0]

    def _log_table(self, ctx: StepContext, rows: list[dict]) -> None:
        ctx.log(f"{len(rows)} run(s) in the experiment (newest first):")
        for row in rows[:TABLE_ROWS]:
            when = dt.datetime.fromtimestamp(row["start_time"] / 1000).strftime("%Y-%m-%d %H:%M:%S")
            metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(row["metrics"].items())) or "no metrics"
            ctx.log(f"  {row['run_id']}  {when}  {row['run_name'] or '':20}  {metrics:24}  "
                    f"{'model ' + row['model_name'] if row['has_model'] else 'no model'}")
        if len(rows) > TABLE_ROWS:
            ctx.log(f"  ... and {len(rows) - TABLE_ROWS} older run(s).")

