"""TUI fixtures: the real app over a tmp project, and test-only steps swapped into the registry."""

from __future__ import annotations

import sys
import time

import pytest

from core.steps import BY_ID
from core.steps.base import Step


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
        return {}


class ChattyStep(Step):
    """Test-only: emits many log lines as fast as the bus takes them."""

    id, title, group = "environment", "Environment", "Local"
    explanation, manual = "Test step that logs a lot.", "yes | head"
    lines = 20_000

    def run(self, ctx):
        for i in range(self.lines):
            ctx.log(f"line {i}")
        return {"lines": self.lines}


@pytest.fixture
def swap_step(monkeypatch):
    """Put a test step in the registry under its id for one test."""

    def swap(step: Step) -> Step:
        monkeypatch.setitem(BY_ID, step.id, step)
        return step

    return swap


@pytest.fixture
def wizard(project):
    from tui.app import WizardApp

    return WizardApp(project)


@pytest.fixture
def anyio_backend():
    """Pilot tests are coroutines run by anyio's pytest plugin, on asyncio (Textual's loop)."""
    return "asyncio"
