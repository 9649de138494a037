"""Preflight checks that need no outside service: ports, region, disk, and the bound on a silent Docker."""

from __future__ import annotations

import os
import socket
import time

import pytest

from core.aws.checks import region
from core.container import checks as container_checks
from core.container.checks import disk, docker_engine
from core.runtime import ports
from core.runtime.checks import run_checks
from core.runtime.ports import any_free
from core.steps import STEPS
from core.steps.preflight import CHECKS
from core.tracking.checks import mlflow_port

pytestmark = pytest.mark.unit


def test_owner_names_the_listening_process(listener):
    assert ports.owner(listener) == f"{open('/proc/self/comm').read().strip()} (pid {os.getpid()})"
    assert not ports.is_free("127.0.0.1", listener)
    assert ports.next_free("127.0.0.1", listener) != listener


def test_free_port_is_ok(project):
    project.settings.set("tracking.port", any_free())
    result = mlflow_port(project)
    assert result.status == "ok" and "is free" in result.detail


def test_port_taken_by_something_else_warns_with_owner_and_next_free_port(project, listener):
    project.settings.set("tracking.port", listener)
    result = mlflow_port(project)
    assert result.status == "warn"
    assert f"pid {os.getpid()}" in result.detail and "not MLflow" in result.detail
    suggested = int(result.fix.split("tracking.port = ")[1].split()[0])
    assert suggested > listener and ports.is_free("127.0.0.1", suggested)


def test_external_tracking_needs_no_port(project, listener):
    project.settings.set("tracking.port", listener)
    project.settings.set("tracking.uri", "http://mlflow.example.com")
    assert mlflow_port(project).status == "ok"


def test_region_must_offer_sagemaker_and_a_typo_gets_suggestions(project):
    assert region(project).status == "ok"
    project.settings.set("aws.region", "us-esat-1")
    result = region(project)
    assert result.status == "fail" and "us-east-1" in result.fix


def test_disk_warns_under_ten_gigabytes(project, monkeypatch):
    assert disk(project).status in ("ok", "warn")
    monkeypatch.setattr(container_checks, "DISK_WARN_GB", 10**9)
    assert disk(project).status == "warn"


def test_a_docker_socket_that_never_answers_fails_within_the_bound(project, tmp_path, monkeypatch):
    path = tmp_path / "silent.sock"
    silent = socket.socket(socket.AF_UNIX)
    silent.bind(str(path))
    silent.listen()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    started = time.monotonic()
    try:
        (result,) = run_checks(project, [docker_engine])
    finally:
        silent.close()
    assert time.monotonic() - started < 3.5
    assert result.status == "fail" and "Start Docker" in result.fix


def test_preflight_and_doctor_run_every_check_a_step_requires():
    required = {check.name for step in STEPS for check in step.requires}
    assert required and required <= {check.name for check in CHECKS}
    assert len({check.name for check in CHECKS}) == len(CHECKS) == 5
