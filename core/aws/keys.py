"""The user's AWS access key pair in the OS keyring: shape checks, store, show (masked), forget."""

from __future__ import annotations

import re

from core.runtime import secrets
from core.runtime.errors import StepError

KEY_ID_NAME = "aws_access_key_id"
SECRET_NAME = "aws_secret_access_key"
KEY_ID_SHAPE = re.compile(r"(AKIA|ASIA)[A-Z0-9]{16}")
SECRET_SHAPE = re.compile(r"[A-Za-z0-9/+=]{40}")


def validate(key_id: str, secret: str) -> None:
    """Shape checks before any call, with what a valid value looks like."""
    if not KEY_ID_SHAPE.fullmatch(key_id):
        raise StepError("That access key id does not look like one: it starts with AKIA (or ASIA) followed by "
                        "16 upper-case letters or digits, 20 characters in all. Copy it again from the IAM console.")
    if not SECRET_SHAPE.fullmatch(secret):
        raise StepError(f"That secret access key is {len(secret)} characters long; AWS secret keys are 40 characters "
                        "of letters, digits, / and +. Copy it again (it is shown once, when the key is created).")


def store(key_id: str, secret: str) -> None:
    key_id, secret = key_id.strip(), secret.strip()
    validate(key_id, secret)
    secrets.store(KEY_ID_NAME, key_id)
    secrets.store(SECRET_NAME, secret)


def load() -> tuple[str, str] | None:
    """The stored pair, or None when none is stored."""
    key_id, secret = secrets.get(KEY_ID_NAME), secrets.get(SECRET_NAME)
    if key_id and secret:
        return key_id, secret
    return None


def masked_key_id(key_id: str) -> str:
    return f"****{key_id[-4:]}"


def forget() -> bool:
    removed = secrets.forget(KEY_ID_NAME)
    return secrets.forget(SECRET_NAME) or removed
