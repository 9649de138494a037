"""Fixtures for the AWS tests: ONE moto server per session on a free port (start_moto for tests that need their
own), sandbox projects pointed at it, real-AWS-mode projects reaching it through AWS_ENDPOINT_URL, and a key pair
in the test session's keyring."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
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


@dataclass(frozen=True)
class MotoServer:
    url: str
    proc: subprocess.Popen


def start_moto(**extra_env: str) -> MotoServer:
    """A moto server on a free port (managed IAM policies loaded, plus `extra_env`), answering; stop() it."""
    from tests.conftest import unavailable

    binary = shutil.which("moto_server", path=os.path.dirname(sys.executable))
    if binary is None:
        unavailable("moto server", "moto[server] is not installed (pip install -e '.[dev]')")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(MOTO_IAM_LOAD_MANAGED_POLICIES="true", **extra_env)
    proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2).close()
            return MotoServer(url, proc)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                unavailable("moto server", f"it did not start on port {port}")
            time.sleep(0.2)


def stop_moto(server: MotoServer) -> None:
    server.proc.terminate()
    server.proc.wait(timeout=10)


@pytest.fixture(scope="session")
def moto_server():
    """ONE moto server for the whole session."""
    server = start_moto()
    yield server
    stop_moto(server)


@pytest.fixture(scope="session")
def moto_url(moto_server):
    return moto_server.url


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
def step_ctx_for(bus):
    """step_ctx_for(project) -> a factory of StepContexts on `project`: make(step_id, confirm=...)."""
    import threading

    from core.steps.base import StepContext

    def on(project):
        def make(step: str, confirm=lambda question, details: True) -> StepContext:
            return StepContext(project, step, bus, threading.Event(), confirm)

        return make

    return on


@pytest.fixture
def step_ctx(sandbox_project, step_ctx_for):
    """A factory of StepContexts on the sandbox project: step_ctx(step_id, confirm=...)."""
    return step_ctx_for(sandbox_project)


# Credential variables the developer's shell may hold; tests choose their own.
AWS_CREDENTIAL_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                      "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


def point_at(project, monkeypatch, url: str):
    """`project` in real-AWS mode (not the sandbox: no fixed sandbox credentials) whose clients reach the
    emulator at `url` through AWS_ENDPOINT_URL, as a LocalStack user would set it; no ambient credentials."""
    for name in AWS_CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(project.root.parent / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(project.root.parent / "no-aws-credentials"))
    project.settings.set("sandbox.enabled", False)
    return project


@pytest.fixture
def aws_project(project, moto_url, monkeypatch):
    """The `project` fixture in real-AWS mode against the session's moto server (reset)."""
    moto_reset(moto_url)
    return point_at(project, monkeypatch, moto_url)


@pytest.fixture
def keyring_pair():
    """A distinctive AWS key pair in the test session's Secret Service keyring (never the user's: the suite
    runs under its own D-Bus session, see scripts/test); removed afterwards."""
    from core import aws_keys, secrets
    from tests.conftest import unavailable

    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        unavailable("The Secret Service keyring", "no D-Bus session (run the suite through scripts/test)")
    try:
        usable = secrets.is_secure() and "SecretService" in secrets.backend_name()
    except Exception as exc:  # keyring backends raise many kinds here
        unavailable("The Secret Service keyring", str(exc))
    if not usable:
        unavailable("The Secret Service keyring", f"the active backend is {secrets.backend_name()}")
    key_id, secret = "AKIASGWZLEAKCHECK7Q2", "SgwzNeverOnDisk/NorInLogs+0123456789abcd"
    aws_keys.store(key_id, secret)
    yield key_id, secret
    aws_keys.forget()
