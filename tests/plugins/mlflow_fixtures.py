"""Fixtures for the MLflow tests: ONE real `mlflow server` per session, and projects pointed at it."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.runtime.proc import stop_pid

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real `mlflow server` (sqlite store, local artifacts) on a free port, for tests that only need a server."""
    from core.runtime.errors import StepError
    from core.runtime.ports import any_free
    from core.tracking import server
    from tests.conftest import unavailable

    root = tmp_path_factory.mktemp("mlflow-server")
    port = any_free()
    paths = SimpleNamespace(mlflow_dir=root, logs_dir=root)
    proc, log = server.start(paths, "127.0.0.1", port)
    url = f"http://127.0.0.1:{port}"
    try:
        version = server.wait_healthy(url, proc, log, threading.Event(), timeout=120)
    except StepError as exc:
        stop_pid(proc.pid)
        unavailable("mlflow server", str(exc))
    yield SimpleNamespace(url=url, port=port, pid=proc.pid, version=version, root=root)
    stop_pid(proc.pid)


@pytest.fixture
def on_mlflow(project, mlflow_server, request):
    """The `project` fixture pointed at the session server, with an experiment of its own and tracking done."""
    import uuid

    from core.runtime.engine import Engine
    from core.runtime.events import EventBus
    from core.steps import STEPS
    from core.tracking.connection import connect

    project.settings.set("tracking.uri", mlflow_server.url)
    project.settings.set("train.experiment", f"{request.node.name[:40]}-{uuid.uuid4().hex[:8]}")
    project.settings.set("train.n_estimators", 10)
    ctx = Engine(STEPS, project, EventBus()).context("tracking")
    project.state.update_record("tracking", status="done", outputs=connect(ctx).to_json())
    return project
