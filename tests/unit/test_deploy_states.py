"""How deploy reads an endpoint's final states, with DescribeEndpoint answered by a stand-in (SageMaker's states
that the emulator cannot reach, like UpdateRollbackFailed)."""

from __future__ import annotations

import pytest

from core.runtime.errors import StepError
from core.steps.deploy import DeployStep

pytestmark = pytest.mark.unit


class Described:
    """A sagemaker client whose DescribeEndpoint answers `status` (and FailureReason `reason`)."""

    def __init__(self, status: str, reason: str = "") -> None:
        self.answer = {"EndpointName": "e", "EndpointStatus": status, "EndpointConfigName": "e-cfg-1",
                       "FailureReason": reason}

    def describe_endpoint(self, EndpointName: str) -> dict:  # noqa: N803 (boto3's parameter name)
        return self.answer


class NoLogs:
    def describe_log_streams(self, **kwargs):
        return {"logStreams": []}


def test_update_rollback_failed_is_final_and_says_to_delete(engine):
    # UpdateEndpoint API reference: UpdateRollbackFailed cannot be updated again; only deleting it helps
    with pytest.raises(StepError, match="UpdateRollbackFailed .*will not update it again. Delete it with "
                                        "sagewiz cleanup"):
        DeployStep()._wait(engine.context("deploy"), Described("UpdateRollbackFailed", "boom"), NoLogs(), "e")


def test_failed_names_the_reason_and_says_to_deploy_again(engine):
    with pytest.raises(StepError, match="is Failed: The primary container .* run deploy again"):
        DeployStep()._wait(engine.context("deploy"), Described("Failed", "The primary container did not pass"),
                           NoLogs(), "e")


def test_in_service_is_the_description(engine):
    described = DeployStep()._wait(engine.context("deploy"), Described("InService"), NoLogs(), "e")
    assert described["EndpointConfigName"] == "e-cfg-1"
