"""The smoke step: smoke-test the image locally."""

from __future__ import annotations

from core.steps.base import Step


class SmokeStep(Step):
    id = "smoke"
    title = "Smoke-test the image locally"
    group = "Container"
    consumes = ('image', 'model')
    explanation = (
        'Runs the image on this machine exactly as SageMaker will (`docker run IMAGE serve`), waits for '
        "/ping, sends the model's input example to /invocations and compares the answers with the model's own "
        'predictions, so a broken image is found before any money is spent. '
    )
    manual = 'docker run --rm -p 8080:8080 sagewiz-model:<run_id> serve\ncurl -s localhost:8080/ping\ncurl -s -H \'Content-Type: application/json\' -d \'{"dataframe_split": ...}\' localhost:8080/invocations'
