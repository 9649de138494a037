"""The model step on a real MLflow server: newest or chosen run, local prediction, stale propagation."""

from __future__ import annotations

import sys

import pytest

pytestmark = pytest.mark.integration

LATER = ("image", "smoke", "push", "deploy", "predict")


@pytest.fixture
def two_runs(on_mlflow, engine):
    """Two trainings in the project's experiment: (older run id, newer run id)."""
    ids = []
    for _ in range(2):
        assert engine.run_step("train"), on_mlflow.state.record("train")["error"]
        ids.append(on_mlflow.state.outputs("train")["run_id"])
    return ids


def _pretend_done(project, steps) -> None:
    for step in steps:
        project.state.update_record(step, status="done", outputs={"from": "an earlier run"})


def test_newest_by_default_then_by_id_and_another_choice_makes_later_steps_stale(on_mlflow, engine, two_runs,
                                                                                  mlflow_server):
    older, newer = two_runs
    assert engine.run_step("model"), on_mlflow.state.record("model")["error"]
    out = on_mlflow.state.outputs("model")
    assert out["run_id"] == newer and out["flavor"] == "python_function"
    assert out["tracking_uri"] == mlflow_server.url and out["model_uri"] == f"runs:/{newer}/random-forest-model"
    assert out["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert out["input_example"]["columns"] == ["petal length (cm)", "petal width (cm)"]
    assert len(out["local_predictions"]) == len(out["input_example"]["data"]) == 3

    _pretend_done(on_mlflow, LATER)
    assert engine.run_step("model")  # same choice again: nothing downstream goes stale
    assert all(on_mlflow.state.status(s) == "done" for s in LATER)

    on_mlflow.settings.set("model.run_id", older)
    assert engine.run_step("model")
    assert on_mlflow.state.outputs("model")["run_id"] == older
    assert all(on_mlflow.state.status(s) == "stale" for s in LATER)


def test_retraining_makes_the_model_and_everything_after_it_stale(on_mlflow, engine):
    assert engine.run_step("train") and engine.run_step("model")
    _pretend_done(on_mlflow, LATER)
    assert engine.run_step("train")
    assert all(on_mlflow.state.status(s) == "stale" for s in ("model", *LATER))


def test_an_unknown_run_is_refused(on_mlflow, engine):
    on_mlflow.settings.set("model.run_id", "0" * 32)
    assert not engine.run_step("model")
    assert f"There is no MLflow run {'0' * 32}" in on_mlflow.state.record("model")["error"]
