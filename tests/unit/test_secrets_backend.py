"""Without a secure OS keyring sagewiz refuses, explains the alternatives, and never falls back to plaintext."""

from __future__ import annotations

import keyring
import keyring.backend
import pytest
from keyring.backends import fail

from core.runtime import secrets

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


class _Unreachable(keyring.backend.KeyringBackend):
    """A backend whose service went away (secretstorage raises its own error when D-Bus is gone)."""

    priority = 1
    # Every KeyringBackend subclass joins keyring's discovery; a viable fake would make keyring pick its
    # chainer over Secret Service in every later test of this process.
    viable = False

    def get_password(self, service, username):
        raise RuntimeError("Environment variable DBUS_SESSION_BUS_ADDRESS is unset")

    def set_password(self, service, username, password):
        raise RuntimeError("Environment variable DBUS_SESSION_BUS_ADDRESS is unset")

    def delete_password(self, service, username):
        raise RuntimeError("Environment variable DBUS_SESSION_BUS_ADDRESS is unset")


def test_a_backend_that_cannot_be_reached_is_a_sentence_not_a_crash():
    previous = keyring.get_keyring()
    keyring.set_keyring(_Unreachable())
    try:
        with pytest.raises(secrets.SecretsUnavailable, match="could not be reached.*AWS profile"):
            secrets.get("aws_secret_access_key")
    finally:
        keyring.set_keyring(previous)
