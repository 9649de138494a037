"""The train step: the tutorial's training (built in) or the user's script, against the tracking server."""

from __future__ import annotations

import sys
import time
from typing import Any

from core import mlflow_server, models
from core.errors import StepError
from core.proc import env_without_aws
from core.steps.base import Step, StepContext
from core.steps.tracking import tracking_uri

# Fail in seconds, not minutes, when the server goes away mid-run (MLflow retries 7 times by default).
FAIL_FAST = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
             "MLFLOW_HTTP_REQUEST_TIMEOUT": "60"}


class TrainStep(Step):
    id = "train"
    title = "Train and log the model"
    group = "Local"
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

    def run(self, ctx: StepContext) -> dict[str, Any]:
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
            return ([sys.executable, "-m", "core.training", "--n-estimators", str(ctx.settings["train.n_estimators"]),
                     "--run-name", ctx.settings["train.run_name"]], "the built-in tutorial training")
        path = (ctx.project.root / script).resolve()
        if not path.is_file():
            raise StepError(f"The training script {script} (train.script) does not exist under {ctx.project.root}. "
                            "Fix the path, or empty train.script to use the built-in training.")
        return [sys.executable, str(path)], f"your training script {script}"

    def _collect(self, ctx: StepContext, uri: str, experiment: str, what: str, launched_ms: int) -> dict[str, Any]:
        """Find the run the training created (in the experiment, started after launch) and its model."""
        experiment_id = models.experiment_id(uri, experiment)
        runs = models.list_runs(uri, experiment_id, since_ms=launched_ms) if experiment_id else []
        if not runs:
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
        return {"experiment": experiment, "experiment_id": experiment_id, "run_id": run["run_id"],
                "run_name": run["run_name"], "model_uri": run["model_uri"], "model_id": run["model_id"],
                "metrics": run["metrics"], "params": run["params"], "artifacts": files,
                "source": ctx.settings["train.script"] or "built-in", "run_url": ui}

    def verify(self, ctx: StepContext, outputs: dict[str, Any]) -> str | None:
        uri = ctx.outputs("tracking").get("tracking_uri", "")
        if not uri.startswith("http") or not mlflow_server.probe(uri, timeout=2):
            return None  # the tracking step reports an unreachable server
        try:
            models.get_run(uri, outputs["run_id"])
        except StepError as exc:
            return str(exc)
        return None

