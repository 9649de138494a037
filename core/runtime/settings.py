"""User settings from `sagewiz.toml`: every key has a default and is validated on load."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SETTINGS_FILE = "sagewiz.toml"


class SettingsError(ValueError):
    """A setting has a bad value; the message names the key, the value and what is allowed."""


@dataclass(frozen=True)
class Field:
    key: str
    default: Any
    help: str
    kind: type
    allowed: str = ""
    check: Callable[[Any], bool] | None = None
    choices: tuple[str, ...] = ()


def _pattern(regex: str) -> Callable[[Any], bool]:
    compiled = re.compile(regex)
    return lambda value: value == "" or bool(compiled.fullmatch(value))


REGION = r"[a-z]{2}(-gov)?-[a-z]+-\d"
# SageMaker resource names: letters, digits and hyphens, 63 at most, no leading/trailing hyphen.
SAGEMAKER_NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
ECR_REPOSITORY = r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
S3_BUCKET = r"(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
IAM_ROLE = r"[\w+=,.@-]{1,64}"
INSTANCE_TYPE = r"ml\.[a-z0-9]+\.[a-z0-9]+"

FIELDS: tuple[Field, ...] = (
    Field("aws.region", "us-east-1", "AWS region for ECR, S3 and SageMaker", str, "a region name like us-east-1",
          _pattern(REGION)),
    Field("aws.profile", "", "AWS profile to use; when set it wins over a key pair in the keyring", str,
          "a profile name or empty"),
    Field("tracking.uri", "", "an existing MLflow tracking server; empty starts the embedded one", str,
          "an http(s) URL or empty", _pattern(r"https?://\S+|databricks(://\S+)?")),
    Field("tracking.host", "127.0.0.1", "address the embedded MLflow server binds", str, "an IP address or host name",
          _pattern(r"[A-Za-z0-9.:-]+")),
    Field("tracking.port", 5000, "port of the embedded MLflow server", int, "an integer from 1024 to 65535",
          lambda v: 1024 <= v <= 65535),
    Field("tracking.keep_running", False, "leave the MLflow server running when the wizard exits", bool,
          "true or false"),
    Field("train.experiment", "my_classification_model", "MLflow experiment name", str, "a non-empty name",
          lambda v: bool(v.strip())),
    Field("train.n_estimators", 100, "trees in the RandomForest", int, "an integer from 1 to 5000",
          lambda v: 1 <= v <= 5000),
    Field("train.run_name", "sagewiz-train", "MLflow run name", str, "a non-empty name", lambda v: bool(v.strip())),
    Field("train.script", "", "your own training script, run instead of the built-in one", str,
          "a path to a .py file or empty", _pattern(r".+\.py")),
    Field("model.run_id", "", "MLflow run to deploy; empty picks the newest run with a model", str,
          "a 32-character hex run id or empty", _pattern(r"[0-9a-f]{32}")),
    Field("image.base", "", "base image; empty means python:<model's major.minor>-slim", str,
          "an image reference or empty", _pattern(r"[a-z0-9./_:@-]+")),
    Field("image.deps", "pip", "how dependencies get into the image", str, "pip or wheelhouse",
          choices=("pip", "wheelhouse")),
    Field("image.repository", "sagewiz-model", "ECR repository name", str,
          "lower-case letters, digits, . _ - and /, 2 to 256 characters",
          lambda v: 2 <= len(v) <= 256 and bool(re.fullmatch(ECR_REPOSITORY, v))),
    Field("smoke.ping_timeout", 120, "seconds the smoke test waits for the container's /ping", int,
          "an integer from 5 to 900", lambda v: 5 <= v <= 900),
    Field("iam.role_name", "sagewiz-sagemaker-execution", "SageMaker execution role", str,
          "1 to 64 characters of letters, digits and +=,.@_-", _pattern(IAM_ROLE)),
    Field("iam.policy", "least-privilege", "policy of the execution role", str, "least-privilege or managed",
          choices=("least-privilege", "managed")),
    Field("deploy.endpoint", "sagewiz-iris", "SageMaker endpoint name", str,
          "1 to 63 letters, digits and hyphens, not starting or ending with a hyphen",
          lambda v: bool(re.fullmatch(SAGEMAKER_NAME, v))),
    Field("deploy.instance_type", "ml.m5.large", "endpoint instance type", str, "an instance type like ml.m5.large",
          lambda v: bool(re.fullmatch(INSTANCE_TYPE, v))),
    Field("deploy.instance_count", 1, "endpoint instances", int, "an integer from 1 to 10", lambda v: 1 <= v <= 10),
    Field("deploy.bucket", "", "S3 bucket for the model tarball; empty means sagewiz-<account>-<region>", str,
          "an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens) or empty", _pattern(S3_BUCKET)),
    Field("deploy.timeout_minutes", 30, "how long to wait for InService", int, "an integer from 1 to 180",
          lambda v: 1 <= v <= 180),
    Field("predict.input", "", "rows to send: a .json/.csv file or inline JSON/CSV; empty sends iris test rows", str,
          "a file path, JSON or CSV text, or empty"),
    Field("cleanup.everything", False, "cleanup also deletes the ECR repository and the IAM role", bool,
          "true or false"),
    Field("sandbox.enabled", False, "run every AWS step against a local emulator", bool, "true or false"),
    Field("sandbox.aws_endpoint", "", "an AWS emulator that already runs (sagewiz sandbox start); empty starts "
          "sagewiz's own", str, "an http URL or empty", _pattern(r"https?://\S+")),
    Field("sandbox.own_credentials", False, "sign sandbox calls with your own credentials (keyring, profile, "
          "environment) to rehearse that path; they go to the local emulator only", bool, "true or false"),
    Field("sandbox.registry", "", "a registry that already runs, host:port; empty starts one", str,
          "host:port or empty", _pattern(r"[A-Za-z0-9.-]+:\d+")),
)
FIELDS_BY_KEY = {field.key: field for field in FIELDS}


def _validate(field: Field, value: Any) -> Any:
    expected = field.kind
    if expected is int and isinstance(value, bool) or not isinstance(value, expected):
        raise SettingsError(
            f"Setting {field.key} = {value!r} is not valid: expected {field.allowed} ({expected.__name__})."
        )
    if field.choices and value not in field.choices:
        raise SettingsError(f"Setting {field.key} = {value!r} is not valid: allowed values are {field.allowed}.")
    if field.check is not None and not field.check(value):
        raise SettingsError(f"Setting {field.key} = {value!r} is not valid: expected {field.allowed}.")
    return value


class Settings:
    """Validated settings, read with dotted keys (`settings["deploy.endpoint"]`)."""

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self._values = {field.key: field.default for field in FIELDS}
        self._explicit: set[str] = set()
        for key, value in (values or {}).items():
            self.set(key, value)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def set(self, key: str, value: Any) -> None:
        field = FIELDS_BY_KEY.get(key)
        if field is None:
            raise SettingsError(f"Unknown setting {key}: known settings are {', '.join(FIELDS_BY_KEY)}.")
        self._values[key] = _validate(field, value)
        self._explicit.add(key)

    def parse_and_set(self, key: str, text: str) -> None:
        """Set a value typed by a user (CLI or form), converting it to the key's type."""
        field = FIELDS_BY_KEY.get(key)
        if field is None:
            raise SettingsError(f"Unknown setting {key}: known settings are {', '.join(FIELDS_BY_KEY)}.")
        value: Any = text
        if field.kind is int:
            try:
                value = int(text)
            except ValueError:
                raise SettingsError(f"Setting {key} = {text!r} is not valid: expected {field.allowed}.") from None
        elif field.kind is bool:
            if text.lower() not in ("true", "false", "yes", "no", "1", "0"):
                raise SettingsError(f"Setting {key} = {text!r} is not valid: expected true or false.")
            value = text.lower() in ("true", "yes", "1")
        self.set(key, value)

    def explicit(self) -> dict[str, Any]:
        """The values someone set (in sagewiz.toml, on the command line, in the form), defaults included: an
        explicit `sandbox.enabled = false` is a choice, not a default."""
        return {k: v for k, v in self._values.items() if k in self._explicit}


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, dotted + "."))
        else:
            flat[dotted] = value
    return flat


def load_settings(project_dir: Path) -> Settings:
    path = project_dir / SETTINGS_FILE
    if not path.exists():
        return Settings()
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML ({exc}); fix the file or remove it to use the "
                            "defaults.") from None
    try:
        return Settings(_flatten(table))
    except SettingsError as exc:
        raise SettingsError(f"{path}: {exc}") from None


def save_settings(project_dir: Path, settings: Settings) -> Path:
    """Write the explicitly set settings back, grouped by section (the user may edit the file)."""
    import tomli_w

    nested: dict[str, dict[str, Any]] = {}
    for key, value in settings.explicit().items():
        section, name = key.split(".", 1)
        nested.setdefault(section, {})[name] = value
    path = project_dir / SETTINGS_FILE
    path.write_text(tomli_w.dumps(nested), encoding="utf-8")
    return path
