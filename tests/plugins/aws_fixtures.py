"""Fixtures for the AWS tests: ONE moto server per session on a free port, and sandbox projects pointed at it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stack_registry() -> str:
    value = os.environ.get("SAGEWIZ_REGISTRY")
    env_file = Path("/var/tmp/sagewiz-stack/stack.env")
    if not value and env_file.is_file():
        for line in env_file.read_text().splitlines():
            if line.startswith("SAGEWIZ_REGISTRY="):
                value = line.split("=", 1)[1].strip()
    return value or ""


@pytest.fixture(scope="session")
def moto_url():
    """A moto server (managed IAM policies loaded) for the whole session; its URL."""
    from tests.conftest import unavailable

    binary = shutil.which("moto_server", path=os.path.dirname(sys.executable))
    if binary is None:
        unavailable("moto server", "moto[server] is not installed (pip install -e '.[dev]')")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                unavailable("moto server", f"it did not start on port {port}")
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def sandbox_client(url: str, service: str):
    """A boto3 client on the moto server at `url` with the sandbox credentials, as the test's own eyes."""
    import boto3

    from core.aws import SANDBOX_KEY_ID, SANDBOX_SECRET

    return boto3.client(service, endpoint_url=url, region_name="us-east-1", aws_access_key_id=SANDBOX_KEY_ID,
                        aws_secret_access_key=SANDBOX_SECRET)


def moto_reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"), timeout=30).close()


@pytest.fixture
def sandbox_project(project, moto_url):
    """The `project` fixture in sandbox mode against the session's moto server (reset) and the stack registry."""
    moto_reset(moto_url)
    project.settings.set("sandbox.enabled", True)
    project.settings.set("sandbox.aws_endpoint", moto_url)
    registry = _stack_registry()
    if registry:
        project.settings.set("sandbox.registry", registry)
    return project


@pytest.fixture
def step_ctx(sandbox_project, bus):
    """A factory of StepContexts on the sandbox project: step_ctx(step_id, confirm=...)."""
    import threading

    from core.steps.base import StepContext

    def make(step: str, confirm=lambda question, details: True) -> StepContext:
        return StepContext(sandbox_project, step, bus, threading.Event(), confirm)

    return make
