"""What the AWS steps need: credentials that answer, a region that offers SageMaker."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from core.runtime.checks import CheckResult, check

if TYPE_CHECKING:
    from core.runtime.project import Project

@check("aws", "AWS credentials", timeout=3.5)
def aws_identity(project: Project) -> CheckResult:
    from core.aws import clients as aws
    from core.runtime.errors import StepError

    title = "AWS credentials"
    if not project.sandbox and not aws.credentials_configured(project):
        return CheckResult(title, "warn", "no AWS credentials yet",
                           "The credentials step asks for a key pair, or set aws.profile; --sandbox needs none.")
    if project.sandbox and not project.settings["sandbox.aws_endpoint"]:
        return CheckResult(title, "ok", "SANDBOX: the local emulator starts when an AWS step needs it")
    try:
        who = aws.caller_identity(project, timeout=2.5)
    except StepError as exc:
        return CheckResult(title, "fail", str(exc).split(". ", 1)[0],
                           "Check the key or profile (sagewiz credentials show) and the network, then retry.")
    return CheckResult(title, "ok", f"{who['arn']} (account {who['account']}, {who['principal_type']}, "
                                    f"from {who['source']})")


@check("region", "AWS region", timeout=3.0)
def region(project: Project) -> CheckResult:
    from core.aws.clients import in_use
    from core.aws.regions import SAGEMAKER_REGIONS as known

    name = in_use(project).region  # the setting's, else the profile's: the one the AWS steps will use
    if name in known:
        return CheckResult("AWS region", "ok", f"{name} offers SageMaker")
    return CheckResult("AWS region", "fail", f"{name} does not offer SageMaker",
                       f"Set aws.region (or --region) to a SageMaker region{_closest(name, known)}.")


def _closest(name: str, known: Collection[str]) -> str:
    import difflib

    near = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    return f" such as {', '.join(near)}" if near else f" ({len(known)} exist, e.g. us-east-1, eu-west-1)"
