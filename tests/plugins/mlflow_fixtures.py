"""Fixtures for the MLflow tests: ONE real `mlflow server` per session, and projects pointed at it."""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from core.proc import stop_pid

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    """A real `mlflow server` (sqlite store, local artifacts) on a free port, for tests that only need a server."""
    from core import mlflow_server as server
    from core.errors import StepError
    from tests.conftest import free_port, unavailable

    root = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
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

    from core.steps.tracking import connect
    from core.steps.base import StepContext
    from core.events import EventBus

    project.settings.set("tracking.uri", mlflow_server.url)
    project.settings.set("train.experiment", f"{request.node.name[:40]}-{uuid.uuid4().hex[:8]}")
    project.settings.set("train.n_estimators", 10)
    ctx = StepContext(project, "tracking", EventBus(), threading.Event(), lambda q, d: False)
    project.state.update_record("tracking", status="done", outputs=connect(ctx))
    return project
