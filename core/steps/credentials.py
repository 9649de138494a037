"""The credentials step: which AWS identity the AWS steps act as, and in which region."""

from __future__ import annotations

from core.aws import step_failures
from core.steps.base import Step


class CredentialsStep(Step):
    id = "credentials"
    title = "AWS credentials"
    group = "AWS"
    consumes = ()
    settings = ("aws.profile", "aws.region")
    explanation = (
        'Finds the AWS credentials the AWS steps use: an access key stored in your OS keyring (never in a '
        'file), an AWS profile (SSO included), or the environment, and asks AWS who they belong to. The '
        'tutorial writes the key and secret into a README table; sagewiz keeps only the source and the last '
        'four characters of the key id in its state. '
    )
    manual = 'aws configure\naws sts get-caller-identity'

    @step_failures("check the AWS credentials")
    def run(self, ctx):
        from core import aws

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
        return {"source": resolved.source, "key_id_last4": last4, "account": identity["account"],
                "arn": identity["arn"], "principal_type": identity["principal_type"], "region": region,
                "sandbox": ctx.project.sandbox}

    def verify(self, ctx, outputs):
        from core import aws
        from core.errors import StepError

        try:
            identity = aws.caller_identity(ctx.project, timeout=10)
        except StepError as exc:
            return str(exc)
        if identity["arn"] != outputs.get("arn"):
            return f"The credentials now belong to {identity['arn']}, not {outputs.get('arn')}."
        return None

