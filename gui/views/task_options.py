"""Editors for a task's own options (``darken``, ``texture``, ``noise_model`` …), built from the
task's description so tasks added to the engine later get controls without GUI changes.

bool → check box; text with choices → combo box; numbers and other text → a line edit parsed like
the default (the engine validates and the window reports a refusal). Each editor's tooltip is the
option's help, scale and default.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLineEdit, QWidget

from ..state.problem_spec import ProblemSpec, extra_options, option_choices, task_option


def parse_like(text: str, default: object) -> object:
    """``text`` converted to the type of ``default`` (int, float or str); ValueError if it can't."""
    text = text.strip()
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(text)
    if isinstance(default, float):
        return float(text)
    return text


def option_tip(task: str, name: str, default: object) -> str:
    """The tooltip of option ``name``: what it means, its scale and its default."""
    option = task_option(task, name)
    if option is None:
        return f"{name} (default {default!r})"
    scale = f" ({option.scale})" if option.scale else ""
    return f"{option.help}{scale}; default {option.describe_default()}"


class TaskOptionsForm(QWidget):
    """One row per task-specific option; ``optionEdited(name, value)`` on each user edit."""

    optionEdited = Signal(str, object)
    invalidEntry = Signal(str)  # a value that cannot even be parsed (one line)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._form = QFormLayout(self)
        self._form.setContentsMargins(0, 0, 0, 0)
        self._task: str | None = None
        self._editors: dict[str, QWidget] = {}
        self._defaults: dict[str, object] = {}

    def editor(self, name: str) -> QWidget:
        """The editor of option ``name`` (for tests)."""
        return self._editors[name]

    def show_spec(self, spec: ProblemSpec) -> None:
        """Rebuild the rows for ``spec.task`` if needed and show ``spec``'s values (no signals)."""
        if spec.task != self._task:
            self._rebuild(spec.task)
        for name, widget in self._editors.items():
            value = spec.value(name)
            widget.blockSignals(True)
            if isinstance(widget, QCheckBox):
                widget.setChecked(bool(value))
            elif isinstance(widget, QComboBox):
                widget.setCurrentText(str(value))
            else:
                widget.setText("" if value is None else str(value))
            widget.blockSignals(False)
        self.setVisible(bool(self._editors))

    def _rebuild(self, task: str) -> None:
        while self._form.rowCount():
            self._form.removeRow(0)
        self._editors.clear()
        self._task = task
        self._defaults = extra_options(task)
        for name, default in self._defaults.items():
            label = name.replace("_", " ").capitalize()
            choices = option_choices(task, name)
            if isinstance(default, bool):
                widget = QCheckBox()
                widget.toggled.connect(lambda on, n=name: self.optionEdited.emit(n, bool(on)))
            elif choices:
                widget = QComboBox()
                widget.addItems(choices)
                widget.activated.connect(
                    lambda _i, n=name, w=widget: self.optionEdited.emit(n, w.currentText())
                )
            else:
                widget = QLineEdit()
                widget.editingFinished.connect(lambda n=name, w=widget: self._on_text(n, w))
            widget.setToolTip(option_tip(task, name, default))
            self._form.addRow(label, widget)
            self._editors[name] = widget

    def _on_text(self, name: str, widget: QLineEdit) -> None:
        if not widget.isModified():
            return
        widget.setModified(False)
        default = self._defaults.get(name)
        try:
            value = parse_like(widget.text(), default)
        except ValueError:
            kind = type(default).__name__
            self.invalidEntry.emit(f"{name}: {widget.text()!r} is not a valid {kind}")
            return
        self.optionEdited.emit(name, value)
