"""The deploy step: deploy to sagemaker."""

from __future__ import annotations

from core.steps.base import Step


class DeployStep(Step):
    id = "deploy"
    title = "Deploy to SageMaker"
    group = "AWS"
    consumes = ('push', 'iam', 'model', 'credentials')
    explanation = (
        "Uploads the model to an S3 bucket in the endpoint's region and creates the SageMaker model, endpoint "
        'configuration and endpoint (or updates an endpoint that exists), then waits until it is InService. '
        'This is the step that costs money: sagewiz shows the hourly price of the instance and asks first. '
        "The tutorial's deploy.py uses mlflow.sagemaker.deploy, which MLflow 3 no longer has. "
    )
    manual = 'aws sagemaker create-model ...\naws sagemaker create-endpoint-config ...\naws sagemaker create-endpoint ...\naws sagemaker wait endpoint-in-service --endpoint-name sagewiz-iris'
