"""The wizard's steps, in order: each is one module here, and this registry is the only other place it is named."""

from __future__ import annotations

from core.runtime.registry import Registry
from core.steps.cleanup import CleanupStep
from core.steps.credentials import CredentialsStep
from core.steps.deploy import DeployStep
from core.steps.environment import EnvironmentStep
from core.steps.iam import IamStep
from core.steps.image import ImageStep
from core.steps.model import ModelStep
from core.steps.predict import PredictStep
from core.steps.preflight import PreflightStep
from core.steps.push import PushStep
from core.steps.smoke import SmokeStep
from core.steps.tracking import TrackingStep
from core.steps.train import TrainStep

STEPS = Registry([
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
])
