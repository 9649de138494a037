"""The iam step: iam execution role."""

from __future__ import annotations

from core.steps.base import Step


class IamStep(Step):
    id = "iam"
    title = "IAM execution role"
    group = "AWS"
    consumes = ('credentials',)
    explanation = (
        'Creates (or reuses) the role SageMaker assumes to pull your image from ECR, read the model from S3 '
        'and write logs. The tutorial attaches AmazonSageMakerFullAccess and an ECR policy on all resources; '
        "sagewiz's default is a least-privilege inline policy scoped to this project's repository, bucket and "
        'endpoint logs (iam.policy = "managed" attaches the tutorial\'s managed policy). '
    )
    manual = 'aws iam create-role --role-name sagewiz-sagemaker-execution --assume-role-policy-document file://trust.json\naws iam put-role-policy --role-name sagewiz-sagemaker-execution --policy-name sagewiz --policy-document file://policy.json'
