"""The step contract and the context a step runs in."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from core import proc
from core.errors import Cancelled, NotImplementedStep
from core.events import EventBus, LogLine, Progress, ResourceChanged

if TYPE_CHECKING:
    from core.project import Project

Confirm = Callable[[str, str], bool]  # (question, details) -> yes?


class StepContext:
    """What a running step may touch: settings, other steps' outputs, the event sink, the ledger."""

    def __init__(self, project: "Project", step: str, bus: EventBus, cancel: threading.Event,
                 confirm: Confirm) -> None:
        self.project = project
        self.step = step
        self.bus = bus
        self.cancel = cancel
        self._confirm = confirm

    @property
    def settings(self):
        return self.project.settings

    @property
    def state(self):
        return self.project.state

    def outputs(self, step: str) -> dict[str, Any]:
        return self.project.state.outputs(step)

    def log(self, text: str, level: str = "info", source: str = "sagewiz") -> None:
        self.bus.emit(LogLine(self.step, text, source, level))

    def progress(self, current: float, total: float | None, label: str = "") -> None:
        self.bus.emit(Progress(self.step, current, total, label))

    def confirm(self, question: str, details: str = "") -> bool:
        return self._confirm(question, details)

    def check_cancelled(self) -> None:
        if self.cancel.is_set():
            raise Cancelled("The step was cancelled.")

    def sleep(self, seconds: float) -> None:
        """Wait, but wake up at once on cancel."""
        if self.cancel.wait(seconds):
            raise Cancelled("The step was cancelled.")

    def run_process(self, argv: list[str], *, env: dict[str, str] | None = None, cwd=None,
                    source: str | None = None, timeout: float | None = None) -> int:
        """Run a child with its lines streamed; its PID stays in state while it runs, so a child left behind
        by a wizard that was killed is stopped before this step starts another (it would log a second run)."""
        name = source or argv[0].rsplit("/", 1)[-1]
        service = f"child-of-{self.step}"
        left = self.state.service(service)
        if left and proc.pid_alive(left["pid"], "\0".join(left["argv"]).encode()):
            self.log(f"Stopping `{' '.join(left['argv'])}` (pid {left['pid']}), left running by a wizard that "
                     "stopped.", "warn")
            proc.stop_pid(left["pid"])
        try:
            return proc.run(argv, env=env, cwd=cwd, cancel=self.cancel, timeout=timeout,
                            on_start=lambda pid: self.state.set_service(service, {"pid": pid, "argv": list(argv)}),
                            on_line=lambda stream, line: self.log(line, "warn" if stream == "stderr" else "info",
                                                                  name))
        finally:
            self.state.set_service(service, None)

    # Resource ledger: intent before the create call, confirmed after it.
    def resource_intent(self, kind: str, rid: str, **meta: Any) -> None:
        self.state.upsert_resource(kind, rid, status="intent", step=self.step, sandbox=self.project.sandbox,
                                   intent_at=time.time(), **meta)
        self.bus.emit(ResourceChanged(self.step, kind, rid, "intent"))

    def resource_created(self, kind: str, rid: str, **meta: Any) -> None:
        self.state.upsert_resource(kind, rid, status="created", created_at=time.time(), **meta)
        self.bus.emit(ResourceChanged(self.step, kind, rid, "created"))

    def resource_deleted(self, kind: str, rid: str) -> None:
        self.state.upsert_resource(kind, rid, status="deleted", deleted_at=time.time())
        self.bus.emit(ResourceChanged(self.step, kind, rid, "deleted"))


class Step:
    """One wizard step. Subclasses set the class attributes and implement `run`."""

    id: ClassVar[str]
    title: ClassVar[str]
    group: ClassVar[str]  # Local, Container, AWS
    explanation: ClassVar[str]  # what and why, in the tutorial's terms
    manual: ClassVar[str]  # the equivalent manual command or code
    consumes: ClassVar[tuple[str, ...]] = ()  # steps whose outputs this one reads
    requires: ClassVar[tuple[str, ...]] = ()  # prerequisite checks (core.checks names)
    settings: ClassVar[tuple[str, ...]] = ()  # settings keys shown in this step's form
    # Runs only when asked by name (--to/--only/its own command), never as part of a resumed or open-ended run.
    on_request: ClassVar[bool] = False
    # What the step may ask the user before it acts ("" when it never asks); a headless run without a terminal
    # and without --yes refuses up front, before any step has created anything.
    asks: ClassVar[str] = ""

    def run(self, ctx: StepContext) -> dict[str, Any]:
        raise NotImplementedStep(f"The {self.id} step is not implemented yet.")

    def verify(self, ctx: StepContext, outputs: dict[str, Any]) -> str | None:
        """None while the outputs still hold; otherwise why they no longer do."""
        return None

    def equivalent(self, ctx: "StepContext | Project | None") -> str:
        """The manual commands with the project's values filled in (from a context or a project); never a secret."""
        from core import equivalents

        return equivalents.render(self.id, getattr(ctx, "project", ctx)) or self.manual
