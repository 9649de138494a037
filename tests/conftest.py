"""Shared fixtures: a fresh project per test, an event recorder, the skip-locally/fail-in-CI rule, and the
isolation that keeps every test run off the developer's own machine (see `isolate`)."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from collections.abc import Mapping, MutableMapping
from pathlib import Path

import pytest

from core.runtime.engine import Engine
from core.runtime.events import EventBus, LogLine
from core.runtime.project import Project
from core.runtime.redact import redactor
from core.steps import STEPS

pytest_plugins = [
    "tests.plugins.mlflow_fixtures",
    "tests.plugins.docker_fixtures",
    "tests.plugins.aws_fixtures",
    "tests.plugins.pipeline_fixtures",
]

# scripts/test exports the address of the private D-Bus session it starts under this name (inside that session).
TEST_DBUS_MARKER = "SAGEWIZ_TEST_DBUS"
# A cache directory for the tests (scripts/test sets one it keeps between runs); else each session gets its own.
TEST_CACHE_DIR = "SAGEWIZ_TEST_CACHE_DIR"


def in_ci(environ: Mapping[str, str]) -> bool:
    """CI=1, CI=yes and CI=true (in any case) all mean CI, as in scripts/test."""
    return environ.get("CI", "").lower() in ("1", "true", "yes")


IN_CI = in_ci(os.environ)


def unavailable(what: str, why: str) -> None:
    """A missing service skips on a laptop but fails in CI, where the stack must be up."""
    message = f"{what} is not available: {why}"
    if IN_CI:
        pytest.fail(message + " (CI must provide it: see .ci/run and scripts/stack)", pytrace=False)
    pytest.skip(message)


def dbus_session_problem(environ: Mapping[str, str]) -> str | None:
    """Why the D-Bus session in `environ` may not be used for keyring tests, or None when it may: only the session
    scripts/test created for this run counts (it exports its address as SAGEWIZ_TEST_DBUS inside that session).
    Any other session, such as a desktop's, reaches the user's own keyring and their real `sagewiz` key pair."""
    address = environ.get("DBUS_SESSION_BUS_ADDRESS", "")
    marker = environ.get(TEST_DBUS_MARKER, "")
    if not address:
        return "no D-Bus session (run the suite through scripts/test, which starts its own)"
    if not marker:
        return ("the D-Bus session was not created by this test run, so its keyring may be your own "
                "(run the suite through scripts/test, which starts a private one)")
    if address != marker:
        return (f"the D-Bus session {address} is not the one scripts/test created ({marker}), so its keyring "
                "may be your own")
    return None


def isolate(environ: MutableMapping[str, str], scratch: Path) -> None:
    """Keep the test run off the developer's machine, for this process and everything it starts (wizards,
    servers and scripts inherit its environment): no AWS_* variable of their shell (tests set their own), no
    EC2 metadata lookups, no ~/.aws files, caches (wheelhouse, base-image probes) under SAGEWIZ_TEST_CACHE_DIR
    or `scratch`, never ~/.cache/sagewiz, and no keyring at all unless the D-Bus session is the test run's own."""
    for name in [name for name in environ if name.startswith("AWS_")]:
        del environ[name]
    environ["AWS_EC2_METADATA_DISABLED"] = "true"
    environ["AWS_CONFIG_FILE"] = str(scratch / "aws-config")  # not ~/.aws: absent unless a test writes it
    environ["AWS_SHARED_CREDENTIALS_FILE"] = str(scratch / "aws-credentials")
    environ["SAGEWIZ_CACHE_DIR"] = environ.get(TEST_CACHE_DIR) or str(scratch / "cache")
    if dbus_session_problem(environ) is not None:
        environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"


_scratch: Path | None = None


def pytest_configure(config) -> None:
    global _scratch
    _scratch = Path(tempfile.mkdtemp(prefix="sagewiz-tests-"))
    isolate(os.environ, _scratch)


def pytest_unconfigure(config) -> None:
    if _scratch is not None:
        shutil.rmtree(_scratch, ignore_errors=True)


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
    return Engine(STEPS, project, bus, confirm=lambda question, details: True)
