"""The bad-input table: each bad input gets a sentence and an exit code, and state and ledger stay unchanged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.state import StateStore

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

# (case id, sagewiz.toml text or None, CLI arguments, stdin, exit code, fragment of the message)
CASES = [
    ("region-shape", '[aws]\nregion = "moon-1"\n', ["status"], None, 2, "aws.region"),
    ("region-type", "[aws]\nregion = 5\n", ["status"], None, 2, "aws.region"),
    ("port-low", "[tracking]\nport = 80\n", ["status"], None, 2, "from 1024 to 65535"),
    ("port-high", "[tracking]\nport = 70000\n", ["status"], None, 2, "tracking.port"),
    ("port-string", '[tracking]\nport = "5000"\n', ["status"], None, 2, "tracking.port"),
    ("tracking-uri-scheme", '[tracking]\nuri = "ftp://mlflow"\n', ["status"], None, 2, "http(s) URL"),
    ("estimators-zero", "[train]\nn_estimators = 0\n", ["status"], None, 2, "train.n_estimators"),
    ("estimators-bool", "[train]\nn_estimators = true\n", ["status"], None, 2, "train.n_estimators"),
    ("experiment-empty", '[train]\nexperiment = " "\n', ["status"], None, 2, "train.experiment"),
    ("script-not-python", '[train]\nscript = "train.sh"\n', ["status"], None, 2, ".py file"),
    ("run-id-shape", '[model]\nrun_id = "latest"\n', ["status"], None, 2, "32-character hex"),
    ("deps-mode", '[image]\ndeps = "conda"\n', ["status"], None, 2, "pip or wheelhouse"),
    ("ecr-upper", '[image]\nrepository = "MyRepo"\n', ["status"], None, 2, "image.repository"),
    ("ecr-short", '[image]\nrepository = "a"\n', ["status"], None, 2, "image.repository"),
    ("ecr-trailing-dash", '[image]\nrepository = "repo-"\n', ["status"], None, 2, "image.repository"),
    ("role-space", '[iam]\nrole_name = "my role"\n', ["status"], None, 2, "iam.role_name"),
    ("role-too-long", f'[iam]\nrole_name = "{"r" * 65}"\n', ["status"], None, 2, "iam.role_name"),
    ("policy-choice", '[iam]\npolicy = "admin"\n', ["status"], None, 2, "least-privilege or managed"),
    ("endpoint-leading-dash", '[deploy]\nendpoint = "-iris"\n', ["status"], None, 2, "deploy.endpoint"),
    ("endpoint-underscore", '[deploy]\nendpoint = "my_endpoint"\n', ["status"], None, 2, "deploy.endpoint"),
    ("endpoint-too-long", f'[deploy]\nendpoint = "{"e" * 64}"\n', ["status"], None, 2, "1 to 63"),
    ("instance-type-shape", '[deploy]\ninstance_type = "m5.large"\n', ["status"], None, 2, "ml.m5.large"),
    ("instance-count", "[deploy]\ninstance_count = 11\n", ["status"], None, 2, "from 1 to 10"),
    ("bucket-upper", '[deploy]\nbucket = "My_Bucket"\n', ["status"], None, 2, "deploy.bucket"),
    ("bucket-short", '[deploy]\nbucket = "ab"\n', ["status"], None, 2, "deploy.bucket"),
    ("bucket-xn-prefix", '[deploy]\nbucket = "xn--bucket"\n', ["status"], None, 2, "deploy.bucket"),
    ("timeout-zero", "[deploy]\ntimeout_minutes = 0\n", ["status"], None, 2, "deploy.timeout_minutes"),
    ("sandbox-string", '[sandbox]\nenabled = "yes"\n', ["status"], None, 2, "sandbox.enabled"),
    ("sandbox-endpoint-scheme", '[sandbox]\naws_endpoint = "localhost:4566"\n', ["status"], None, 2, "http URL"),
    ("sandbox-registry-port", '[sandbox]\nregistry = "localhost"\n', ["status"], None, 2, "host:port"),
    ("unknown-key", "[deploy]\nendpiont = \"x\"\n", ["status"], None, 2, "Unknown setting deploy.endpiont"),
    ("toml-syntax", "[deploy\n", ["status"], None, 2, "not valid TOML"),
    ("only-unknown-step", None, ["run", "--only", "deplyo"], None, 2, "invalid choice"),
    ("range-reversed", None, ["run", "--from", "push", "--to", "image"], None, 2, "comes after"),
    ("set-without-value", None, ["run", "--set", "deploy.instance_count"], None, 2, "KEY=VALUE"),
    ("set-not-a-number", None, ["run", "--set", "deploy.instance_count=two"], None, 2, "deploy.instance_count"),
    ("set-unknown-key", None, ["run", "--set", "deploy.size=2"], None, 2, "Unknown setting"),
    ("region-flag", None, ["--region", "mars-central-9", "status"], None, 2, "aws.region"),
    ("run-id-flag", None, ["run", "--run-id", "newest"], None, 2, "model.run_id"),
    ("logs-unknown-step", None, ["logs", "nosuch"], None, 2, "invalid choice"),
    ("project-dir-missing", None, ["--project-dir", "/nonexistent/sagewiz", "status"], None, 2, "does not exist"),
    ("key-id-shape", None, ["credentials", "store"], "AKIA123\n" + "s" * 40 + "\n", 2, "AKIA"),
    ("secret-length", None, ["credentials", "store"], "AKIAIOSFODNN7EXAMPLE\nshort\n", 2, "40 characters"),
    ("unknown-flag", None, ["cleanup", "--force"], None, 2, "unrecognized arguments"),
]


def seed(project_dir: Path) -> None:
    """Done steps and a live ledger entry, so 'unchanged' means something."""
    store = StateStore(project_dir / ".sagewiz" / "state.json")
    store.update_record("environment", status="done", outputs={"python": "3.11"})
    store.update_record("train", status="done", outputs={"run_id": "a" * 32})
    store.upsert_resource("sagemaker-endpoint", "sagewiz-iris", status="created", region="us-east-1")


@pytest.mark.parametrize("case, toml, args, stdin, code, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_explained_and_changes_nothing(tmp_path, case, toml, args, stdin, code, fragment):
    project_dir = tmp_path / "proj"
    (project_dir / ".sagewiz").mkdir(parents=True)
    seed(project_dir)
    if toml is not None:
        (project_dir / "sagewiz.toml").write_text(toml)
    before = (project_dir / ".sagewiz" / "state.json").read_bytes()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DBUS_"))}
    argv = args if "--project-dir" in args else ["--project-dir", str(project_dir), *args]
    result = subprocess.run([sys.executable, "-m", "tui.cli", *argv], input=stdin, capture_output=True,
                            text=True, env=env, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == code, output
    assert fragment in output
    assert "Traceback" not in output
    assert (project_dir / ".sagewiz" / "state.json").read_bytes() == before
    assert not (project_dir / ".sagewiz" / "lock").exists()


def test_the_table_has_at_least_forty_cases():
    assert len(CASES) >= 40
