"""A step's settings as a form: inline validation through core.runtime.settings, valid values saved at once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select, Static, Switch

from core.runtime.settings import FIELDS_BY_KEY, Settings, SettingsError, load_settings, save_settings

if TYPE_CHECKING:
    from core.runtime.project import Project


def _widget_id(key: str) -> str:
    return "field-" + key.replace(".", "-").replace("_", "-")


class SettingsForm(Vertical):
    """Built for one step; `errors` holds the keys whose text is not valid yet."""

    class Saved(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, project: Project, keys: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.project = project
        self.keys = [k for k in keys if k in FIELDS_BY_KEY]
        self.errors: dict[str, str] = {}
        self._by_widget = {_widget_id(k): k for k in self.keys}

    def compose(self) -> ComposeResult:
        if not self.keys:
            yield Static("This step has no settings.", classes="dim")
            return
        settings = self.project.settings
        for key in self.keys:
            field = FIELDS_BY_KEY[key]
            with Horizontal(classes="field"):
                yield Label(key, classes="field-label")
                if field.kind is bool:
                    yield Switch(value=bool(settings[key]), id=_widget_id(key))
                elif field.choices:
                    yield Select([(str(c), c) for c in field.choices], value=settings[key], allow_blank=False,
                                 id=_widget_id(key))
                else:
                    yield Input(str(settings[key]), placeholder=field.allowed, id=_widget_id(key))
            yield Static(field.help, id=f"{_widget_id(key)}-help", classes="field-help")

    def _apply(self, key: str, text: str, help_id: str) -> None:
        """Validate on a scratch copy; a valid value goes to the live settings and to sagewiz.toml."""
        help_widget = self.query_one(f"#{help_id}", Static)
        try:
            Settings().parse_and_set(key, text)
        except SettingsError as exc:
            self.errors[key] = str(exc)
            help_widget.update(str(exc))
            help_widget.add_class("error")
            return
        self.errors.pop(key, None)
        help_widget.update(FIELDS_BY_KEY[key].help)
        help_widget.remove_class("error")
        if str(self.project.settings[key]).lower() == text.lower():
            return
        self.project.settings.parse_and_set(key, text)
        on_disk = load_settings(self.project.root)
        on_disk.parse_and_set(key, text)
        save_settings(self.project.root, on_disk)
        self.post_message(self.Saved(key))

    def on_input_changed(self, event: Input.Changed) -> None:
        key = self._by_widget.get(event.input.id or "")
        if key:
            self._apply(key, event.value.strip(), f"{event.input.id}-help")
            event.input.set_class(key in self.errors, "-invalid")

    def on_switch_changed(self, event: Switch.Changed) -> None:
        key = self._by_widget.get(event.switch.id or "")
        if key:
            self._apply(key, "true" if event.value else "false", f"{event.switch.id}-help")

    def on_select_changed(self, event: Select.Changed) -> None:
        key = self._by_widget.get(event.select.id or "")
        if key and event.value is not Select.BLANK:
            self._apply(key, str(event.value), f"{event.select.id}-help")
