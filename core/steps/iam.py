"""The iam step: the SageMaker execution role, with a least-privilege policy (or the tutorial's managed one)."""

from __future__ import annotations

import contextlib
import json
import time
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
    policy_document: dict[str, Any] | None  # the inline policy: least privilege, or the model read beside managed
    created: bool


POLICY_CHANGED = ("The role's policy no longer matches the settings (deploy.endpoint, deploy.bucket or "
                  "image.repository changed); run the iam step again.")


class IamStep(Step):
    id = "iam"
    title = "IAM execution role"
    group = "AWS"
    asks = "before it creates the IAM execution role"
    consumes = ("credentials",)
    # The role's policy names the endpoint's logs, the bucket and the repository: those settings are the deploy
    # and image steps' too, and a change to them leaves a role that no longer fits (see verify).
    settings = ("iam.role_name", "iam.policy", "deploy.endpoint", "deploy.bucket", "image.repository")
    explanation = (
        "SageMaker pulls the image and reads the model as a role you own. This step creates (or reuses) that "
        "execution role, trusted by sagemaker.amazonaws.com, with a policy limited to this repository, bucket "
        "and the endpoint's logs. The tutorial attaches AmazonSageMakerFullAccess and an ECR policy on all "
        "resources; set iam.policy = managed to do the same (sagewiz then adds a policy to read the model, which "
        "AmazonSageMakerFullAccess allows only in buckets named after SageMaker)."
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
        managed = mode == "managed"
        document = self._document(ctx, account, region)
        shown = json.dumps(document, indent=2)
        if managed:
            shown = f"managed policy {iam_policy.managed_policy_arn(region)}, and to read the model:\n{shown}"
        ctx.log(f"Execution role {role_name} ({mode}) will get:\n{shown}")
        resolved = aws.resolve(ctx.project)
        iam = aws.client(ctx.project, "iam", resolved=resolved)
        role = self._existing(iam, role_name)
        endpoint = names.sagemaker_name(ctx.settings["deploy.endpoint"], "endpoint")
        repository = names.repository_name(ctx.settings["image.repository"])
        bucket = names.default_bucket(ctx.project, account, region)
        existing = self._known_to_exist(aws.client(ctx.project, "s3", resolved=resolved),
                                        aws.client(ctx.project, "ecr", resolved=resolved), bucket, repository)
        stamp = time.time()
        needs = iam_policy.caller_needs(
            account, region, role=role_name, repository=repository, bucket=bucket,
            prefix=names.model_prefix(ctx.project), endpoint=endpoint,
            model=names.versioned(endpoint, "model", stamp),
            endpoint_config=names.versioned(f"{endpoint}-cfg", "endpoint config", stamp), managed=managed,
            everything=ctx.settings["cleanup.everything"], existing=existing | ({"role"} if role else set()))
        self._check_caller(ctx, aws.client(ctx.project, "iam", attempts=1, resolved=resolved), creds.arn, needs)
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
        action = "iam:AttachRolePolicy"
        try:
            if managed:
                iam.attach_role_policy(RoleName=role_name, PolicyArn=iam_policy.managed_policy_arn(region))
            action = "iam:PutRolePolicy"
            iam.put_role_policy(RoleName=role_name, PolicyName=names.INLINE_POLICY, PolicyDocument=json.dumps(document))
        except botocore.exceptions.ClientError as exc:
            raise aws.api_error(exc, action, f"give the role {role_name} its policy") from None
        self._wait_visible(ctx, iam, role_name)
        return IamOutputs(role_arn=role["Arn"], role_name=role_name, policy=mode, policy_document=document,
                          created=created)

    @staticmethod
    def _document(ctx: StepContext, account: str, region: str) -> dict[str, Any]:
        """The role's inline policy from the current settings: least privilege, or beside AmazonSageMakerFullAccess
        the read of the model (that policy reads only buckets named after SageMaker or objects tagged for it)."""
        bucket = names.default_bucket(ctx.project, account, region)
        prefix = names.model_prefix(ctx.project)
        if ctx.settings["iam.policy"] == "managed":
            return iam_policy.model_access_policy(region, bucket, prefix)
        repository = names.repository_name(ctx.settings["image.repository"])
        endpoint = names.sagemaker_name(ctx.settings["deploy.endpoint"], "endpoint")
        return iam_policy.execution_policy(account, region, repository, bucket, prefix, endpoint)

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
    def _known_to_exist(s3: Any, ecr: Any, bucket: str, repository: str) -> set[str]:
        """Which of the bucket and the repository surely exist, so their create permissions are not needed; a
        refused look-up (403, AccessDenied) says nothing, and the create actions stay checked."""
        import botocore.exceptions

        found = set()
        with contextlib.suppress(botocore.exceptions.ClientError):
            s3.head_bucket(Bucket=bucket)
            found.add("bucket")
        with contextlib.suppress(botocore.exceptions.ClientError):
            ecr.describe_repositories(repositoryNames=[repository])
            found.add("repository")
        return found

    @staticmethod
    def _check_caller(ctx: StepContext, iam: Any, caller_arn: str, needs: list[iam_policy.Need]) -> None:
        """Ask IAM's policy simulator, resource by resource, whether the caller may do what the next steps do.

        A denial is a warning: the simulator sees the caller's identity policies, not the bucket's or the
        repository's own policies, nor the request's every condition, so the call itself may still be allowed."""
        import botocore.exceptions
        import botocore.parsers

        principal = iam_policy.principal_for_simulation(caller_arn)
        denied: list[tuple[str, str]] = []
        for need in needs:
            request: dict[str, Any] = {"PolicySourceArn": principal, "ActionNames": list(need.actions)}
            if need.resource != "*":
                request["ResourceArns"] = [need.resource]
            if need.context:
                request["ContextEntries"] = [{"ContextKeyName": key, "ContextKeyValues": [value],
                                              "ContextKeyType": "string"} for key, value in need.context]
            try:
                answer = iam.simulate_principal_policy(**request)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError,
                    botocore.parsers.ResponseParserError) as exc:  # emulators lack the simulator
                wanted = [(action, n.resource) for n in needs for action in n.actions]
                ctx.log(f"Could not check your permissions with the IAM policy simulator ({exc.__class__.__name__}). "
                        f"The next steps need: {_listing(wanted)}.", "warn")
                return
            denied += [(result["EvalActionName"], need.resource) for result in answer.get("EvaluationResults", [])
                       if result.get("EvalDecision") != "allowed"]
        if denied:
            ctx.log(f"The IAM policy simulator says your AWS identity {caller_arn} may not do what the next steps "
                    f"need: {_listing(denied)}. The step that needs one will fail unless a policy the simulator "
                    "does not see allows it (a bucket or repository policy); ask your AWS administrator to allow "
                    "them.", "warn")
            return
        ctx.log("The policy simulator confirms you may push to ECR, upload the model and create SageMaker "
                "resources.")

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
        """The role still exists, and its policy is still the one the settings ask for (they name the bucket, the
        repository and the endpoint's logs)."""
        import botocore.exceptions

        from core.aws import clients as aws

        if (outputs.role_name, outputs.policy) != (ctx.settings["iam.role_name"], ctx.settings["iam.policy"]):
            return "The iam.role_name or iam.policy setting changed since the role was set up; run the iam step again."
        try:
            creds = ctx.outputs("credentials")
            iam = aws.client(ctx.project, "iam", timeout=10)
            if self._existing(iam, outputs.role_name) is None:
                return f"The role {outputs.role_name} no longer exists."
            if outputs.policy == "managed":
                attached = iam.list_attached_role_policies(RoleName=outputs.role_name)["AttachedPolicies"]
                managed = iam_policy.managed_policy_arn(creds.region)
                if managed not in [p["PolicyArn"] for p in attached]:
                    return (f"The role {outputs.role_name} no longer has {iam_policy.MANAGED_POLICY} attached; run "
                            "the iam step again.")
            try:
                current = iam.get_role_policy(RoleName=outputs.role_name, PolicyName=names.INLINE_POLICY)
            except botocore.exceptions.ClientError as exc:
                if aws.error_code(exc) != "NoSuchEntity":
                    raise
                return (f"The role {outputs.role_name} no longer has its inline policy {names.INLINE_POLICY}; run "
                        "the iam step again.")
            if current["PolicyDocument"] != self._document(ctx, creds.account, creds.region):
                return POLICY_CHANGED
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
        document = v.get("policy_document")
        if v["policy"] == "managed":
            text += (f"aws iam attach-role-policy {aws} --role-name {role} "
                     f"--policy-arn {iam_policy.managed_policy_arn(v['region'])}\n"
                     f"# {iam_policy.MANAGED_POLICY} reads only buckets named after SageMaker: allow the model's\n")
            placeholder = "<the policy to read the model the iam step writes>"
        else:
            placeholder = "<the least-privilege policy the iam step writes>"
        shown = json.dumps(document, indent=2) if document else placeholder
        return (text + f"cat > policy.json <<'EOF'\n{shown}\nEOF\n"
                f"aws iam put-role-policy {aws} --role-name {role} --policy-name {names.INLINE_POLICY} "
                "--policy-document file://policy.json\n"
                f"# role ARN: {v['role_arn']}")


def _listing(pairs: list[tuple[str, str]]) -> str:
    """(action, resource) pairs as "a, b on arn1; c on arn2", resources in their first order."""
    by_resource: dict[str, list[str]] = {}
    for action, resource in pairs:
        by_resource.setdefault(resource, []).append(action)
    return "; ".join(f"{', '.join(actions)} on {resource}" for resource, actions in by_resource.items())
