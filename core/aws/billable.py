"""What a project leaves running that bills by the hour, said when a run or the wizard ends with it still up.

Read from the ledger alone (an endpoint whose create call was made and that cleanup has not deleted, with the
instance type and count it was created with), so it needs no AWS call and works after a crash.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.runtime.project import Project


@dataclass(frozen=True)
class LiveEndpoint:
    name: str
    region: str
    sandbox: bool
    confirmed: bool  # False: the create call was made but never confirmed (a crash); it may exist
    instances: str  # "1 x ml.m5.large", or "" when the ledger entry does not say (one from an older sagewiz)
    per_hour: float | None
    currency: str

    def sentence(self) -> str:
        cost = f"about {self.per_hour:.3f} {self.currency} per hour" if self.per_hour is not None else \
            "an hourly price sagewiz's table does not know"
        what = f"endpoint {self.name} in {self.region}" + (f" ({self.instances})" if self.instances else "")
        if self.sandbox:
            return (f"The SANDBOX {what} is still in the ledger: nothing is billed here, but on AWS it would cost "
                    f"{cost} until it is deleted.")
        if not self.confirmed:  # the create call was made, the wizard stopped before it saw the answer
            return f"The {what} may be live (its creation was never confirmed) and would cost {cost}."
        return f"The {what} is still live and costs {cost} until it is deleted."


def live_endpoints(project: Project) -> list[LiveEndpoint]:
    """Endpoints the ledger holds as intent or created, priced from the instances recorded with them."""
    from core.aws import pricing
    from core.runtime.errors import StepError

    found = []
    for entry in project.state.ledger():
        if entry.get("kind") != "sagemaker_endpoint" or entry.get("status") not in ("intent", "created"):
            continue
        region = entry.get("region") or project.settings["aws.region"]
        instances, per_hour, currency = "", None, "USD"
        if entry.get("instance_type"):
            count = int(entry.get("instance_count") or 1)
            instances = f"{count} x {entry['instance_type']}"
            try:
                estimate = pricing.estimate(entry["instance_type"], region, count)
            except StepError:  # an instance type the table no longer lists
                estimate = None
            if estimate is not None:
                per_hour, currency = estimate.per_hour, estimate.currency
        found.append(LiveEndpoint(entry["id"], region, bool(entry.get("sandbox", project.sandbox)),
                                  entry.get("status") == "created", instances, per_hour, currency))
    return found


def cleanup_command(project: Project, name_dir: bool) -> str:
    """The command that deletes them, with the project directory when the user named one."""
    command = "sagewiz cleanup"
    if name_dir:
        command += f" --project-dir {shlex.quote(str(project.root))}"
    return command + (" --sandbox" if project.sandbox else "")


def reminder(project: Project, name_dir: bool = False) -> str | None:
    """Sentences for what is still live (None when nothing is), ending with the cleanup command."""
    endpoints = live_endpoints(project)
    if not endpoints:
        return None
    it = "it" if len(endpoints) == 1 else "them"
    return " ".join(e.sentence() for e in endpoints) + f" Delete {it} with: {cleanup_command(project, name_dir)}"
