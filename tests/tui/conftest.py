"""TUI fixtures: the real app over a tmp project, and test-only steps swapped into the registry."""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass

import pytest

from core.runtime.outputs import StepOutputs
from core.runtime.step import Step
from core.steps import STEPS


async def wait_until(pilot, condition, timeout: float = 15.0, what: str = "condition") -> None:
    """Let the app run until `condition()` holds (messages from worker threads need event-loop turns)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


class SleeperStep(Step):
    """Test-only: starts a child that prints its pid and sleeps, through the real ctx.run_process."""

    id, title, group = "environment", "Environment", "Local"
    explanation, manual = "Test step that waits on a subprocess.", "sleep 60"

    def run(self, ctx):
        ctx.run_process([sys.executable, "-u", "-c", "import os, time; print('pid', os.getpid()); time.sleep(60)"],
                        source="sleeper")
        return StepOutputs()


@dataclass(frozen=True)
class ChattyOutputs(StepOutputs):
    lines: int


class ChattyStep(Step):
    """Test-only: emits many log lines as fast as the bus takes them."""

    id, title, group = "environment", "Environment", "Local"
    Outputs = ChattyOutputs
    explanation, manual = "Test step that logs a lot.", "yes | head"
    lines = 20_000

    def run(self, ctx):
        for i in range(self.lines):
            ctx.log(f"line {i}")
        return ChattyOutputs(self.lines)


@pytest.fixture
def swap_step():
    """Put a test step in the registry under its id for one test."""
    with contextlib.ExitStack() as stack:

        def swap(step: Step) -> Step:
            stack.enter_context(STEPS.swapped(step))
            return step

        yield swap


@pytest.fixture
def wizard(project):
    from tui.app import WizardApp

    return WizardApp(project)


@pytest.fixture
def anyio_backend():
    """Pilot tests are coroutines run by anyio's pytest plugin, on asyncio (Textual's loop)."""
    return "asyncio"
