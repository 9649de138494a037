"""Redaction: known values, AWS-secret shapes, session tokens, docker auth payloads; harmless text kept."""

from __future__ import annotations

import base64
import json

import pytest

from core.runtime.events import EventBus, LogLine, StepFailed
from core.runtime.redact import MASK, Redactor

pytestmark = pytest.mark.unit

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEHYaCXVzLWVhc3QtMSJHMEUCIQ" + "A" * 300


@pytest.mark.parametrize("line", [
    f"using secret {SECRET} now",
    f"aws_secret_access_key = {SECRET}",
    f"AWS_SESSION_TOKEN={TOKEN}",
    f'{{"auth": "{base64.b64encode(b"AWS:eyJwYXlsb2FkIjoiQUJD").decode()}"}}',
    'X-Registry-Auth: eyJ1c2VybmFtZSI6IkFXUyIsInBhc3N3b3JkIjoic2VjcmV0In0=',
    '"password": "hunter2-but-longer"',
])
def test_secret_shapes_are_masked(line):
    redacted = Redactor()(line)
    assert MASK in redacted
    for fragment in (SECRET, TOKEN, "hunter2-but-longer", "eyJ1c2VybmFtZSI6IkFXUyIsInBhc3N3b3JkIjoic2VjcmV0In0="):
        assert fragment not in redacted


@pytest.mark.parametrize("line", [
    "run_id 3f2a9c0d1b7e4f6a8c9d0e1f2a3b4c5d logged",
    "commit 8f14e45fceea167a5a36dedd4bea2543a1b2c3d4 built",
    "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "arn:aws:iam::123456789012:role/sagewiz-sagemaker-execution",
    "mse 0.0412 with 100 estimators",
])
def test_ordinary_identifiers_survive(line):
    assert Redactor()(line) == line


def test_registered_value_is_masked_anywhere():
    redactor = Redactor()
    redactor.register("short-pass-123")
    assert redactor("x=short-pass-123;") == f"x={MASK};"


def test_bus_redacts_log_lines_and_errors_before_subscribers_see_them():
    redactor = Redactor()
    redactor.register("my-unique-secret-value")
    seen = []
    bus = EventBus(redactor)
    bus.subscribe(seen.append)
    bus.emit(LogLine("credentials", "got my-unique-secret-value"))
    bus.emit(StepFailed("credentials", f"bad key {SECRET}", 0.1))
    assert "my-unique-secret-value" not in json.dumps([e.__dict__ for e in seen], default=str)
    assert SECRET not in seen[1].error
