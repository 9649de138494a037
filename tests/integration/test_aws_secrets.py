"""The long-term AWS secret stays in the keyring and this process: never in state, logs or settings, nor in
the argv or environment of the emulator this process starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.plugins.outputs import outputs_of

pytestmark = pytest.mark.integration


def _proc_strings(pid: int) -> tuple[list[str], dict[str, str]]:
    """A live process's argv and environment, as the kernel holds them."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    pairs = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    return argv, dict(p.split("=", 1) for p in pairs if "=" in p)


def test_secret_never_reaches_state_logs_settings_or_the_emulator(aws_project, keyring_pair, moto_server, tmp_path):
    """credentials -> iam -> deploy with a keyring pair; then every file of the project is searched."""
    from core.runtime.engine import Engine
    from core.runtime.events import EventBus, LogLine
    from core.runtime.redact import redactor
    from core.runtime.settings import save_settings
    from core.steps import STEPS

    key_id, secret = keyring_pair
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "MLmodel").write_text("flavors:\n  python_function: {}\n")
    (model_dir / "model.pkl").write_bytes(b"\0" * 1000)
    state = aws_project.state
    state.update_record("model", status="done", outputs=outputs_of("model", model_uri=str(model_dir), tracking_uri=""))
    state.update_record("push", status="done", outputs=outputs_of(
        "push", image_uri=f"123456789012.dkr.ecr.us-east-1.amazonaws.com/sagewiz-model@sha256:{'a' * 64}"))
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
