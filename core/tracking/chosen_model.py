"""The model the model step chose, on disk and predicting: what the image, smoke test and endpoint are held to.

Both read the model step's outputs, so a step that calls them lists "model" in its `consumes`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from core.runtime.step import StepContext
from core.tracking import models
from core.tracking.connection import tracking_uri


def own_predictions(ctx: StepContext, columns: list[str], rows: list[list[Any]]) -> list[Any]:
    """The chosen model's predictions for rows, loaded here: what the image's and endpoint's answers are held to."""
    with tempfile.TemporaryDirectory(prefix="sagewiz-model-") as tmp:
        return models.predict(model_on_disk(ctx, Path(tmp)), columns, rows)


def model_on_disk(ctx: StepContext, into: Path) -> Path:
    """The chosen model's directory for the steps that package it (image, deploy)."""
    model = ctx.outputs("model")

    def uri() -> str | None:
        """The tracking step's server (started again if it died), else the one the model was chosen on."""
        return tracking_uri(ctx) if ctx.outputs_if_any("tracking") else model.tracking_uri

    return models.local_copy(model.to_json(), into, uri)
