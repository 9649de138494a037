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

from tests.plugins.docker_fixtures import stack_value
from tests.plugins.outputs import outputs_of


@dataclass(frozen=True)
class MotoServer:
    url: str
    proc: subprocess.Popen
    log: Path | None = None  # the strict emulator's output


def start_moto(*, strict: bool = True, min_delay: float = 0.0, **extra_env: str) -> MotoServer:
    """The sandbox's strict emulator (core/emulator: moto with SageMaker's checks and endpoint containers, images
    from the stack registry) on a free port, answering; with strict=False plain moto server. Managed IAM
    policies loaded, plus `extra_env`. stop_moto() it (the emulator then removes its containers)."""
    import tempfile

    from core.runtime.ports import any_free
    from tests.conftest import unavailable

    binary = shutil.which("moto_server", path=os.path.dirname(sys.executable))
    if binary is None:
        unavailable("moto server", "moto[server] is not installed (pip install -e '.[dev]')")
    port = any_free()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(MOTO_IAM_LOAD_MANAGED_POLICIES="true", **extra_env)
    workdir = Path(tempfile.mkdtemp(prefix="sagewiz-emulator-"))
    argv = ([sys.executable, "-m", "core.emulator", "--port", str(port), "--workdir", str(workdir / "endpoints"),
             "--registry", stack_value("SAGEWIZ_REGISTRY") or "127.0.0.1:5050", "--min-delay", str(min_delay)]
            if strict else [binary, "-H", "127.0.0.1", "-p", str(port)])
    log = workdir / "emulator.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2).close()
            return MotoServer(url, proc, log)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                unavailable("moto server", f"it did not start on port {port}: {log.read_text()[-800:]}")
            time.sleep(0.2)


def stop_moto(server: MotoServer) -> None:
    server.proc.terminate()
    server.proc.wait(timeout=120)  # the emulator removes its endpoint containers first
    if server.log is not None:
        shutil.rmtree(server.log.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def moto_server():
    """ONE strict emulator for the whole session."""
    server = start_moto()
    yield server
    stop_moto(server)


@pytest.fixture(scope="session")
def moto_url(moto_server):
    return moto_server.url


def sandbox_client(url: str, service: str):
    """A boto3 client on the moto server at `url` with the sandbox credentials, as the test's own eyes."""
    import boto3

    from core.aws.clients import SANDBOX_KEY_ID, SANDBOX_SECRET

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
    registry = stack_value("SAGEWIZ_REGISTRY")
    if registry:
        project.settings.set("sandbox.registry", registry)
    return project


@pytest.fixture
def step_ctx_for(bus):
    """step_ctx_for(project) -> a factory of StepContexts on `project`: make(step_id, confirm=...)."""
    from core.runtime.engine import Engine
    from core.runtime.step import StepContext
    from core.steps import STEPS

    def on(project):
        def make(step: str, confirm=lambda question, details: True) -> StepContext:
            return Engine(STEPS, project, bus, confirm).context(step)

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


def _test_keyring_problem() -> str | None:
    """Why the test session's Secret Service keyring must not be used, or None when it may. Only a keyring
    reached through the D-Bus session scripts/test created for this run counts (dbus_session_problem): any other
    session, a desktop's above all, holds the user's own keyring, whose real key pair the tests would overwrite
    and delete."""
    from core.runtime import secrets
    from tests.conftest import dbus_session_problem

    problem = dbus_session_problem(os.environ)
    if problem is not None:
        return problem
    try:
        secure = secrets.is_secure()
        name = secrets.backend_name()
    except Exception as exc:  # keyring backends raise many kinds here
        return f"the keyring backend failed: {type(exc).__name__}: {exc}"
    if not secure:
        return f"the active backend {name} is not a secure OS keyring"
    if "SecretService" not in name:
        return f"the active backend is {name}, not the Secret Service (run the suite through scripts/test)"
    return None


def require_test_keyring() -> None:
    """unavailable() (fails in CI, skips on a laptop) unless the test session's Secret Service keyring is usable."""
    from tests.conftest import unavailable

    problem = _test_keyring_problem()
    if problem is not None:
        unavailable("The Secret Service keyring", problem)


def is_test_keyring_usable() -> bool:
    """require_test_keyring() as a bool, for callers that run either way."""
    return _test_keyring_problem() is None


@pytest.fixture
def keyring_pair():
    """A distinctive AWS key pair in the test session's Secret Service keyring (never the user's: the suite
    runs under its own D-Bus session, see scripts/test); removed afterwards."""
    from core.aws import keys as aws_keys

    require_test_keyring()
    key_id, secret = "AKIASGWZLEAKCHECK7Q2", "SgwzNeverOnDisk/NorInLogs+0123456789abcd"
    aws_keys.store(key_id, secret)
    yield key_id, secret
    aws_keys.forget()


def run_step_directly(step_ctx, step_id, confirm=lambda q, d: True):
    """A step's run() without the engine (no prerequisite checks or stale marks); its outputs, recorded done."""
    import json

    from core.steps import STEPS

    ctx = step_ctx(step_id, confirm)
    outputs = STEPS.get(step_id).run(ctx).to_json()
    json.dumps(outputs)  # state must be able to hold them
    ctx.project.state.update_record(step_id, status="done", outputs=outputs)
    return outputs


@pytest.fixture
def deployable(step_ctx, sandbox_project, built_image, logged_model):
    """credentials and iam done against the strict emulator, the session's model chosen, and its serving image
    pushed to the stack registry and the emulator's ECR: what SageMaker needs to run it."""
    sandbox_project.settings.set("image.repository", built_image["repository"])
    run_step_directly(step_ctx, "credentials")
    run_step_directly(step_ctx, "iam")
    state = sandbox_project.state
    state.update_record("model", status="done", outputs=logged_model)
    state.update_record("image", status="done", outputs=built_image["outputs"])
    run_step_directly(step_ctx, "push")
    return sandbox_project


@pytest.fixture(scope="session")
def pushed_image(built_image, docker_stack):
    """The session's serving image pushed to the stack registry once: {repository, digest, manifest, media_type}
    for register_image."""
    import json

    api, registry, repository = docker_stack["api"], docker_stack["registry"], built_image["repository"]
    target = f"{registry}/{repository}"
    api.tag(built_image["outputs"]["image_id"], target, "pushed")
    for event in api.push(target, tag="pushed", stream=True, decode=True):
        assert "error" not in event, event
    docker_v2 = "application/vnd.docker.distribution.manifest.v2+json"
    request = urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/pushed",
                                     headers={"Accept": docker_v2})
    with urllib.request.urlopen(request, timeout=30) as response:
        manifest = response.read().decode("utf-8")
        digest = response.headers["Docker-Content-Digest"]
    assert json.loads(manifest)["mediaType"] == docker_v2
    return {"registry": registry, "repository": repository, "digest": digest, "manifest": manifest,
            "media_type": docker_v2}


def register_image(url: str, pushed: dict) -> dict:
    """What the push step leaves in the emulator at `url`: the repository and the pushed manifest in its ECR.
    The push step's outputs for it."""
    ecr = sandbox_client(url, "ecr")
    name = pushed["repository"]
    try:
        repository = ecr.create_repository(repositoryName=name)["repository"]
    except ecr.exceptions.RepositoryAlreadyExistsException:
        repository = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    try:
        ecr.put_image(repositoryName=name, imageManifest=pushed["manifest"], imageDigest=pushed["digest"],
                      imageManifestMediaType=pushed["media_type"], imageTag="pushed")
    except ecr.exceptions.ImageAlreadyExistsException:
        pass
    return outputs_of("push", repository_uri=repository["repositoryUri"], digest=pushed["digest"],
                      image_uri=f"{repository['repositoryUri']}@{pushed['digest']}", registry=pushed["registry"],
                      pull_uri=f"{pushed['registry']}/{name}@{pushed['digest']}", media_type=pushed["media_type"])
