"""Without a secure OS keyring sagewiz refuses, explains the alternatives, and never falls back to plaintext."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from core import secrets

pytestmark = pytest.mark.unit


@pytest.fixture
def no_keyring():
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def test_missing_keyring_is_explained_with_alternatives(no_keyring):
    assert secrets.is_secure() is False
    with pytest.raises(secrets.SecretsUnavailable) as info:
        secrets.store("x", "value-that-must-not-land")
    message = str(info.value)
    assert "AWS profile" in message and "AWS_ACCESS_KEY_ID" in message
    assert "never stores secrets in plain files" in message
    assert "never stores" in secrets.describe_backend()
