"""The image step: build the serving image."""

from __future__ import annotations

from core.steps.base import Step


class ImageStep(Step):
    id = "image"
    title = "Build the serving image"
    group = "Container"
    consumes = ('model',)
    explanation = (
        'Builds a Docker image that serves your model the way SageMaker expects (`serve`, HTTP on port 8080, '
        "/ping and /invocations), with its dependencies installed at build time. The tutorial's `mlflow "
        "sagemaker build-and-push-container` builds a generic image that installs the model's environment "
        'when the container starts, which is slow and fails without internet. '
    )
    manual = 'docker build --platform linux/amd64 -t sagewiz-model:<run_id> .sagewiz/build'
