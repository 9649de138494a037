"""The predict step: query the endpoint."""

from __future__ import annotations

from core.steps.base import Step


class PredictStep(Step):
    id = "predict"
    title = "Query the endpoint"
    group = "AWS"
    consumes = ('deploy', 'model')
    explanation = (
        "Checks the endpoint's status and sends it rows of the iris test split as dataframe_split JSON, "
        "showing its predictions beside the local model's, like the tutorial's predict.py (which sends a body "
        'MLflow 2+ no longer accepts). '
    )
    manual = 'aws sagemaker describe-endpoint --endpoint-name sagewiz-iris\naws sagemaker-runtime invoke-endpoint --endpoint-name sagewiz-iris --content-type application/json --body \'{"dataframe_split": ...}\' out.json'
