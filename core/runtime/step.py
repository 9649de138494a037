"""The step contract and the context a step runs in."""

from __future__ import annotations

import abc
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from core.runtime import proc
from core.runtime.checks import Check
from core.runtime.errors import Cancelled, StepError
from core.runtime.events import EventBus, LogLine, Progress, ResourceChanged
from core.runtime.outputs import StepOutputs
from core.runtime.results import Block, fields_rows

if TYPE_CHECKING:
    from pathlib import Path

    from core.runtime.project import Project
    from core.runtime.settings import Settings
    from core.runtime.state import StateStore

Confirm = Callable[[str, str], bool]  # (question, details) -> yes?
LoadOutputs = Callable[[str], "StepOutputs | None"]  # a step id -> its typed outputs


class StepContext:
    """What a running step may touch: settings, other steps' outputs, the event sink, the ledger."""

    def __init__(self, project: Project, step: str, bus: EventBus, cancel: threading.Event,
                 confirm: Confirm, load: LoadOutputs) -> None:
        self.project = project
        self.step = step
        self.bus = bus
        self.cancel = cancel
        self._confirm = confirm
        self._load = load

    @property
    def settings(self) -> Settings:
        return self.project.settings

    @property
    def state(self) -> StateStore:
        return self.project.state

    def outputs(self, step: str) -> Any:
        """Another step's typed outputs; the engine runs a step only once the steps it consumes are done."""
        found = self._load(step)
        if found is None:
            raise StepError(f"The {self.step} step needs the results of the {step} step, which has none yet. "
                            f"Run it first: sagewiz run --only {step}")
        return found

    def outputs_if_any(self, step: str) -> Any:
        """Another step's typed outputs, or None when it has not run (for steps it does not consume)."""
        return self._load(step)

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

    def run_process(self, argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
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


class Shown(dict[str, Any]):
    """Project values for the commands by hand: one no step has produced yet reads `<name>`, not None."""

    def __getitem__(self, key: str) -> Any:
        value = super().get(key)
        return f"<{key}>" if value is None else value


class Step(abc.ABC):
    """One wizard step, whole: what it is, what it needs, what it does, what it made and how to do it by hand."""

    id: ClassVar[str]
    title: ClassVar[str]
    group: ClassVar[str]  # Local, Container, AWS
    explanation: ClassVar[str]  # what and why, in the tutorial's terms
    manual: ClassVar[str]  # the commands by hand without a project's values
    Outputs: ClassVar[type[StepOutputs]] = StepOutputs  # what `run` returns and later steps read
    consumes: ClassVar[tuple[str, ...]] = ()  # steps whose outputs this one needs; they must be done first
    # Steps this one depends on when they have run, without needing them (the model step chooses a run of the
    # train step's experiment, or the one model.run_id names): a change to them makes this step stale too.
    reads: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[Check, ...]] = ()  # prerequisite checks
    settings: ClassVar[tuple[str, ...]] = ()  # settings keys shown in this step's form
    # Runs only when asked by name (--to/--only/its own command), never as part of a resumed or open-ended run.
    on_request: ClassVar[bool] = False
    # What the step may ask the user before it acts ("" when it never asks); a headless run without a terminal
    # and without --yes refuses up front, before any step has created anything.
    asks: ClassVar[str] = ""
    # Actions the wizard offers beside Run on this step's pane (`store_keys`: keep an AWS key pair in the keyring).
    actions: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    def run(self, ctx: StepContext) -> StepOutputs:
        """Do the step; what it returns is saved and read by the steps that consume it."""

    def verify(self, ctx: StepContext, outputs: Any) -> str | None:
        """None while the outputs still hold; otherwise why they no longer do."""
        return None

    def values(self, project: Project, outputs: Any, known: dict[str, Any]) -> dict[str, Any]:
        """The values this step contributes to the commands by hand and the exported scripts (`outputs` is None
        before the step ran; `known` holds what earlier steps contributed). None leaves a value as it is."""
        return {}

    def by_hand(self, v: Shown) -> str:
        """The commands this step stands for, with the project's values."""
        return self.manual

    def results(self, outputs: Any) -> list[Block]:
        """What the step made, described for any UI (default: every output as a row)."""
        return [*fields_rows(outputs)]
