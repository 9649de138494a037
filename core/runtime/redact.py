"""Redaction of secrets from every log line: known values plus the shapes of AWS and Docker secrets."""

from __future__ import annotations

import re
import threading

MASK = "****"

# A 40-character base64 run with mixed case or / + is shaped like an AWS secret access key;
# lower-case-only hex (git SHAs, digests) is left alone.
_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z/+])"
                         r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# Session tokens and docker auth blobs are long base64 runs.
_LONG_TOKEN = re.compile(r"[A-Za-z0-9/+]{100,}={0,2}")
# key=value or "key": "value" pairs whose value is a secret whatever its shape.
_SECRET_FIELD = re.compile(
    r"""(?ix)
    ((?<![A-Za-z0-9_])"?(?:aws_secret_access_key|aws_session_token|secret_?access_?key|session_?token|secretaccesskey|sessiontoken|
        password|passwd|auth|identitytoken|registrytoken|x-registry-auth|authorizationtoken)"?\s*[:=]\s*"?)
    ([^"\s,}]+)
    """
)


class Redactor:
    """Masks registered secret values and secret-shaped strings; thread-safe, one per process."""

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def register(self, value: str | None) -> None:
        if value and len(value) >= 6:
            with self._lock:
                self._known.add(value)

    def __call__(self, text: str) -> str:
        with self._lock:
            known = sorted(self._known, key=len, reverse=True)
        for value in known:
            if value in text:
                text = text.replace(value, MASK)
        text = _SECRET_FIELD.sub(lambda m: m.group(1) + MASK, text)
        text = _LONG_TOKEN.sub(MASK, text)
        return _SECRET_KEY.sub(MASK, text)


redactor = Redactor()
