"""The push step: push the image to ecr."""

from __future__ import annotations

from core.steps.base import Step


class PushStep(Step):
    id = "push"
    title = "Push the image to ECR"
    group = "Container"
    consumes = ('image', 'credentials')
    explanation = (
        'Creates the ECR repository if needed and pushes the image there with per-layer progress, then checks '
        'the pushed digest. The tutorial does this inside build-and-push-container with the aws CLI; sagewiz '
        'gets the registry token through boto3, so no password appears on a command line. '
    )
    manual = 'aws ecr create-repository --repository-name sagewiz-model\naws ecr get-login-password | docker login --username AWS --password-stdin <account>.dkr.ecr.<region>.amazonaws.com\ndocker push <account>.dkr.ecr.<region>.amazonaws.com/sagewiz-model:<tag>'
