"""The long-term AWS secret stays in the keyring and this process: never in state, logs or settings, nor in
the argv or environment of the emulator this process starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.aws_fixtures import register_image

pytestmark = pytest.mark.integration


def _proc_strings(pid: int) -> tuple[list[str], dict[str, str]]:
    """A live process's argv and environment, as the kernel holds them."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    pairs = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return argv, dict(p.split("=", 1) for p in pairs if "=" in p)


def test_secret_never_reaches_state_logs_settings_or_the_emulator(aws_project, keyring_pair, moto_server, pushed_image,
                                                                 logged_model):
    """credentials -> iam -> deploy with a keyring pair; then every file of the project is searched.

    The strict emulator runs the deploy for real: the session's model, and its serving image pushed to the stack
    registry and in the emulator's ECR, in the repository the iam step's policy lets SageMaker pull from."""
    from core.runtime.engine import Engine
    from core.runtime.events import EventBus, LogLine
    from core.runtime.redact import redactor
    from core.runtime.settings import save_settings
    from core.steps import STEPS

    key_id, secret = keyring_pair
    state = aws_project.state
    state.update_record("model", status="done", outputs=logged_model)
    state.update_record("push", status="done", outputs=register_image(moto_server.url, pushed_image))
    aws_project.settings.set("image.repository", pushed_image["repository"])
    aws_project.settings.set("deploy.endpoint", "leak-check")
    save_settings(aws_project.root, aws_project.settings)  # the settings file is searched too

    lines = []
    bus = EventBus(redactor)
    bus.subscribe(lambda event: isinstance(event, LogLine) and lines.append(event.text))
    engine = Engine(STEPS, aws_project, bus, confirm=lambda question, details: True)
    assert engine.run("credentials", "iam") and engine.run_step("deploy"), [
        (s, state.record(s)["error"]) for s in ("credentials", "iam", "deploy")]
    credentials = state.outputs("credentials")
    assert credentials["source"] == "keyring" and credentials["key_id_last4"] == key_id[-4:]
    assert state.outputs("deploy")["status"] == "InService"
    assert any(f"****{key_id[-4:]}" in line for line in lines)

    files = [p for p in aws_project.root.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"state.json", "sagewiz.toml"} and any(p.suffix == ".log" for p in files)
    for path in files:
        data = path.read_bytes()
        assert secret.encode() not in data and key_id.encode() not in data, path
    for line in lines:
        assert secret not in line and key_id not in line
    argv, environ = _proc_strings(moto_server.proc.pid)
    for text in (*argv, *environ.values()):
        assert secret not in text and key_id not in text
