"""Runs steps in order: prerequisite checks, status and timing, logs, stale propagation, resume."""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any

from core.runtime.checks import Check, run_checks
from core.runtime.errors import Cancelled, SkipStep, StepError
from core.runtime.events import EventBus, LogLine, StepFailed, StepFinished, StepStarted
from core.runtime.project import Project
from core.runtime.registry import Registry
from core.runtime.runlog import RunLog
from core.runtime.state import StateStore, StepStatus
from core.runtime.step import Confirm, StepContext

DONE = ("done", "skipped")


def refuse(question: str, details: str) -> bool:
    return False


class Engine:
    """Drives the steps of one open project; safe to call from a worker thread."""

    def __init__(self, steps: Registry, project: Project, bus: EventBus, confirm: Confirm = refuse) -> None:
        self.steps = steps
        self.project = project
        self.bus = bus
        self.confirm = confirm
        self.cancel = threading.Event()

    @property
    def state(self) -> StateStore:
        return self.project.state

    def resume_point(self, end: str | None = None) -> str | None:
        """The first step up to `end` that is not done (failed, stale, pending); None when all are done.

        Without `end`, steps that run only on request (cleanup) are not part of the way: finishing predict
        leaves the endpoint up rather than resuming into deleting it."""
        last = self.steps.index(end) if end else len(self.steps.ids) - 1
        for step_id in self.steps.ids[:last + 1]:
            if self.state.status(step_id) not in DONE and (end or not self.steps.get(step_id).on_request):
                return step_id
        return None

    @property
    def open_end(self) -> str:
        """Where a run without --to ends (predict): the step before the first one that runs only on request."""
        return self.plan(self.steps.ids[0])[-1]

    def plan(self, start: str | None = None, end: str | None = None, only: str | None = None) -> list[str]:
        """Step ids to run. Without an end: from the start (or the resume point) to the last step before one
        that runs only on request, so an open-ended run stops after predict; cleanup runs when named."""
        if only is not None:
            self.steps.get(only)
            return [only]
        first = start or self.resume_point(end)
        if first is None:
            return []
        i = self.steps.index(first)
        if end is None:
            j = i
            while j + 1 < len(self.steps.ids) and not self.steps.get(self.steps.ids[j + 1]).on_request:
                j += 1
        else:
            j = self.steps.index(end)
        if i > j:
            raise ValueError(f"--from {first} comes after --to {end}; the order is {', '.join(self.steps.ids)}.")
        return list(self.steps.ids[i:j + 1])

    def asking(self, start: str | None = None, end: str | None = None, only: str | None = None) -> list[str]:
        """The steps of this run that may ask a question before they act (resumed runs skip done steps)."""
        resuming = start is None and only is None
        return [s for s in self.plan(start, end, only)
                if self.steps.get(s).asks and not (resuming and self.state.status(s) in DONE)]

    def run(self, start: str | None = None, end: str | None = None, only: str | None = None) -> bool:
        """Run the plan; a resumed run skips later steps that are still done. False when a step fails.

        Before a step runs, the done steps it reads are asked whether their outputs still hold (an endpoint
        deleted behind our back, a sandbox emulator that restarted). One that no longer holds becomes stale;
        a resumed run then goes back to it, an explicit range fails the step with the reason."""
        resuming = start is None and only is None
        plan = self.plan(start, end, only)
        verified: set[str] = set()
        position = 0
        while position < len(plan):
            step_id = plan[position]
            position += 1
            if resuming and self.state.status(step_id) in DONE:
                continue
            broken = self._verify_inputs(step_id, verified)
            if broken and resuming:
                plan, position = self.plan(None, end), 0
                continue
            if broken:
                reasons = " ".join(f"The {source} step's results no longer hold: {why}" for source, why in broken)
                return self._refuse(step_id, f"{reasons} Run it again first: sagewiz run --from {broken[0][0]}")
            if not self.run_step(step_id):
                return False
        return True

    def _verify_inputs(self, step_id: str, verified: set[str]) -> list[tuple[str, str]]:
        """Mark stale the done steps `step_id` reads whose outputs no longer hold; each is asked once a run."""
        broken = []
        step = self.steps.get(step_id)
        for source in step.consumes + step.reads:
            if source in verified or self.state.status(source) != "done":
                continue
            verified.add(source)
            reason = self.verify(source)
            if reason:
                self.bus.emit(LogLine(step_id, f"The {source} step's results no longer hold: {reason}", level="warn"))
                self.state.update_record(source, status="stale", error=f"No longer holds: {reason}")
                self._mark_stale(source)
                broken.append((source, reason))
        return broken

    def unmet(self, step_id: str) -> str | None:
        """Why `step_id` cannot run yet: a step it consumes has no usable results (None when all have)."""
        for source in self.steps.get(step_id).consumes:
            status = self.state.status(source)
            why = {"pending": "has not run yet", "running": "is still running",
                   "failed": "failed the last time it ran"}.get(status)
            if why is None:
                try:
                    self.steps.outputs(self.project, source)
                except StepError as exc:
                    return str(exc)
                continue
            return (f"The {step_id} step reads the results of the {source} step, which {why}. "
                    f"Run it first: sagewiz run --only {source}")
        return None

    def _refuse(self, step_id: str, error: str) -> bool:
        """Record that the step did not start, and why."""
        now = time.time()
        self.state.update_record(step_id, status="failed", error=error, started_at=now, finished_at=now, duration=0)
        self.bus.emit(StepFailed(step_id, error, 0.0, at=now))
        return False

    def context(self, step_id: str) -> StepContext:
        """The context a step runs (or is verified) in."""
        return StepContext(self.project, step_id, self.bus, self.cancel, self.confirm,
                           lambda source: self.steps.outputs(self.project, source))

    def run_step(self, step_id: str) -> bool:
        """Run one step (refused, without starting, while a step it consumes has no results)."""
        step = self.steps.get(step_id)
        unmet = self.unmet(step_id)
        if unmet:
            return self._refuse(step_id, unmet)
        self.cancel.clear()
        previous = self.state.record(step_id)
        started = time.time()
        runlog = RunLog(self.project.logs_dir, step_id, started)
        unsubscribe = self.bus.subscribe(runlog)
        self.state.update_record(step_id, status="running", started_at=started, finished_at=None,
                                 duration=None, error=None, log=runlog.path.name)
        self.bus.emit(StepStarted(step_id, at=started))
        ctx = self.context(step_id)
        status: StepStatus = "failed"
        outputs, error = previous["outputs"], None
        try:
            self._check_prerequisites(step.requires)
            outputs = step.run(ctx).to_json()
            status = "done"
        except SkipStep as exc:
            status, error = "skipped", None
            ctx.log(f"Skipped: {exc}")
        except Cancelled as exc:
            error = f"Cancelled: {exc}"
        except StepError as exc:
            error = str(exc)
        except Exception as exc:  # unexpected: a sentence for the user, the traceback to the log file
            runlog.write_text(traceback.format_exc())
            error = (f"Unexpected error in the {step_id} step: {type(exc).__name__}: {exc}. "
                     f"The traceback is in {runlog.path}.")
        finished = time.time()
        duration = finished - started
        self.state.update_record(step_id, status=status, outputs=outputs, finished_at=finished,
                                 duration=round(duration, 3), error=error)
        if status == "done" and previous["status"] in ("done", "stale") and previous["outputs"] != outputs:
            self._mark_stale(step_id)
        if status == "failed":
            self.bus.emit(StepFailed(step_id, error or "failed", duration, at=finished))
        else:
            self.bus.emit(StepFinished(step_id, outputs, duration, at=finished))
        unsubscribe()
        runlog.close(status, finished)
        return status != "failed"

    def _check_prerequisites(self, checks: tuple[Check, ...]) -> None:
        if not checks:
            return
        failed = [r for r in run_checks(self.project, checks) if r.status == "fail"]
        if failed:
            reasons = "; ".join(f"{r.name}: {r.detail}. Fix: {r.fix}" for r in failed)
            raise StepError(f"A prerequisite is not met, so the step did not start. {reasons}")

    def _mark_stale(self, step_id: str) -> None:
        for dependent in self.steps.dependents(step_id):
            if self.state.status(dependent) in DONE:
                self.state.update_record(dependent, status="stale",
                                         error=f"The {step_id} step's outputs changed; run this step again.")

    def verify(self, step_id: str) -> str | None:
        """Ask a done step whether its outputs still hold (an endpoint can vanish behind our back)."""
        try:
            return self.steps.get(step_id).verify(self.context(step_id), self.steps.outputs(self.project, step_id))
        except Exception as exc:  # a check that cannot even ask: the outputs cannot be trusted either
            return f"they could not be checked ({type(exc).__name__}: {exc})"

    def status_table(self) -> list[dict[str, Any]]:
        rows = []
        for step_id in self.steps.ids:
            record = self.state.record(step_id)
            step = self.steps.get(step_id)
            rows.append({"id": step_id, "title": step.title, "group": step.group, **record})
        return rows
