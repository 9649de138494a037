"""The cleanup step (and `sagewiz cleanup`): delete what sagewiz created in AWS, then check nothing remains."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.aws.clients import step_failures
from core.aws.names import INLINE_POLICY
from core.runtime.outputs import StepOutputs
from core.runtime.results import Block, Cell, Table, Value, fields_rows
from core.runtime.step import Shown, Step, StepContext
from core.steps.by_hand import aws_options

if TYPE_CHECKING:
    from core.aws.ledger import Aws, Resource
    from core.runtime.project import Project

ENDPOINT_GONE_TIMEOUT = 600.0


@dataclass(frozen=True)
class CleanupOutputs(StepOutputs):
    deleted: list[str]  # resource labels, e.g. "sagemaker endpoint sagewiz-iris"
    remaining: list[str]
    sandbox: bool


class CleanupStep(Step):
    id = "cleanup"
    title = "Clean up AWS"
    group = "AWS"
    on_request = True
    asks = "before it deletes resources"
    Outputs = CleanupOutputs
    consumes = ()
    settings = ("cleanup.everything",)
    explanation = (
        "An endpoint bills every hour it exists. This step deletes what sagewiz created, found from its ledger "
        "(even after a crash mid-deploy) and by tag: the endpoint, endpoint configurations, models and the "
        "model objects in S3 (and the bucket when sagewiz made it and it is empty). With cleanup.everything it "
        "also deletes the ECR repository (when sagewiz created it for this project) and the IAM role. It lists "
        "what it will delete, asks, and checks afterwards that nothing remains. The tutorial does this by hand in "
        "the console."
    )
    manual = ("aws sagemaker delete-endpoint --endpoint-name sagewiz-iris\n"
              "aws sagemaker delete-endpoint-config --endpoint-config-name ...\n"
              "aws sagemaker delete-model --model-name ...\n"
              "aws s3 rm --recursive s3://sagewiz-<account>-<region>/sagewiz/sagewiz-iris\n"
              "aws ecr delete-repository --repository-name sagewiz-model --force")

    @step_failures("clean up the AWS resources")
    def run(self, ctx: StepContext) -> CleanupOutputs:
        import time

        from core.aws import ledger
        from core.runtime.errors import StepError

        everything = ctx.settings["cleanup.everything"]
        label = "SANDBOX: " if ctx.project.sandbox else ""
        clients = ledger.Aws(ctx.project)
        found = ledger.discover(ctx.project, clients, everything)
        for sentence in found.kept:
            ctx.log(sentence, "warn")
        planned = found.resources
        if not planned:
            ctx.log(f"{label}Nothing sagewiz created remains in AWS.")
            return CleanupOutputs(deleted=[], remaining=[], sandbox=ctx.project.sandbox)
        listing = "\n".join(f"  {r.label()}" for r in planned)
        ctx.log(f"{label}Will delete:\n{listing}")
        if not ctx.confirm(f"{label}Delete these {len(planned)} resources?", listing):
            raise StepError("Cleanup declined: nothing was deleted. The endpoint keeps billing until it is deleted.")
        deleted, problems = [], []
        for number, resource in enumerate(planned, 1):
            ctx.check_cancelled()
            ctx.progress(number - 1, len(planned), resource.label())
            if resource.kind == "sagemaker_endpoint":
                self._wait_settled(ctx, clients, resource.id, time.monotonic() + ENDPOINT_GONE_TIMEOUT)
            try:
                existed = ledger.delete(clients, resource)
            except Exception as exc:  # keep going: one stuck resource must not hide the others
                problems.append(f"{resource.label()}: {exc}")
                ctx.log(f"Could not delete {resource.label()}: {exc}", "error")
                continue
            if resource.kind == "sagemaker_endpoint":
                self._wait_gone(ctx, clients, resource, time.monotonic() + ENDPOINT_GONE_TIMEOUT)
            ctx.resource_deleted(resource.kind, resource.id)
            if resource.kind == "ecr_repository":  # its images went with it (delete_repository force=True)
                for entry in ctx.state.ledger():
                    if entry["kind"] == "ecr_image" and entry.get("repository") == resource.id:
                        ctx.resource_deleted("ecr_image", entry["id"])
            ctx.log(f"Deleted {resource.label()}." if existed else f"{resource.label()} was already gone.")
            deleted.append(resource.label())
        ctx.progress(len(planned), len(planned), "checking")
        to_check = dict.fromkeys([*ledger.discover(ctx.project, clients, everything).resources, *planned])  # once
        remaining = [r.label() for r in to_check if ledger.exists(clients, r)]
        if remaining:
            raise StepError(f"{len(remaining)} resource(s) remain: {'; '.join(remaining)}. "
                            + (f"Errors: {'; '.join(problems)}. " if problems else "")
                            + "Run cleanup again, or delete them in the AWS console.")
        ctx.log(f"{label}Checked: nothing sagewiz created remains (deleted {len(deleted)}).")
        return CleanupOutputs(deleted=deleted, remaining=remaining, sandbox=ctx.project.sandbox)

    @staticmethod
    def _wait_settled(ctx: StepContext, clients: Aws, name: str, deadline: float) -> None:
        """SageMaker deletes an endpoint only once its creation or update finished (a deploy that was killed
        leaves it Creating): wait for that; a missing or unreadable endpoint is left to the delete to report."""
        import time

        from core.aws import ledger

        while time.monotonic() < deadline:
            try:
                status = clients.sagemaker.describe_endpoint(EndpointName=name)["EndpointStatus"]
            except Exception:  # gone, or not readable: the delete call says which
                return
            if status not in ledger.ENDPOINT_IN_PROGRESS:
                return
            ctx.log(f"The endpoint {name} is {status}; SageMaker deletes it once that finishes. Waiting.")
            ctx.sleep(0.5 if ctx.project.sandbox else 10)

    @staticmethod
    def _wait_gone(ctx: StepContext, clients: Aws, resource: Resource, deadline: float) -> None:
        """Endpoints delete asynchronously; their configs' billing ends when the endpoint is gone."""
        import time

        from core.aws import ledger

        while ledger.exists(clients, resource) and time.monotonic() < deadline:
            ctx.log(f"Waiting for {resource.label()} to be deleted.")
            ctx.sleep(0.5 if ctx.project.sandbox else 10)

    def values(self, project: Project, outputs: CleanupOutputs | None, known: dict[str, Any]) -> dict[str, Any]:
        return {"everything": project.settings["cleanup.everything"]}

    def by_hand(self, v: Shown) -> str:
        a = aws_options(v)
        text = (f"aws sagemaker delete-endpoint {a} --endpoint-name {v['endpoint']}\n"
                f"aws sagemaker delete-endpoint-config {a} --endpoint-config-name {v['endpoint_config']}\n"
                f"aws sagemaker delete-model {a} --model-name {v['model_name']}\n"
                f"aws s3 rm {a} --recursive s3://{v['bucket']}/{v['prefix']}/\n")
        optional = "" if v["everything"] else "# with cleanup.everything (or --all):\n"
        return (text + optional +
                f"aws ecr delete-repository {a} --repository-name {v['repository']} --force\n"
                f"aws iam delete-role-policy {a} --role-name {v['role_name']} --policy-name {INLINE_POLICY}\n"
                f"aws iam delete-role {a} --role-name {v['role_name']}\n"
                f"aws sagemaker list-endpoints {a}   # check nothing billable is left")

    def results(self, outputs: CleanupOutputs) -> list[Block]:
        rows: list[list[Value]] = [[item, Cell("deleted", "ok")] for item in outputs.deleted]
        rows += [[item, Cell("still there", "bad", strong=True)] for item in outputs.remaining]
        return [Table(columns=["resource", "state"], rows=rows, title="resources"),
                *fields_rows(outputs, skip={"deleted", "remaining"})]
