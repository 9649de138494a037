"""The credentials step: which AWS identity the AWS steps act as, and in which region."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.aws.clients import step_failures
from core.runtime.outputs import StepOutputs
from core.runtime.step import Shown, Step, StepContext
from core.steps.by_hand import aws_options, first

if TYPE_CHECKING:
    from core.runtime.project import Project


@dataclass(frozen=True)
class CredentialsOutputs(StepOutputs):
    source: str
    key_id_last4: str
    account: str
    arn: str
    principal_type: str
    region: str
    sandbox: bool


class CredentialsStep(Step):
    id = "credentials"
    title = "AWS credentials"
    group = "AWS"
    consumes = ()
    actions = ("store_keys",)
    settings = ("aws.profile", "aws.region")
    explanation = (
        'Finds the AWS credentials the AWS steps use: an access key stored in your OS keyring (never in a '
        'file), an AWS profile (SSO included), or the environment, and asks AWS who they belong to. The '
        'tutorial writes the key and secret into a README table; sagewiz keeps only the source and the last '
        'four characters of the key id in its state. '
    )
    manual = 'aws configure\naws sts get-caller-identity'
    Outputs = CredentialsOutputs

    @step_failures("check the AWS credentials")
    def run(self, ctx: StepContext) -> CredentialsOutputs:
        from core.aws import clients as aws

        resolved = aws.resolve(ctx.project)
        if ctx.project.sandbox:
            ctx.log("SANDBOX: AWS calls go to the local emulator with sandbox credentials; nothing is billed.")
        identity = aws.caller_identity(ctx.project, resolved=resolved)
        region = resolved.session.region_name
        kind = {"user": "an IAM user", "role": "a role", "root": "the account's ROOT user"}.get(
            identity["principal_type"], identity["principal_type"])
        last4 = (resolved.key_id or "")[-4:]
        ctx.log(f"Credentials from {resolved.source}" + (f" (key ****{last4})" if last4 else "") +
                f" belong to {kind}: {identity['arn']} in account {identity['account']}; region {region}.")
        if resolved.source.startswith("profile:") and aws.keyring_pair() is not None:
            ctx.log(f"A key pair is also stored in the keyring; the {resolved.source} you chose is used instead.")
        if identity["principal_type"] == "root":
            ctx.log("These are root credentials: create an IAM user or use SSO for day-to-day work.", "warn")
        profiles = aws.list_profiles()
        if profiles and resolved.source != "sandbox":
            ctx.log(f"AWS profiles on this machine: {', '.join(profiles)} (choose one with aws.profile).")
        return CredentialsOutputs(source=resolved.source, key_id_last4=last4, account=identity["account"],
                                  arn=identity["arn"], principal_type=identity["principal_type"], region=region,
                                  sandbox=ctx.project.sandbox)

    def verify(self, ctx: StepContext, outputs: CredentialsOutputs) -> str | None:
        from core.aws import clients as aws
        from core.runtime.errors import StepError

        try:
            identity = aws.caller_identity(ctx.project, timeout=10)
        except StepError as exc:
            return str(exc)
        if identity["arn"] != outputs.arn:
            return f"The credentials now belong to {identity['arn']}, not {outputs.arn}."
        return None

    def values(self, project: Project, outputs: CredentialsOutputs | None, known: dict[str, Any]) -> dict[str, Any]:
        """Who and where the AWS commands act; in the sandbox, the emulator they are sent to."""
        s = project.settings
        emulator = (project.state.service("sandbox-aws") or {}).get("url") or s["sandbox.aws_endpoint"] or None
        return {
            "region": first(outputs.region if outputs else None, s["aws.region"]),
            "account": outputs.account if outputs else None,
            "profile": s["aws.profile"] or None,
            "credential_source": outputs.source if outputs else None,
            "sandbox_aws_endpoint": emulator if project.sandbox else None,
        }

    def by_hand(self, v: Shown) -> str:
        profile = f" --profile {v.get('profile')}" if v.get("profile") else ""
        return (f"aws configure{profile}        # access key id and secret: typed in, never written in files here\n"
                f"aws sts get-caller-identity {aws_options(v)}\n"
                f"aws sts get-caller-identity --query Account --output text {aws_options(v)}   # {v['account']}\n"
                f"# region {v['region']}, credentials from {v['credential_source']}")
