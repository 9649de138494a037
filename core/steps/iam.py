"""The iam step: the SageMaker execution role, with a least-privilege policy (or the tutorial's managed one)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.aws import iam_policy, names
from core.aws.clients import step_failures
from core.runtime.outputs import StepOutputs
from core.runtime.step import Shown, Step, StepContext
from core.steps.by_hand import aws_options, first

if TYPE_CHECKING:
    from core.runtime.project import Project

READY_ATTEMPTS = 10  # IAM is eventually consistent: a new role can take seconds to be visible


@dataclass(frozen=True)
class IamOutputs(StepOutputs):
    role_arn: str
    role_name: str
    policy: str
    policy_document: dict[str, Any] | None  # None with the managed policy
    created: bool


class IamStep(Step):
    id = "iam"
    title = "IAM execution role"
    group = "AWS"
    asks = "before it creates the IAM execution role"
    consumes = ("credentials",)
    settings = ("iam.role_name", "iam.policy")
    explanation = (
        "SageMaker pulls the image and reads the model as a role you own. This step creates (or reuses) that "
        "execution role, trusted by sagemaker.amazonaws.com, with a policy limited to this repository, bucket "
        "and the endpoint's logs. The tutorial attaches AmazonSageMakerFullAccess and an ECR policy on all "
        "resources; set iam.policy = managed to do the same."
    )
    manual = ("aws iam create-role --role-name sagewiz-sagemaker-execution --assume-role-policy-document file://trust.json\n"
              "aws iam put-role-policy --role-name sagewiz-sagemaker-execution --policy-name sagewiz-execution "
              "--policy-document file://policy.json")
    Outputs = IamOutputs

    @step_failures("set up the IAM execution role")
    def run(self, ctx: StepContext) -> IamOutputs:
        import botocore.exceptions

        from core.aws import clients as aws
        from core.runtime.errors import StepError

        creds = ctx.outputs("credentials")
        account, region = creds.account, creds.region
        role_name = ctx.settings["iam.role_name"]
        mode = ctx.settings["iam.policy"]
        endpoint = names.sagemaker_name(ctx.settings["deploy.endpoint"], "endpoint")
        repository = names.repository_name(ctx.settings["image.repository"])
        bucket = names.default_bucket(ctx.project, account, region)
        document = (iam_policy.execution_policy(account, region, repository, bucket, names.model_prefix(ctx.project),
                                                endpoint) if mode == "least-privilege" else None)
        shown = (json.dumps(document, indent=2) if document
                 else f"managed policy {iam_policy.managed_policy_arn(region)}")
        ctx.log(f"Execution role {role_name} ({mode}) will get:\n{shown}")
        resolved = aws.resolve(ctx.project)
        iam = aws.client(ctx.project, "iam", resolved=resolved)
        self._check_caller(ctx, aws.client(ctx.project, "iam", attempts=1, resolved=resolved), creds.arn)
        role = self._existing(iam, role_name)
        created = role is None
        if role is not None:
            trusted = json.dumps(role.get("AssumeRolePolicyDocument", ""))
            if "sagemaker.amazonaws.com" not in trusted:
                raise StepError(f"The role {role_name} exists but SageMaker may not assume it (its trust policy "
                                "does not name sagemaker.amazonaws.com). Pick another iam.role_name.")
            ctx.log(f"Reusing role {role['Arn']}.")
        else:
            if not ctx.confirm(f"Create IAM role {role_name} with this policy?", shown):
                raise StepError("The role was not created because you declined; run the step again to create it.")
            ctx.resource_intent("iam_role", role_name, region=region)
            try:
                role = iam.create_role(RoleName=role_name, Tags=names.tags(ctx.project),
                                       AssumeRolePolicyDocument=json.dumps(iam_policy.TRUST_POLICY),
                                       Description="SageMaker execution role created by sagewiz")["Role"]
            except botocore.exceptions.ClientError as exc:
                raise aws.api_error(exc, "iam:CreateRole", f"create the role {role_name}") from None
            ctx.resource_created("iam_role", role_name, arn=role["Arn"])
        try:
            if document:
                iam.put_role_policy(RoleName=role_name, PolicyName=names.INLINE_POLICY,
                                    PolicyDocument=json.dumps(document))
            else:
                iam.attach_role_policy(RoleName=role_name, PolicyArn=iam_policy.managed_policy_arn(region))
        except botocore.exceptions.ClientError as exc:
            raise aws.api_error(exc, "iam:PutRolePolicy" if document else "iam:AttachRolePolicy",
                                f"give the role {role_name} its policy") from None
        self._wait_visible(ctx, iam, role_name)
        return IamOutputs(role_arn=role["Arn"], role_name=role_name, policy=mode, policy_document=document,
                          created=created)

    @staticmethod
    def _existing(iam: Any, role_name: str) -> dict[str, Any] | None:
        import botocore.exceptions

        from core.aws import clients as aws

        try:
            role: dict[str, Any] = iam.get_role(RoleName=role_name)["Role"]
            return role
        except botocore.exceptions.ClientError as exc:
            if aws.error_code(exc) == "NoSuchEntity":
                return None
            raise aws.api_error(exc, "iam:GetRole", f"look up the role {role_name}") from None

    @staticmethod
    def _check_caller(ctx: StepContext, iam: Any, caller_arn: str) -> None:
        """Ask IAM's policy simulator whether the caller may do what the next steps do; say what is needed."""
        import botocore.exceptions
        import botocore.parsers

        from core.runtime.errors import StepError

        actions = list(iam_policy.CALLER_ACTIONS)
        try:
            answer = iam.simulate_principal_policy(
                PolicySourceArn=iam_policy.principal_for_simulation(caller_arn), ActionNames=actions)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError,
                botocore.parsers.ResponseParserError) as exc:  # emulators lack the simulator
            ctx.log(f"Could not check your permissions with the IAM policy simulator ({exc.__class__.__name__}). "
                    f"The next steps need: {', '.join(actions)}.", "warn")
            return
        denied = [r["EvalActionName"] for r in answer.get("EvaluationResults", [])
                  if r.get("EvalDecision") != "allowed"]
        if denied:
            raise StepError(f"Your AWS identity {caller_arn} is missing permissions the next steps need: "
                            f"{', '.join(denied)}. Ask your AWS administrator to allow them, then retry.")
        ctx.log("The policy simulator confirms you may push to ECR and create SageMaker resources.")

    @staticmethod
    def _wait_visible(ctx: StepContext, iam: Any, role_name: str) -> None:
        from core.runtime.errors import StepError

        for attempt in range(READY_ATTEMPTS):
            if IamStep._existing(iam, role_name) is not None:
                return
            ctx.log(f"Waiting for IAM to make role {role_name} visible (attempt {attempt + 1}).")
            ctx.sleep(min(2 ** attempt, 10))
        raise StepError(f"The role {role_name} is still not visible after {READY_ATTEMPTS} tries; IAM is slow "
                        "to propagate at times. Run the step again in a minute.")

    def verify(self, ctx: StepContext, outputs: IamOutputs) -> str | None:
        from core.aws import clients as aws

        try:
            if self._existing(aws.client(ctx.project, "iam", timeout=10), outputs.role_name) is None:
                return f"The role {outputs.role_name} no longer exists."
        except Exception as exc:  # verification must not crash the engine
            return str(exc)
        return None

    def values(self, project: Project, outputs: IamOutputs | None, known: dict[str, Any]) -> dict[str, Any]:
        """The role; before the step ran, the one the settings name (its ARN once the account is known)."""
        s = project.settings
        account = known.get("account")
        return {
            "role_name": first(outputs.role_name if outputs else None, s["iam.role_name"]),
            "role_arn": first(outputs.role_arn if outputs else None,
                              f"arn:aws:iam::{account}:role/{s['iam.role_name']}" if account else None),
            "policy": first(outputs.policy if outputs else None, s["iam.policy"]),
            "policy_document": outputs.policy_document if outputs else None,
        }

    def by_hand(self, v: Shown) -> str:
        role, aws = v["role_name"], aws_options(v)
        text = (f"cat > trust.json <<'EOF'\n{json.dumps(iam_policy.TRUST_POLICY, indent=2)}\nEOF\n"
                f"aws iam create-role {aws} --role-name {role} --assume-role-policy-document file://trust.json\n")
        if v["policy"] == "managed":
            return text + (f"aws iam attach-role-policy {aws} --role-name {role} "
                           f"--policy-arn {iam_policy.managed_policy_arn(v['region'])}\n")
        document = v.get("policy_document")
        shown = json.dumps(document, indent=2) if document else "<the least-privilege policy the iam step writes>"
        return (text + f"cat > policy.json <<'EOF'\n{shown}\nEOF\n"
                f"aws iam put-role-policy {aws} --role-name {role} --policy-name {names.INLINE_POLICY} "
                "--policy-document file://policy.json\n"
                f"# role ARN: {v['role_arn']}")
