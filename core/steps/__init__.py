"""The ordered registry of the wizard's steps."""

from __future__ import annotations

from core.steps.base import Step
from core.steps.environment import EnvironmentStep
from core.steps.preflight import PreflightStep
from core.steps.tracking import TrackingStep
from core.steps.train import TrainStep
from core.steps.model import ModelStep
from core.steps.credentials import CredentialsStep
from core.steps.iam import IamStep
from core.steps.image import ImageStep
from core.steps.smoke import SmokeStep
from core.steps.push import PushStep
from core.steps.deploy import DeployStep
from core.steps.predict import PredictStep
from core.steps.cleanup import CleanupStep

STEPS: tuple[Step, ...] = (
    EnvironmentStep(),
    PreflightStep(),
    TrackingStep(),
    TrainStep(),
    ModelStep(),
    CredentialsStep(),
    IamStep(),
    ImageStep(),
    SmokeStep(),
    PushStep(),
    DeployStep(),
    PredictStep(),
    CleanupStep(),
)
STEP_IDS: tuple[str, ...] = tuple(step.id for step in STEPS)
BY_ID: dict[str, Step] = {step.id: step for step in STEPS}


def get(step_id: str) -> Step:
    try:
        return BY_ID[step_id]
    except KeyError:
        raise KeyError(f"Unknown step {step_id!r}: the steps are {', '.join(STEP_IDS)}.") from None


def dependents(step_id: str) -> list[str]:
    """Every step that reads this one's outputs, directly or through another step, in order."""
    found: set[str] = set()
    frontier = {step_id}
    while frontier:
        nxt = {s.id for s in STEPS if set(s.consumes) & frontier} - found
        found |= nxt
        frontier = nxt
    return [sid for sid in STEP_IDS if sid in found]
