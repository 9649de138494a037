"""`sagewiz export`: runnable scripts of the whole deployment, filled with the project's current values.

The scripts import only mlflow, scikit-learn, boto3 and docker, and take AWS credentials from the default
chain. Values come from the steps (`STEPS.values`: settings and step outputs, never a secret); a last check
refuses to write a file that contains the secret key stored in the keyring.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.runtime.errors import StepError
from core.steps import STEPS
from core.steps.by_hand import dockerfile, local_server

if TYPE_CHECKING:
    from core.runtime.project import Project

# Each script's constants (filled in at its `__VALUES__` line): the value of the same name in lower case,
# except MODEL_NAME, the artifact name train.py logs the model under.
SCRIPTS = {
    "train.py": ("TRACKING_URI", "EXPERIMENT", "RUN_NAME", "N_ESTIMATORS", "MODEL_NAME"),
    "build_and_push.py": ("TRACKING_URI", "MODEL_URI", "REGION", "REPOSITORY"),
    "deploy.py": ("TRACKING_URI", "MODEL_URI", "REGION", "IMAGE_URI", "ROLE_ARN", "ENDPOINT", "BUCKET", "PREFIX",
                  "INSTANCE_TYPE", "INSTANCE_COUNT"),
    "predict.py": ("REGION", "ENDPOINT", "INPUT_EXAMPLE"),
    "cleanup.py": ("REGION", "ENDPOINT", "BUCKET", "PREFIX", "REPOSITORY", "ROLE_NAME", "KNOWN_ENDPOINT_CONFIGS",
                   "KNOWN_MODELS", "EVERYTHING"),
}


def _template(name: str) -> str:
    return resources.files("core").joinpath("data", "export", name).read_text(encoding="utf-8")


def _known(project: Project, values: dict[str, Any], kind: str, output: str) -> list[str]:
    """Names of one kind of SageMaker resource: the deploy step's output plus live ledger entries."""
    names = {values[output]} if values.get(output) else set()
    names |= {r["id"] for r in project.state.ledger()
              if r.get("kind") == kind and r.get("status") in ("intent", "created")}
    return sorted(names)


def _script(name: str, values: dict[str, Any]) -> str:
    from core.tracking.training import MODEL_NAME

    constants = {const: MODEL_NAME if const == "MODEL_NAME" else values[const.lower()] for const in SCRIPTS[name]}
    block = "\n".join(f"{const} = {value!r}" for const, value in constants.items())
    return _template(name).replace("__VALUES__", "# Values of this project, written by `sagewiz export`.\n" + block)


def _readme(values: dict[str, Any]) -> str:
    note = ""
    if values["sandbox"]:
        note = ("\n**SANDBOX**: this project ran against a local AWS emulator, so the account, role and image "
                "above are the emulator's. To rehearse against it: `export AWS_ENDPOINT_URL="
                f"{values['sandbox_aws_endpoint'] or 'http://127.0.0.1:PORT'} AWS_ACCESS_KEY_ID=testing "
                "AWS_SECRET_ACCESS_KEY=testing`; for AWS, run build_and_push.py first and pass its image to "
                "deploy.py with --image-uri.\n")
    server = local_server(values)
    if server:
        note += ("\nThe model is in the MLflow server at the tracking URI above. sagewiz stops the server it "
                 "started when it exits; start it again before train.py, build_and_push.py and deploy.py:\n\n"
                 f"```\n{server}\n```\n")
    text = _template("README.md").replace("__SANDBOX_NOTE__", note)
    for key, value in values.items():
        text = text.replace(f"__{key.upper()}__", "<not known yet>" if value is None else str(value))
    return text


def _by_hand(project: Project) -> str:
    """Every step's commands by hand with this project's values, in the wizard's order."""
    parts = ["# Every step by hand\n\nWhat each of the wizard's steps does, as commands with this project's values "
             "(`sagewiz explain STEP` prints one).\n"]
    for number, step in enumerate(STEPS, 1):
        commands = STEPS.by_hand(step.id, project).strip()
        parts.append(f"## {number}. {step.title} (`{step.id}`)\n\n```\n{commands}\n```\n")
    return "\n".join(parts)


def files(project: Project) -> dict[str, str]:
    """Every exported file's name and text."""
    from core.aws.iam_policy import TRUST_POLICY

    values = STEPS.values(project)
    values["known_endpoint_configs"] = _known(project, values, "sagemaker_endpoint_config", "endpoint_config")
    values["known_models"] = _known(project, values, "sagemaker_model", "model_name")
    out = {name: _script(name, values) for name in SCRIPTS}
    out["Dockerfile"] = dockerfile(values)
    out["trust-policy.json"] = json.dumps(TRUST_POLICY, indent=2) + "\n"
    if values["policy_document"]:
        out["iam-policy.json"] = json.dumps(values["policy_document"], indent=2) + "\n"
    out["README.md"] = _readme(values)
    out["BY-HAND.md"] = _by_hand(project)
    return out


def export(project: Project, directory: Path) -> list[Path]:
    """Write the files into `directory` (created if needed; files of the same name are replaced)."""
    from core.aws.clients import keyring_pair

    content = files(project)
    pair = keyring_pair()
    if pair:
        leaking = [name for name, text in content.items() if pair[1] in text]
        if leaking:
            raise StepError(f"Nothing was exported: {', '.join(leaking)} would contain your secret access key. "
                            "Check the project's settings and sagewiz.toml for a pasted key and remove it.")
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in content.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        if name.endswith(".py"):
            os.chmod(path, 0o755)
        written.append(path)
    return written
