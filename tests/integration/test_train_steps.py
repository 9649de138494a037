"""The train step on a real MLflow server: the built-in tutorial training and users' scripts."""

from __future__ import annotations

import pytest

from core.tracking import models
from tests.plugins.mlflow_fixtures import FIXTURES

pytestmark = pytest.mark.integration

MODEL_FILES = {"MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt"}


def test_builtin_training_logs_a_run_whose_mse_and_model_load_back(on_mlflow, engine, mlflow_server, tmp_path):
    on_mlflow.settings.set("train.n_estimators", 7)
    on_mlflow.settings.set("train.run_name", "tutorial")
    assert engine.run_step("train"), on_mlflow.state.record("train")["error"]
    out = on_mlflow.state.outputs("train")
    assert MODEL_FILES <= set(out["artifacts"]) and "model.skops" in out["artifacts"]
    assert out["model_uri"] == f"runs:/{out['run_id']}/random-forest-model" and out["run_name"] == "tutorial"

    row = models.get_run(mlflow_server.url, out["run_id"])  # read back through the server
    assert row["params"] == {"num_estimators": "7"}
    assert row["metrics"]["mse"] == pytest.approx(out["metrics"]["mse"]) and 0 <= out["metrics"]["mse"] < 0.5
    assert row["experiment_id"] == out["experiment_id"]
    facts = models.inspect(mlflow_server.url, row, tmp_path / "model")
    assert len(facts["local_predictions"]) == 3
    assert any(r.startswith("scikit-learn==") for r in facts["requirements"])
    assert not any(r.startswith("pytest") for r in facts["requirements"])


def test_user_script_runs_against_the_server_and_its_run_is_found(on_mlflow, engine, recorder):
    on_mlflow.settings.set("train.script", str(FIXTURES / "train_good.py"))
    assert engine.run_step("train"), on_mlflow.state.record("train")["error"]
    out = on_mlflow.state.outputs("train")
    assert out["run_name"] == "user-script" and out["params"] == {"num_estimators": "5"}
    assert any(f"run id {out['run_id']}" in line for line in recorder.lines("train"))  # its output was streamed
    assert MODEL_FILES <= set(out["artifacts"])


def test_a_crashing_script_says_it_failed(on_mlflow, engine, recorder):
    on_mlflow.settings.set("train.script", str(FIXTURES / "train_crash.py"))
    assert not engine.run_step("train")
    error = on_mlflow.state.record("train")["error"]
    assert "train_crash.py failed with exit code 1" in error
    assert any("FileNotFoundError: data/iris.csv" in line for line in recorder.lines("train"))


def test_a_script_that_logs_no_model_says_so(on_mlflow, engine):
    on_mlflow.settings.set("train.script", str(FIXTURES / "train_nomodel.py"))
    assert not engine.run_step("train")
    error = on_mlflow.state.record("train")["error"]
    assert "created the run" in error and "logged no model" in error


def test_a_missing_script_is_named(on_mlflow, engine):
    on_mlflow.settings.set("train.script", "nowhere/train.py")
    assert not engine.run_step("train")
    assert "nowhere/train.py (train.script) does not exist" in on_mlflow.state.record("train")["error"]
