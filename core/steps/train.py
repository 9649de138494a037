"""The train step: the tutorial's training (built in) or the user's script, against the tracking server."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.runtime.errors import StepError
from core.runtime.outputs import StepOutputs
from core.runtime.proc import env_without_aws
from core.runtime.results import Block, Table, Tree, fields_rows
from core.runtime.step import Shown, Step, StepContext
from core.steps.by_hand import first
from core.tracking import models
from core.tracking import server as mlflow_server
from core.tracking.connection import tracking_uri
from core.tracking.training import MODEL_NAME

if TYPE_CHECKING:
    from core.runtime.project import Project

# Fail in seconds, not minutes, when the server goes away mid-run (MLflow retries 7 times by default).
FAIL_FAST = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
             "MLFLOW_HTTP_REQUEST_TIMEOUT": "60"}


@dataclass(frozen=True)
class TrainOutputs(StepOutputs):
    experiment: str
    experiment_id: str
    run_id: str
    run_name: str | None
    model_uri: str
    model_id: str | None  # None for a model logged the MLflow 2 way (no LoggedModel)
    metrics: dict[str, Any]
    params: dict[str, Any]
    artifacts: list[str]  # file names in the model's directory
    source: str  # "built-in" or the training script's path
    run_url: str  # the run in the MLflow UI; "" when tracking is not a server


class TrainStep(Step):
    id = "train"
    title = "Train and log the model"
    group = "Local"
    Outputs = TrainOutputs
    consumes = ('tracking',)
    settings = ("train.experiment", "train.n_estimators", "train.run_name", "train.script")
    explanation = (
        "Trains the tutorial's model, a RandomForestRegressor on the iris petal features (test_size 0.3, "
        'random_state 7), in the experiment my_classification_model, logging the parameter num_estimators, '
        'the metric mse and the model random-forest-model with its signature and an input example. It is '
        "written for today's MLflow: the tutorial's `mlflow.sklearn.log_model(rf, ...)` fails on MLflow 3. "
        'Set train.script to run your own training script instead. '
    )
    manual = "python train.py   # mlflow.set_experiment('my_classification_model'); with mlflow.start_run(): ..."

    def run(self, ctx: StepContext) -> TrainOutputs:
        uri = tracking_uri(ctx)
        experiment = ctx.settings["train.experiment"]
        argv, what = self._command(ctx)
        # FAIL_FAST first, so the user's own values of those variables win
        env = {**FAIL_FAST, **env_without_aws({"MLFLOW_TRACKING_URI": uri, "MLFLOW_EXPERIMENT_NAME": experiment})}
        launched_ms = int(time.time() * 1000) - 1000
        ctx.log(f"Running {what} against {uri}, experiment {experiment}.")
        code = ctx.run_process(argv, env=env, cwd=ctx.project.root, source="train")
        if code != 0:
            if uri.startswith("http") and not mlflow_server.probe(uri, timeout=2):
                raise StepError(f"The MLflow server at {uri} stopped answering during training, so {what} failed "
                                f"(exit code {code}). Run this step again: it restarts the server sagewiz manages "
                                "(a server of your own must be started by you first).")
            raise StepError(f"{what} failed with exit code {code}; its output is in this step's log. Fix the "
                            "error it shows and run this step again.")
        return self._collect(ctx, uri, experiment, what, launched_ms)

    def _command(self, ctx: StepContext) -> tuple[list[str], str]:
        script = ctx.settings["train.script"]
        if not script:
            return ([sys.executable, "-m", "core.tracking.training",
                     "--n-estimators", str(ctx.settings["train.n_estimators"]),
                     "--run-name", ctx.settings["train.run_name"]], "the built-in tutorial training")
        path = (ctx.project.root / script).resolve()
        if not path.is_file():
            raise StepError(f"The training script {script} (train.script) does not exist under {ctx.project.root}. "
                            "Fix the path, or empty train.script to use the built-in training.")
        return [sys.executable, str(path)], f"your training script {script}"

    def _collect(self, ctx: StepContext, uri: str, experiment: str, what: str, launched_ms: int) -> TrainOutputs:
        """Find the run the training created (in the experiment, started after launch) and its model."""
        experiment_id = models.experiment_id(uri, experiment)
        runs = models.list_runs(uri, experiment_id, since_ms=launched_ms) if experiment_id else []
        if not experiment_id or not runs:
            raise StepError(f"{what.capitalize()} finished but created no run in the experiment {experiment}. "
                            "It must log inside mlflow.start_run() and must not call mlflow.set_experiment with "
                            "another name (or set train.experiment to that name).")
        run = runs[0]
        if not run["has_model"]:
            raise StepError(f"{what.capitalize()} created the run {run['run_id']} but logged no model in it. Log "
                            "one inside the run, e.g. mlflow.sklearn.log_model(model, name='random-forest-model', "
                            "input_example=X_train[:3]), then run this step again.")
        files = models.artifacts(uri, run)
        ctx.log(f"Run {run['run_id']} ({run['run_name']}) holds the model {run['model_uri']}: {', '.join(files)}.")
        if run["metrics"]:
            ctx.log("Metrics: " + ", ".join(f"{k} = {v:.4g}" for k, v in sorted(run["metrics"].items())))
        ui = f"{uri}/#/experiments/{experiment_id}/runs/{run['run_id']}" if uri.startswith("http") else ""
        return TrainOutputs(experiment=experiment, experiment_id=experiment_id, run_id=run["run_id"],
                            run_name=run["run_name"], model_uri=run["model_uri"], model_id=run["model_id"],
                            metrics=run["metrics"], params=run["params"], artifacts=files,
                            source=ctx.settings["train.script"] or "built-in", run_url=ui)

    def verify(self, ctx: StepContext, outputs: TrainOutputs) -> str | None:
        uri = ctx.outputs("tracking").tracking_uri
        if not uri.startswith("http") or not mlflow_server.probe(uri, timeout=2):
            return None  # the tracking step reports an unreachable server
        try:
            models.get_run(uri, outputs.run_id)
        except StepError as exc:
            return str(exc)
        return None

    def values(self, project: Project, outputs: TrainOutputs | None, known: dict[str, Any]) -> dict[str, Any]:
        s = project.settings
        return {"experiment": s["train.experiment"], "run_name": s["train.run_name"],
                "n_estimators": s["train.n_estimators"], "train_script": s["train.script"] or None,
                "experiment_id": outputs.experiment_id if outputs else None,
                "run_id": first(outputs.run_id) if outputs else None,
                "model_uri": first(outputs.model_uri) if outputs else None}

    def by_hand(self, v: Shown) -> str:
        if v.get("train_script"):
            return f"MLFLOW_TRACKING_URI={v['tracking_uri']} python {v['train_script']}"
        return (f"import mlflow\n"
                f"mlflow.set_tracking_uri(\"{v['tracking_uri']}\")\n"
                f"mlflow.set_experiment(\"{v['experiment']}\")   # experiment id {v['experiment_id']}\n"
                f"with mlflow.start_run(run_name=\"{v['run_name']}\") as run:\n"
                f"    rf = RandomForestRegressor(n_estimators={v['n_estimators']}).fit(X_train, y_train)\n"
                f"    mlflow.log_param(\"num_estimators\", {v['n_estimators']})\n"
                "    mlflow.log_metric(\"mse\", mean_squared_error(y_test, rf.predict(X_test)))\n"
                f"    mlflow.sklearn.log_model(rf, name=\"{MODEL_NAME}\", input_example=X_train[:1],\n"
                "                             skops_trusted_types=[\"sklearn.tree._tree.Tree\"])"
                "  # MLflow 3 needs this\n"
                f"# run id: {v['run_id']}\n"
                "# the whole script: `sagewiz export`, then python train.py")

    def results(self, outputs: TrainOutputs) -> list[Block]:
        mse = outputs.metrics.get("mse")
        run = Table(columns=["run id", "experiment", "mse", "model uri"],
                    rows=[[outputs.run_id, outputs.experiment_id,
                           f"{mse:.4f}" if isinstance(mse, (int, float)) else mse, outputs.model_uri]],
                    title="MLflow run")
        tree: list[Block] = [Tree(outputs.artifacts, "artifacts")] if outputs.artifacts else []
        return [run, *tree, *fields_rows(outputs, skip={"run_id", "experiment_id", "metrics", "model_uri",
                                                         "artifacts"})]

