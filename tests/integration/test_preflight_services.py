"""Preflight and `sagewiz doctor` against the real Docker engine and AWS emulator, up and unreachable."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.runtime.checks import run_checks
from core.runtime.ports import any_free
from core.steps.preflight import CHECKS
from tests.conftest import unavailable
from tests.plugins.docker_fixtures import stack_value

pytestmark = pytest.mark.integration


@pytest.fixture
def docker_up(monkeypatch):
    host = stack_value("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if host.startswith("unix://") and not Path(host[7:]).exists():
        unavailable("Docker engine", f"no socket at {host}")
    monkeypatch.setenv("DOCKER_HOST", host)
    return host


def _one(project, name):
    (result,) = run_checks(project, [c for c in CHECKS if c.name == name])
    return result


def test_docker_up_reports_version_and_architecture(project, docker_up):
    result = _one(project, "docker")
    if result.status == "fail":
        unavailable("Docker engine", result.detail)
    assert result.status in ("ok", "warn") and result.detail.startswith("Docker ") and "linux/" in result.detail


def test_docker_down_is_a_fail_with_a_fix(project, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'dead.sock'}")
    result = _one(project, "docker")
    assert result.status == "fail" and "no socket there" in result.detail and "Start Docker" in result.fix


def test_aws_emulator_up_gives_the_identity(sandbox_project):
    result = _one(sandbox_project, "aws")
    assert result.status == "ok", result.detail
    assert "arn:aws:" in result.detail and "sandbox" in result.detail


def test_aws_unreachable_is_a_bounded_fail(project):
    project.settings.set("sandbox.enabled", True)
    project.settings.set("sandbox.aws_endpoint", f"http://127.0.0.1:{any_free()}")
    started = time.monotonic()
    result = _one(project, "aws")
    assert time.monotonic() - started < 4
    assert result.status == "fail" and "does not answer" in result.detail


def test_port_check_sees_an_mlflow_server_for_reuse(project, mlflow_server):
    project.settings.set("tracking.port", mlflow_server.port)
    result = _one(project, "port")
    assert result.status == "ok" and f"MLflow {mlflow_server.version}" in result.detail and "reused" in result.detail


def test_doctor_prints_the_table_and_stays_bounded_with_everything_unreachable(project_dir, tmp_path):
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path / 'dead.sock'}"}
    (project_dir / "sagewiz.toml").write_text(
        f'[sandbox]\nenabled = true\naws_endpoint = "http://127.0.0.1:{any_free()}"\n')
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "tui.cli", "doctor", "--project-dir", str(project_dir)],
                          env=env, capture_output=True, text=True, timeout=30)
    elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    for title in ("Docker engine", "MLflow port", "AWS credentials", "AWS region", "Disk space"):
        assert title in done.stdout
    assert "fail" in done.stdout and elapsed < 8
