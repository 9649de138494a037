"""The credentials step: aws credentials."""

from __future__ import annotations

from core.steps.base import Step


class CredentialsStep(Step):
    id = "credentials"
    title = "AWS credentials"
    group = "AWS"
    consumes = ()
    explanation = (
        'Finds the AWS credentials the AWS steps use: an access key stored in your OS keyring (never in a '
        'file), an AWS profile (SSO included), or the environment, and asks AWS who they belong to. The '
        'tutorial writes the key and secret into a README table; sagewiz keeps only the source and the last '
        'four characters of the key id in its state. '
    )
    manual = 'aws configure\naws sts get-caller-identity'
