"""Shared fixtures: a fresh project per test, an event recorder, and the skip-locally/fail-in-CI rule."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest

from core.engine import Engine
from core.events import EventBus, LogLine
from core.project import Project
from core.redact import redactor

pytest_plugins = [
    "tests.plugins.mlflow_fixtures",
    "tests.plugins.docker_fixtures",
    "tests.plugins.aws_fixtures",
    "tests.plugins.pipeline_fixtures",
]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(what: str, why: str) -> None:
    """A missing service skips on a laptop but fails in CI, where the stack must be up."""
    message = f"{what} is not available: {why}"
    if IN_CI:
        pytest.fail(message + " (CI must provide it: see .ci/run and scripts/stack)", pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """Collects every event from the bus, thread-safely."""

    def __init__(self) -> None:
        self.events: list = []
        self._lock = threading.Lock()

    def __call__(self, event) -> None:
        with self._lock:
            self.events.append(event)

    def of(self, kind) -> list:
        with self._lock:
            return [e for e in self.events if isinstance(e, kind)]

    def lines(self, step: str | None = None) -> list[str]:
        return [e.text for e in self.of(LogLine) if step is None or e.step == step]


@pytest.fixture
def listener():
    """A plain TCP listener (not MLflow) on a free port, held by this test process."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def project_dir(tmp_path: Path) -> Path:
    path = tmp_path / "proj"
    path.mkdir()
    return path


@pytest.fixture
def project(project_dir: Path):
    """An opened project with default settings; closed (services stopped, lock released) after the test."""
    proj = Project(project_dir).open()
    yield proj
    proj.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def bus(recorder: Recorder) -> EventBus:
    event_bus = EventBus(redactor)
    event_bus.subscribe(recorder)
    return event_bus


@pytest.fixture
def engine(project: Project, bus: EventBus) -> Engine:
    return Engine(project, bus, confirm=lambda question, details: True)
