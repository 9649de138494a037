"""The cleanup step: clean up."""

from __future__ import annotations

from core.steps.base import Step


class CleanupStep(Step):
    id = "cleanup"
    title = "Clean up"
    group = "AWS"
    consumes = ()  # it reads the ledger, so nothing makes it stale
    explanation = (
        'Deletes what costs money: the endpoint, its configurations, the models and the S3 objects sagewiz '
        'created (optionally also the ECR repository and the IAM role), found from the ledger in state and by '
        'tag, then checks that nothing sagewiz created remains. The tutorial ends by deleting the endpoint '
        'and the repository by hand. '
    )
    manual = 'aws sagemaker delete-endpoint --endpoint-name sagewiz-iris\naws sagemaker delete-endpoint-config ...\naws sagemaker delete-model ...\naws s3 rm --recursive s3://<bucket>/sagewiz/'
