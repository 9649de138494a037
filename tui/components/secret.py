"""Entry of the AWS access key pair: masked inputs, shape checks, stored in the OS keyring only."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from core.aws import keys as aws_keys
from core.runtime.errors import StepError


def _key_id_problem(text: str) -> str | None:
    try:
        aws_keys.validate(text.strip(), "A" * 40)
    except StepError as exc:
        return str(exc)
    return None


def _secret_problem(text: str) -> str | None:
    try:
        aws_keys.validate("AKIA" + "A" * 16, text.strip())
    except StepError as exc:
        return str(exc)
    return None


class SecretScreen(ModalScreen[bool]):
    """Dismisses True once the pair is in the keyring. `backend` fixes the backend sentence (tests)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, backend: str | None = None) -> None:
        super().__init__()
        self._backend = backend

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static("Store your AWS access key in the OS keyring", classes="dialog-title")
            yield Static("The key pair of the IAM user the tutorial creates (Step 6). It is kept in the keyring "
                         "only: never in sagewiz.toml, state, logs or command lines.", classes="dim")
            yield Label("Access key id")
            yield Input(password=True, placeholder="AKIA... (20 characters)", id="key-id")
            yield Static("", id="key-id-problem", classes="problem")
            yield Label("Secret access key")
            yield Input(password=True, placeholder="40 characters", id="secret")
            yield Static("", id="secret-problem", classes="problem")
            yield Static(self._backend or "Looking for the OS keyring…", id="backend")
            with Horizontal(classes="buttons"):
                yield Button("Store", variant="success", id="store")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#key-id", Input).focus()
        if self._backend is None:
            self.app.run_worker(self._describe_backend, thread=True, group="keyring", exit_on_error=False)

    def _describe_backend(self) -> None:
        from core.runtime import secrets

        text = secrets.describe_backend()  # imports keyring and may talk to D-Bus: off the UI thread
        self.app.call_from_thread(self._show_backend, text)

    def _show_backend(self, text: str) -> None:
        if self.is_attached:
            self.query_one("#backend", Static).update(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        check = _key_id_problem if event.input.id == "key-id" else _secret_problem
        problem = check(event.value) if event.value else None
        self.query_one(f"#{event.input.id}-problem", Static).update(problem or "")
        event.input.set_class(problem is not None, "-invalid")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "key-id":
            self.query_one("#secret", Input).focus()
        else:
            self._submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "store":
            self._submit()
        else:
            self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)

    def _submit(self) -> None:
        key_id, secret = self.query_one("#key-id", Input).value, self.query_one("#secret", Input).value
        problems = [p for p in (_key_id_problem(key_id), _secret_problem(secret)) if p]
        if problems:
            self.query_one("#backend", Static).update(problems[0])
            return
        self.query_one("#store", Button).disabled = True
        self.app.run_worker(lambda: self._store(key_id, secret), thread=True, group="keyring",
                            exit_on_error=False)

    def _store(self, key_id: str, secret: str) -> None:
        from core.runtime import secrets

        try:
            aws_keys.store(key_id, secret)
        except (StepError, secrets.SecretsUnavailable) as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        self.app.call_from_thread(self._stored, aws_keys.masked_key_id(key_id.strip()))

    def _failed(self, message: str) -> None:
        self.query_one("#backend", Static).update(message)
        self.query_one("#store", Button).disabled = False

    def _stored(self, masked: str) -> None:
        self.app.notify(f"Stored key {masked} in the OS keyring.")
        self.dismiss(True)
