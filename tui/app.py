"""The Textual wizard: a screen per step over the real core engine, with live logs, resume and a log viewer."""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Button, Footer, OptionList
from textual.worker import Worker, WorkerState

from core.runtime import events
from core.runtime.engine import Engine
from core.runtime.events import EventBus
from core.runtime.redact import redactor
from core.steps import STEPS
from tui.components.bridge import EventBridge, format_line
from tui.components.confirm import ConfirmScreen
from tui.components.header import WizardHeader
from tui.components.settings_form import SettingsForm
from tui.components.sidebar import StepList
from tui.components.step_pane import LOG_MAX_LINES, StepPane
from tui.marks import format_duration, icon

if TYPE_CHECKING:
    from core.aws.clients import InUse
    from core.runtime.project import Project
    from core.runtime.step import Step

FLUSH_SECONDS = 0.05
TAIL_BYTES = 64 * 1024


class WizardApp(App[int]):
    """Owns the engine and the step worker, so popping a screen never kills a running step."""

    CSS_PATH = "wizard.tcss"
    TITLE = "sagewiz"
    BINDINGS = [
        Binding("r", "run_step", "Run step"),
        Binding("n", "next_step", "Next"),
        Binding("p", "previous_step", "Previous"),
        Binding("l", "logs", "Logs"),
        Binding("c", "cleanup", "Cleanup"),
        Binding("x", "cancel_step", "Cancel step"),
        Binding("m", "open_mlflow", "MLflow UI"),
        Binding("k", "store_keys", "AWS keys", show=False),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(self, project: Project, notice: str | None = None) -> None:
        super().__init__()
        self.project = project
        self.notice = notice  # said once at start, e.g. why the wizard runs in the sandbox
        self.bus = EventBus(redactor)
        self.bridge = EventBridge(self)
        self.bus.subscribe(self.bridge)
        self.engine = Engine(STEPS, project, self.bus, self.confirm_from_worker)
        self.selected: str | None = None
        self.running_step: str | None = None
        self._buffers: dict[str, deque[str]] = {}
        self._progress: dict[str, events.Progress] = {}
        self._quit_when_idle = False
        self.in_use: InUse | None = None  # once looked up: the account, credentials and region in use
        self._mlflow_url = ""  # the MLflow UI's address, as the header last showed it
        self._gone = threading.Event()  # set when the UI can no longer answer a worker

    # Layout -----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield WizardHeader(id="header")
        with Horizontal(id="body"):
            yield StepList(id="steps")
            yield StepPane(id="pane")
        yield Footer()

    async def on_mount(self) -> None:
        for step_id in STEPS.ids:
            self._show_status(step_id)
        self._refresh_header()
        self.look_up_in_use()
        resume = self.engine.resume_point()
        await self.select_step(resume or self.engine.open_end)
        if resume is None:
            self.pane.banner(f"Every step up to {self.engine.open_end} is done. Select a step to run it again, or "
                             "press c to clean up when you are finished.", "green")
        elif any(self.engine.state.status(s) != "pending" for s in STEPS.ids):
            status = self.engine.state.status(resume)
            self.pane.banner(f"Resuming at {STEPS.get(resume).title}: this step is {status}. Press r to run it.",
                             "bold yellow")
        else:
            self.pane.banner(f"Welcome. Start with {STEPS.get(resume).title}: press r to run it, n/p to move.", "bold")
        if self.notice:
            self.notify(self.notice, title="SANDBOX", timeout=15)
        self.set_interval(FLUSH_SECONDS, self._flush_logs)
        self.set_interval(1.0, self._tick)
        self.query_one(StepList).focus()

    def on_unmount(self) -> None:
        self._gone.set()
        self.engine.cancel.set()

    @property
    def pane(self) -> StepPane:
        return self.query_one(StepPane)

    # Selection --------------------------------------------------------------
    async def select_step(self, step_id: str) -> None:
        if step_id == self.selected:
            return
        self.selected = step_id
        self.query_one(StepList).select_step(step_id)
        step = STEPS.get(step_id)
        checks = [check.title for check in step.requires]
        await self.pane.show_step(step, self._equivalent(step), checks, self.project)
        self._show_status(step_id)
        self.pane.clear_log()
        self.pane.write_log_lines(self._buffer(step_id) or self._tail_from_disk(step_id))
        progress = self._progress.get(step_id)
        if progress is not None and step_id == self.running_step:
            self.pane.show_progress(progress, self.engine.state.record(step_id).get("started_at"))

    def on_settings_form_saved(self, message: SettingsForm.Saved) -> None:
        """A setting saved in the form: the header and the commands shown by hand follow it at once."""
        self._refresh_header()
        self.look_up_in_use()
        if self.selected:
            self.pane.show_equivalent(self._equivalent(STEPS.get(self.selected)))

    def _equivalent(self, step: Step) -> str:
        try:
            return STEPS.by_hand(step.id, self.project)
        except Exception:  # commands that need outputs not there yet fall back to the generic text
            return step.manual

    def _buffer(self, step_id: str) -> deque[str]:
        return self._buffers.setdefault(step_id, deque(maxlen=LOG_MAX_LINES))

    def _tail_from_disk(self, step_id: str) -> list[str]:
        """The end of the step's last log file, so a restarted wizard still shows what happened."""
        name = self.engine.state.record(step_id).get("log")
        if not name:
            return []
        path = self.project.logs_dir / name
        try:
            with open(path, "rb") as handle:
                handle.seek(max(0, path.stat().st_size - TAIL_BYTES))
                lines = handle.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []
        return [f"(from {name})"] + lines[-200:]

    async def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        # Ignore stale highlights (queued before select_step moved the highlight elsewhere).
        if event.option_id in STEPS.ids and event.option_index == event.option_list.highlighted \
                and not self._gone.is_set():
            await self.select_step(event.option_id)

    # Status -----------------------------------------------------------------
    def _show_status(self, step_id: str) -> None:
        record = self.engine.state.record(step_id)
        self.query_one(StepList).show_record(step_id, record)
        if step_id == self.selected:
            self.pane.show_record(step_id, record, running=self.running_step is not None)

    def _refresh_header(self) -> None:
        from core.tracking.server import ui_address

        url, connected = ui_address(self.project)
        self.query_one(WizardHeader).show(self.project.root.name, self.project.sandbox, self.in_use, url, connected)
        self._mlflow_url = url

    @work(thread=True, exclusive=True, group="in-use", exit_on_error=False)
    def look_up_in_use(self) -> None:
        """Which account, credentials and region the AWS steps use: keyring and boto3 are slow to load, so
        this runs after the first screen and the header fills in when it is known."""
        from core.aws.clients import in_use

        found = in_use(self.project)
        try:
            self.call_from_thread(self._show_in_use, found)
        except RuntimeError:  # the app has exited meanwhile
            pass

    def _show_in_use(self, found: InUse) -> None:
        self.in_use = found
        self._refresh_header()

    def _tick(self) -> None:
        if self.running_step:
            self._show_status(self.running_step)
            progress = self._progress.get(self.running_step)
            if progress is not None and self.running_step == self.selected:
                self.pane.show_progress(progress, self.engine.state.record(self.running_step).get("started_at"))

    # Events from the engine thread -----------------------------------------------
    def _flush_logs(self) -> None:
        """One `write_lines` per tick for the selected step, however many lines arrived."""
        lines = self.bridge.drain()
        if not lines:
            return
        visible = []
        for event in lines:
            text = format_line(event)
            self._buffer(event.step).append(text)
            if event.step == self.selected:
                visible.append(text)
        if visible:
            self.pane.write_log_lines(visible[-LOG_MAX_LINES:])

    def _append(self, step: str, text: str, source: str = "sagewiz") -> None:
        """A line the wizard itself adds to a step's panel (the engine already wrote it to the log file)."""
        line = format_line(events.LogLine(step, text, source))
        self._buffer(step).append(line)
        if step == self.selected:
            self.pane.write_log_line(line)

    def on_event_bridge_step_started(self, message: EventBridge.StepStarted) -> None:
        # Lines still queued belong to this new run (the previous one was flushed when it ended).
        step = message.event.step
        self.running_step = step
        self._buffer(step).clear()
        self._progress.pop(step, None)
        if step == self.selected:
            self.pane.clear_log()
            self.pane.banner(f"Running {STEPS.get(step).title}… press x to cancel.", "bold cyan")
        self._append(step, f"started {STEPS.get(step).title}")
        self._show_status(step)

    def on_event_bridge_progress(self, message: EventBridge.Progress) -> None:
        event = message.event
        self._progress[event.step] = event
        if event.step == self.selected:
            self.pane.show_progress(event, self.engine.state.record(event.step).get("started_at"))

    def on_event_bridge_resource_changed(self, message: EventBridge.ResourceChanged) -> None:
        event = message.event
        self._flush_logs()
        self._append(event.step, f"{event.action}: {event.kind} {event.id}", "ledger")

    def on_event_bridge_step_finished(self, message: EventBridge.StepFinished) -> None:
        event = message.event
        self._step_ended(event.step, "done")
        after = STEPS.ids.index(event.step) + 1
        hint = f" Press n for {STEPS.get(STEPS.ids[after]).title}." if after < len(STEPS.ids) else ""
        title = STEPS.get(event.step).title
        self.pane.banner(f"{icon('done')} {title} done in {format_duration(event.duration)}.{hint}", "bold green")

    def on_event_bridge_step_failed(self, message: EventBridge.StepFailed) -> None:
        event = message.event
        self._step_ended(event.step, f"failed: {event.error}")
        title = STEPS.get(event.step).title
        self.pane.banner(f"{icon('failed')} {title} failed after {format_duration(event.duration)}: {event.error}",
                         "bold red")

    def _step_ended(self, step: str, outcome: str) -> None:
        """What a finished and a failed step share: its last lines, its statuses and the header brought up to date."""
        self._flush_logs()
        self._append(step, f"{STEPS.get(step).title} {outcome}")
        self.running_step = None
        self._progress.pop(step, None)
        if step == self.selected:
            self.pane.hide_progress()
        for step_id in STEPS.ids:  # stale marks may have spread to later steps
            self._show_status(step_id)
        self._refresh_header()
        self.look_up_in_use()  # a step may have changed the credentials or the region in use

    # Running ----------------------------------------------------------------
    @work(thread=True, exclusive=True, group="step", exit_on_error=False)
    def run_steps(self, step_id: str, to_end: bool = False) -> None:
        if to_end:
            self.engine.run(start=step_id)
        else:
            self.engine.run_step(step_id)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != "step" or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR,
                                                         WorkerState.CANCELLED):
            return
        if event.state == WorkerState.ERROR:
            path = self.project.logs_dir / "wizard-errors.log"
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(f"{time.ctime()}\n{''.join(traceback.format_exception(worker.error))}\n")
            self.pane.banner(f"The wizard could not run the step ({type(worker.error).__name__}: {worker.error}). "
                             f"The traceback is in {path}.", "bold red")
        self.running_step = None
        for step_id in STEPS.ids:
            self._show_status(step_id)
        if self._quit_when_idle:
            self.exit(0)

    def confirm_from_worker(self, question: str, details: str) -> bool:
        """Called by a step on the worker thread: show the dialog, block until the user answers."""
        if threading.get_ident() == self._thread_id:
            raise RuntimeError("confirm_from_worker must be called from a worker thread")
        answered, answer = threading.Event(), []

        def reply(value: bool | None) -> None:
            answer.append(bool(value))
            answered.set()

        try:
            self.call_from_thread(self.push_screen, ConfirmScreen(question, details), reply)
        except RuntimeError:  # the app has exited
            return False
        while not answered.wait(0.1):
            if self._gone.is_set():
                return False
        return answer[0]

    # Actions ----------------------------------------------------------------
    def _form_errors(self) -> list[str]:
        return [msg for form in self.query(SettingsForm) for msg in form.errors.values()]

    def action_run_step(self, to_end: bool = False) -> None:
        if self.selected is None:  # before the first step is shown
            return
        if self.running_step or self._step_worker_busy():
            self.notify(f"{STEPS.get(self.running_step or self.selected).title} is still running; wait, or press x "
                        "to cancel it.", severity="warning")
            return
        errors = self._form_errors()
        if errors:
            self.notify(f"Fix the settings first: {errors[0]}", severity="error")
            return
        self.run_steps(self.selected, to_end)

    def _step_worker_busy(self) -> bool:
        return any(w.group == "step" and not w.is_finished for w in self.workers)

    async def action_next_step(self) -> None:
        index = STEPS.ids.index(self.selected)
        if index + 1 < len(STEPS.ids):
            await self.select_step(STEPS.ids[index + 1])

    async def action_previous_step(self) -> None:
        index = STEPS.ids.index(self.selected)
        if index > 0:
            await self.select_step(STEPS.ids[index - 1])

    def action_logs(self) -> None:
        from tui.components.logs_screen import LogsScreen

        self.push_screen(LogsScreen(self.project.logs_dir))

    async def action_cleanup(self) -> None:
        await self.select_step("cleanup")
        self.action_run_step()

    def action_cancel_step(self) -> None:
        if not self.running_step:
            self.notify("No step is running.")
            return
        title = STEPS.get(self.running_step).title

        def answered(yes: bool | None) -> None:
            if yes:
                self.engine.cancel.set()
                self.pane.banner(f"Stopping {title}…", "bold yellow")

        self.push_screen(ConfirmScreen(f"Stop the running {title} step?",
                                       "Its subprocess or container is stopped and the step is marked failed; "
                                       "run it again to resume.", yes="Stop it", no="Keep running"), answered)

    async def action_quit(self) -> None:
        if not (self.running_step or self._step_worker_busy()):
            self._quit_unless_billing()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._quit_when_idle = True
                self.engine.cancel.set()
                self.set_timer(20, lambda: self.exit(0))

        self.push_screen(ConfirmScreen("A step is running. Stop it and quit?",
                                       "The step is stopped and marked failed; the next start resumes there.",
                                       yes="Stop and quit", no="Stay"), answered)

    def _quit_unless_billing(self) -> None:
        """Quit; with an endpoint still live, first say what it costs and how to delete it."""
        from core.aws.billable import reminder

        text = reminder(self.project)
        if not text:
            self.exit(0)
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.exit(0)
            else:
                self.pane.banner("Press c to clean up: it lists what it will delete and asks first.", "bold")

        self.push_screen(ConfirmScreen("Something you deployed is still live. Quit and leave it running?", text,
                                       yes="Quit, leave it running", no="Stay"), answered)

    def action_open_mlflow(self) -> None:
        url = self._mlflow_url
        if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or sys.platform in ("darwin", "win32"):
            import webbrowser

            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
            self.notify(f"Opening {url}")
        else:  # a console browser would take over this terminal
            self.copy_to_clipboard(url)
            self.notify(f"No graphical browser here: open {url} yourself (copied to the clipboard).")

    def action_store_keys(self) -> None:
        from tui.components.secret import SecretScreen

        def stored(ok: bool | None) -> None:
            if ok:
                self.pane.banner("Your AWS key is in the OS keyring. Run the credentials step (r) to check it.",
                                 "bold green")

        self.push_screen(SecretScreen(), stored)

    def action_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    # The step pane's buttons (the dialogs' buttons have the same ids: only the pane's are matched).
    @on(Button.Pressed, "StepPane #run")
    def run_pressed(self) -> None:
        self.action_run_step()

    @on(Button.Pressed, "StepPane #keys")
    def keys_pressed(self) -> None:
        self.action_store_keys()

    @on(Button.Pressed, "StepPane #cancel")
    def cancel_pressed(self) -> None:
        self.action_cancel_step()

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for step in STEPS:
            yield SystemCommand(f"Go to {step.title}", f"Select the {step.id} step", self._goto(step.id))
            yield SystemCommand(f"Run {step.title}", f"Select and run the {step.id} step", self._goto(step.id, True))
        yield SystemCommand("Run from the selected step up to predict",
                            "Resume the wizard (cleanup runs when asked)", lambda: self.action_run_step(to_end=True))
        yield SystemCommand("Step logs", "Past step runs and their full logs", self.action_logs)
        yield SystemCommand("Clean up AWS resources", "Run the cleanup step", self.action_cleanup)
        yield SystemCommand("Cancel the running step", "Stop it and its subprocess", self.action_cancel_step)
        yield SystemCommand("Open the MLflow UI", self._mlflow_url, self.action_open_mlflow)
        yield SystemCommand("Store AWS keys", "Keep an access key pair in the OS keyring", self.action_store_keys)

    def _goto(self, step_id: str, run: bool = False) -> Callable[[], Awaitable[None]]:
        async def go() -> None:
            await self.select_step(step_id)
            if run:
                self.action_run_step()
        return go

