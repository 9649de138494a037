"""The tracking step against real `mlflow server` processes: start, reuse, a taken port, death mid-step."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from core.runtime.engine import Engine
from core.runtime.ports import any_free
from core.runtime.project import Project
from core.steps import STEPS
from core.tracking import server as mlflow_server

pytestmark = pytest.mark.integration


def _wait(predicate, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_start_stream_keep_running_reuse_and_stop_at_exit(project_dir, bus, recorder):
    port = any_free()
    first = Project(project_dir, overrides={"tracking.port": port, "tracking.keep_running": True}).open()
    assert Engine(STEPS, first, bus).run_step("tracking"), first.state.record("tracking")["error"]
    out = first.state.outputs("tracking")
    assert out["tracking_uri"] == out["ui_url"] == f"http://127.0.0.1:{port}" and out["managed"] is True
    assert (first.mlflow_dir / "mlflow.db").is_file()
    assert any("Uvicorn running" in line for line in recorder.lines("tracking"))  # server output streamed
    pid = first.state.service("mlflow")["pid"]
    first.close()  # keep_running: the server outlives this wizard
    assert mlflow_server.alive(pid) and mlflow_server.probe(out["tracking_uri"])

    second = Project(project_dir, overrides={"tracking.port": port}).open()
    try:
        started = time.monotonic()
        assert Engine(STEPS, second, bus).run_step("tracking")
        assert time.monotonic() - started < 5  # reused, not restarted
        assert second.state.service("mlflow")["pid"] == pid
        assert any(f"Reusing the MLflow server started earlier (pid {pid})" in line for line in recorder.lines())
        assert second.state.outputs("tracking") == out
    finally:
        second.close()  # keep_running is off now: the wizard stops the server it adopted
    assert _wait(lambda: not mlflow_server.alive(pid), 15)
    assert second.state.service("mlflow") is None


def test_port_serving_mlflow_is_used_as_is(engine, project, mlflow_server):
    project.settings.set("tracking.port", mlflow_server.port)
    assert engine.run_step("tracking")
    out = project.state.outputs("tracking")
    assert out["tracking_uri"] == mlflow_server.url and out["managed"] is False
    assert project.state.service("mlflow") is None


def test_port_taken_by_a_non_mlflow_listener_names_it_and_offers_the_next_free_port(project, bus, listener):
    port = listener
    project.settings.set("tracking.port", port)
    asked = []
    ok = Engine(STEPS, project, bus, confirm=lambda q, d: asked.append(q) or False).run_step("tracking")
    assert not ok
    error = project.state.record("tracking")["error"]
    assert f"Port {port} is taken by" in error and f"pid {os.getpid()}" in error
    assert "not an MLflow server" in error and "--set tracking.port=" in error
    assert asked and "instead?" in asked[0]


def test_accepting_the_offer_starts_the_server_on_the_next_free_port(project, bus, listener):
    project.settings.set("tracking.port", listener)
    ok = Engine(STEPS, project, bus, confirm=lambda q, d: True).run_step("tracking")
    assert ok, project.state.record("tracking")["error"]
    uri = project.state.outputs("tracking")["tracking_uri"]
    assert int(uri.rsplit(":", 1)[1]) != listener and mlflow_server.probe(uri)
    assert project.state.service("mlflow")["url"] == uri


def test_server_killed_mid_training_fails_clearly_and_resume_restarts_it(engine, project, recorder):
    project.settings.set("tracking.port", any_free())
    project.settings.set("train.n_estimators", 5)
    assert engine.run_step("tracking")
    pid = project.state.service("mlflow")["pid"]
    killer = threading.Thread(target=lambda: _wait(
        lambda: any("Running the built-in tutorial training" in line for line in recorder.lines("train")))
        and os.killpg(pid, signal.SIGKILL))
    killer.start()
    assert not engine.run_step("train")
    killer.join()
    error = project.state.record("train")["error"]
    assert "stopped answering during training" in error and "Run this step again" in error
    assert _wait(lambda: any(f"The MLflow server (pid {pid})" in line and "stopped" in line
                             for line in recorder.lines("tracking")), 5)
    assert engine.verify("tracking") is None  # sagewiz's own server: the next step starts it again

    assert engine.run(end="train")  # resume at train, which starts the server again at the same address
    assert project.state.status("train") == "done", project.state.record("train")["error"]
    assert project.state.status("tracking") == "done"
    assert project.state.service("mlflow")["pid"] != pid
    assert any("is not running; starting it again" in line for line in recorder.lines("train"))


def test_the_wizard_stopping_its_server_at_exit_leaves_the_steps_done(project_dir, bus, recorder):
    """The embedded server stops when the wizard exits; the next session's steps start it again, nothing is stale."""
    overrides = {"tracking.port": any_free(), "train.n_estimators": 5}
    first = Project(project_dir, overrides=overrides).open()
    try:
        assert Engine(STEPS, first, bus).run(end="model"), first.state.record("model")["error"]
    finally:
        first.close()
    assert not mlflow_server.probe(first.state.outputs("tracking")["tracking_uri"])
    again = Project(project_dir, overrides=overrides).open()
    try:
        assert Engine(STEPS, again, bus).run(only="model"), again.state.record("model")["error"]
        statuses = {step: again.state.status(step) for step in ("tracking", "train", "model")}
        assert statuses == {"tracking": "done", "train": "done", "model": "done"}
        assert any("is not running; starting it again" in line for line in recorder.lines("model"))
    finally:
        again.close()
