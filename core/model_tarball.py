"""The model.tar.gz SageMaker's ModelDataUrl points at: the MLflow model directory, files at the top level."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import StepError

if TYPE_CHECKING:
    from core.steps.base import StepContext


def build(ctx: "StepContext") -> Path:
    """Download the chosen model's artifacts (once per model) and pack them."""
    import mlflow.artifacts

    model = ctx.outputs("model")
    if not model.get("model_uri"):
        raise StepError("No model is chosen yet; run the model step first.")
    out = ctx.project.build_dir / "deploy"
    tarball = out / "model.tar.gz"
    stamp = out / "model.uri"
    if tarball.is_file() and stamp.is_file() and stamp.read_text() == model["model_uri"]:
        return tarball
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    try:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model["model_uri"],
                                                         tracking_uri=model.get("tracking_uri") or None,
                                                         dst_path=str(out / "model")))
    except Exception as exc:  # MLflow raises many kinds here (unreachable server, missing run)
        raise StepError(f"The model {model['model_uri']} could not be downloaded ({exc}). Check that the MLflow "
                        "tracking server is running (the tracking step starts it), then retry.") from None
    if not (local / "MLmodel").is_file():
        raise StepError(f"{model['model_uri']} has no MLmodel file: it is not an MLflow model. Pick another run.")
    with tarfile.open(tarball, "w:gz") as archive:
        for item in sorted(local.iterdir()):
            archive.add(item, arcname=item.name)
    stamp.write_text(model["model_uri"])
    return tarball
