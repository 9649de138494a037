"""The sandbox's services on their own: `sagewiz sandbox start|status|stop`, the containers of a killed emulator,
and another emulator than sagewiz's (plain moto), with which the sandbox works but says its checks are off."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from tests.plugins.aws_fixtures import run_step_directly, start_moto, stop_moto
from tests.plugins.docker_fixtures import stack_value
from tests.plugins.pipeline_fixtures import sagewiz_argv, wizard_env

pytestmark = pytest.mark.integration


def _sagewiz(project_dir, *args: str) -> str:
    done = subprocess.run(sagewiz_argv(project_dir, *args), capture_output=True, text=True, env=wizard_env(),
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_sandbox_start_keeps_the_strict_emulator_running_until_stop(tmp_path, docker_stack):
    from core.aws.sandbox import strict_emulator

    project_dir = tmp_path / "proj"
    project_dir.mkdir()
    started = _sagewiz(project_dir, "sandbox", "start")
    url = started.split("AWS endpoint:")[1].split()[0]
    registry = started.split("registry:")[1].split()[0]
    try:
        described = strict_emulator(url)
        assert described is not None and described["registry"] == registry
        status = _sagewiz(project_dir, "sandbox", "status")
        assert f"sandbox-aws: {url}" in status and f"sandbox-registry: {registry}" in status
        assert "kept until `sagewiz sandbox stop`" in status
        # a wizard in the project uses them and leaves them running when it closes
        _sagewiz(project_dir, "run", "--sandbox", "--only", "credentials")
        assert strict_emulator(url) is not None
    finally:
        stopped = _sagewiz(project_dir, "sandbox", "stop")
    assert "sandbox-aws" in stopped and "sandbox-registry" in stopped
    assert strict_emulator(url) is None
    assert "sandbox-aws: not running" in _sagewiz(project_dir, "sandbox", "status")


@pytest.fixture
def private_emulator():
    """An emulator of the test's own, so it can be killed."""
    server = start_moto()
    yield server
    if server.proc.poll() is None:
        stop_moto(server)


def _deploy_against(project, step_ctx_for, url, built_image, logged_model):
    project.settings.set("sandbox.enabled", True)
    project.settings.set("sandbox.aws_endpoint", url)
    project.settings.set("sandbox.registry", stack_value("SAGEWIZ_REGISTRY"))
    project.settings.set("image.repository", built_image["repository"])
    step_ctx = step_ctx_for(project)
    for step in ("credentials", "iam"):
        run_step_directly(step_ctx, step)
    project.state.update_record("model", status="done", outputs=logged_model)
    project.state.update_record("image", status="done", outputs=built_image["outputs"])
    run_step_directly(step_ctx, "push")
    lines: list[str] = []
    ctx = step_ctx("deploy")
    ctx.log = lambda line, *a, **k: lines.append(line)
    from core.steps import STEPS

    return STEPS.get("deploy").run(ctx), lines


def _endpoint_containers(api) -> list[str]:
    return [c["Id"] for c in api.containers(all=True, filters={"label": "sagewiz=endpoint"})]


def test_the_containers_of_a_killed_emulator_are_removed_by_the_next(project, step_ctx_for, private_emulator,
                                                                     built_image, logged_model, docker_stack):
    from core.container import docker_api

    api = docker_api.client()
    before = set(_endpoint_containers(api))
    deployed, _ = _deploy_against(project, step_ctx_for, private_emulator.url, built_image, logged_model)
    assert deployed.status == "InService"
    mine = set(_endpoint_containers(api)) - before
    assert len(mine) == 1
    os.killpg(private_emulator.proc.pid, signal.SIGKILL)
    private_emulator.proc.wait(timeout=30)
    assert mine <= set(_endpoint_containers(api))  # killed: nobody removed it
    successor = start_moto()
    try:
        deadline = time.monotonic() + 60
        while mine & set(_endpoint_containers(api)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not mine & set(_endpoint_containers(api))
    finally:
        stop_moto(successor)


def test_plain_moto_still_works_and_deploy_says_the_strict_checks_are_off(project, step_ctx_for, built_image,
                                                                         logged_model, docker_stack):
    plain = start_moto(strict=False)
    try:
        deployed, lines = _deploy_against(project, step_ctx_for, plain.url, built_image, logged_model)
    finally:
        stop_moto(plain)
    assert deployed.status == "InService"
    assert any("is not sagewiz's" in line and "strict checks are off" in line for line in lines)
