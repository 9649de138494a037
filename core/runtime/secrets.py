"""Secrets in the OS keyring (service `sagewiz`) and nowhere else; no plaintext fallback."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from core.runtime.redact import redactor

SERVICE = "sagewiz"

ALTERNATIVES = (
    "Alternatives: use an AWS profile (set aws.profile in sagewiz.toml or pass --profile after `aws configure`), "
    "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the shell that runs sagewiz."
)
# Backends that keep secrets unencrypted on disk or not at all.
_INSECURE = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")
_T = TypeVar("_T")


class SecretsUnavailable(RuntimeError):
    """No secure OS keyring: the message explains why and the alternatives."""


def backend_name() -> str:
    import keyring

    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def is_secure() -> bool:
    """True for an OS-backed keyring (Secret Service, macOS Keychain, Windows Credential Locker)."""
    import keyring
    from keyring.backends import chainer

    backend = keyring.get_keyring()
    backends = backend.backends if isinstance(backend, chainer.ChainerBackend) else [backend]
    names = [f"{type(b).__module__}.{type(b).__name__}" for b in backends]
    return bool(names) and not any(name.startswith(_INSECURE) for name in names)


def describe_backend() -> str:
    """A sentence for the secret dialog: which keyring will hold the secret."""
    try:
        _require_secure()
    except SecretsUnavailable as exc:
        return str(exc)
    return f"Stored in your OS keyring ({backend_name()}), service '{SERVICE}'."


def _require_secure() -> None:
    try:
        import keyring
        import keyring.errors

        keyring.get_keyring()
    except Exception as exc:  # keyring raises a variety of backend errors here
        raise SecretsUnavailable(f"The OS keyring cannot be used ({exc}). {ALTERNATIVES}") from None
    if not is_secure():
        raise SecretsUnavailable(
            f"No secure OS keyring is available (the active backend is {backend_name()}), and sagewiz never "
            f"stores secrets in plain files. Start your desktop keyring (GNOME Keyring, KWallet) or {ALTERNATIVES}"
        )


def _call(action: Callable[..., _T], *args: str) -> _T:
    import keyring.errors

    _require_secure()
    try:
        return action(*args)
    except keyring.errors.KeyringLocked:
        raise SecretsUnavailable(f"The OS keyring is locked; unlock it and try again. {ALTERNATIVES}") from None
    except keyring.errors.NoKeyringError:
        raise SecretsUnavailable(f"No OS keyring is available. {ALTERNATIVES}") from None
    except keyring.errors.KeyringError as exc:
        raise SecretsUnavailable(f"The OS keyring refused the request ({exc}). {ALTERNATIVES}") from None
    except Exception as exc:  # the backend's own errors, e.g. secretstorage's when D-Bus is gone
        raise SecretsUnavailable(f"The OS keyring could not be reached ({exc}). {ALTERNATIVES}") from None


def store(name: str, value: str) -> None:
    import keyring

    redactor.register(value)
    _call(keyring.set_password, SERVICE, name, value)


def get(name: str) -> str | None:
    import keyring

    value = _call(keyring.get_password, SERVICE, name)
    redactor.register(value)
    return value


def forget(name: str) -> bool:
    """Delete a secret; False when it was not there."""
    import keyring
    import keyring.errors

    _require_secure()
    try:
        keyring.delete_password(SERVICE, name)
    except keyring.errors.PasswordDeleteError:
        return False
    return True
