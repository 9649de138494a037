"""Secrets round-trip through the real Secret Service keyring of the test session (never the user's)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from core.aws import keys as aws_keys
from core.runtime import secrets
from tests.plugins.aws_fixtures import require_test_keyring

pytestmark = pytest.mark.integration

KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKY"


@pytest.fixture
def keyring_session():
    require_test_keyring()
    yield
    aws_keys.forget()


def test_store_get_forget_round_trip(keyring_session):
    name = f"test-{uuid.uuid4().hex[:8]}"
    secrets.store(name, "value-" + name)
    assert secrets.get(name) == "value-" + name
    assert secrets.forget(name) is True
    assert secrets.get(name) is None
    assert secrets.forget(name) is False
    assert "SecretService" in secrets.describe_backend()


def test_cli_stores_from_stdin_and_never_prints_the_secret(keyring_session, project_dir):
    env = dict(os.environ)
    store = subprocess.run([sys.executable, "-m", "tui.cli", "--project-dir", str(project_dir), "credentials", "store"],
                           input=f"{KEY_ID}\n{SECRET}\n", capture_output=True, text=True, env=env)
    assert store.returncode == 0, store.stderr
    assert "****MPLE" in store.stdout and SECRET not in store.stdout + store.stderr
    assert aws_keys.load() == (KEY_ID, SECRET)
    show = subprocess.run([sys.executable, "-m", "tui.cli", "--project-dir", str(project_dir), "credentials", "show"],
                          capture_output=True, text=True, env=env)
    assert "****MPLE" in show.stdout and KEY_ID not in show.stdout and SECRET not in show.stdout
    for path in project_dir.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="ignore"), path


def test_badly_shaped_key_is_refused_before_storing(keyring_session, project_dir):
    result = subprocess.run([sys.executable, "-m", "tui.cli", "--project-dir", str(project_dir), "credentials",
                             "store"], input=f"{KEY_ID}\nshort\n", capture_output=True, text=True)
    assert result.returncode == 2
    assert "40 characters" in result.stdout
    assert aws_keys.load() is None
