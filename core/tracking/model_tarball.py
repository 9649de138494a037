"""The model.tar.gz SageMaker's ModelDataUrl points at: the MLflow model directory, files at the top level."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.runtime.step import StepContext


def build(ctx: StepContext) -> Path:
    """Pack the chosen model's directory (once per model)."""
    from core.tracking.chosen_model import model_on_disk

    model = ctx.outputs("model")
    out = ctx.project.build_dir / "deploy"
    tarball = out / "model.tar.gz"
    stamp = out / "model.uri"
    if tarball.is_file() and stamp.is_file() and stamp.read_text() == model.model_uri:
        return tarball
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    local = model_on_disk(ctx, out / "model")
    with tarfile.open(tarball, "w:gz") as archive:
        for item in sorted(local.iterdir()):
            archive.add(item, arcname=item.name)
    stamp.write_text(model.model_uri)
    return tarball
