"""The model step: choose the run whose model gets deployed, validate it and try it locally."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.runtime.errors import StepError
from core.runtime.outputs import StepOutputs
from core.runtime.results import Block, Rows, Table, fields_rows
from core.runtime.step import Shown, Step, StepContext
from core.steps.by_hand import first
from core.tracking import models
from core.tracking.connection import tracking_uri
from core.tracking.training import FEATURES

if TYPE_CHECKING:
    from core.runtime.project import Project

TABLE_ROWS = 10
EXAMPLE_ROWS = 5  # rows of the input example in the results


@dataclass(frozen=True)
class ModelOutputs(StepOutputs):
    run_id: str
    run_name: str | None
    model_uri: str
    model_id: str | None  # None for a model logged the MLflow 2 way (no LoggedModel)
    tracking_uri: str  # the server the model was chosen on
    experiment_id: str
    metrics: dict[str, Any]
    # What models.inspect found in the downloaded model:
    flavor: str
    flavors: list[str]
    python_version: str
    requirements: list[str]
    input_example: dict[str, Any]  # {"columns": [...], "data": [[...], ...]}
    local_predictions: list[Any]
    local_path: str  # the validated copy under .sagewiz/models, reused by the steps that package it
    model_uuid: str


class ModelStep(Step):
    id = "model"
    title = "Choose the model"
    group = "Local"
    Outputs = ModelOutputs
    consumes = ("tracking",)
    reads = ("train",)
    settings = ("model.run_id", "train.experiment")
    explanation = (
        'Picks the run whose model gets deployed (the newest by default, or model.run_id), checks that it has '
        'the python_function flavor SageMaker serving needs, loads it and predicts on its input example, so a '
        'broken model fails here and not on a paid endpoint. '
    )
    manual = ('mlflow runs list --experiment-id <id>\n'
              'python -c "import mlflow; m = mlflow.pyfunc.load_model(\'runs:/<run_id>/random-forest-model\'); '
              'print(m.metadata)"')

    def run(self, ctx: StepContext) -> ModelOutputs:
        uri = tracking_uri(ctx)
        experiment = ctx.settings["train.experiment"]
        train = ctx.outputs_if_any("train")
        experiment_id = train.experiment_id if train else models.experiment_id(uri, experiment)
        rows = models.list_runs(uri, experiment_id) if experiment_id else []
        self._log_table(ctx, rows)
        row = self._choose(ctx, uri, experiment, rows)
        ctx.log(f"Chosen: run {row['run_id']} ({row['run_name']}), model {row['model_uri']}.")
        dest = ctx.project.dir / "models" / row["run_id"]  # outside build/, which the image step replaces
        shutil.rmtree(dest, ignore_errors=True)
        facts = models.inspect(uri, row, dest)
        ctx.log(f"Loaded the model (python_function, Python {facts['python_version']}) and predicted on its "
                f"input example: {facts['local_predictions']}.")
        return ModelOutputs(run_id=row["run_id"], run_name=row["run_name"], model_uri=row["model_uri"],
                            model_id=row["model_id"], tracking_uri=uri, metrics=row["metrics"],
                            experiment_id=row.get("experiment_id", experiment_id or ""), **facts)

    def _choose(self, ctx: StepContext, uri: str, experiment: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
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

    def _log_table(self, ctx: StepContext, rows: list[dict[str, Any]]) -> None:
        ctx.log(f"{len(rows)} run(s) in the experiment (newest first):")
        for row in rows[:TABLE_ROWS]:
            when = dt.datetime.fromtimestamp(row["start_time"] / 1000).strftime("%Y-%m-%d %H:%M:%S")
            metrics = ", ".join(f"{k}={v:.4g}" for k, v in sorted(row["metrics"].items())) or "no metrics"
            ctx.log(f"  {row['run_id']}  {when}  {row['run_name'] or '':20}  {metrics:24}  "
                    f"{'model ' + row['model_name'] if row['has_model'] else 'no model'}")
        if len(rows) > TABLE_ROWS:
            ctx.log(f"  ... and {len(rows) - TABLE_ROWS} older run(s).")

    def values(self, project: Project, outputs: ModelOutputs | None, known: dict[str, Any]) -> dict[str, Any]:
        s = project.settings
        python = outputs.python_version if outputs else None
        return {
            # The tracking step's server, else the one the model was chosen on, else the settings' address.
            "tracking_uri": first(known.get("tracking_uri"), outputs.tracking_uri if outputs else None,
                                  s["tracking.uri"], f"http://{s['tracking.host']}:{s['tracking.port']}"),
            "run_id": first(outputs.run_id if outputs else None, s["model.run_id"]),
            "model_uri": first(outputs.model_uri) if outputs else None,
            "flavor": outputs.flavor if outputs else None,
            "python_version": first(python),
            "python_minor": ".".join(python.split(".")[:2]) if python else None,
            "requirements": (outputs.requirements if outputs else None) or [],
            "input_example": outputs.input_example if outputs else None,
        }

    def by_hand(self, v: Shown) -> str:
        example = v.get("input_example") or {"columns": FEATURES, "data": [["<x1>", "<x2>"]]}
        return (f"export MLFLOW_TRACKING_URI={v['tracking_uri']}\n"
                f"mlflow runs describe --run-id {v['run_id']}\n"
                f"mlflow artifacts list --artifact-uri {v['model_uri']}"
                "     # MLmodel, requirements.txt, the model file\n"
                f"mlflow artifacts download --artifact-uri {v['model_uri']} --dst-path model\n"
                "python -c \"import mlflow, pandas as pd; "
                f"print(mlflow.pyfunc.load_model('model').predict(pd.DataFrame(**{example!r})))\"")

    def results(self, outputs: ModelOutputs) -> list[Block]:
        shown = ["run_id", "model_uri", "tracking_uri", "flavor", "python_version", "requirements"]
        blocks: list[Block] = [*fields_rows(outputs, shown, "model")]
        columns = outputs.input_example.get("columns")
        if columns:
            blocks.append(Table(columns=[str(c) for c in columns],
                                rows=outputs.input_example.get("data", [])[:EXAMPLE_ROWS],
                                title="input example"))
        if outputs.local_predictions:
            blocks.append(Rows([("local_predictions", outputs.local_predictions)]))
        return blocks + fields_rows(outputs, skip={*shown, "input_example", "local_predictions"})
