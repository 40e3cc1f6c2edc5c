"""The window's Space / N / R shortcuts inside plain number boxes, and Esc / Return to leave them.

A spin box takes every printable key for itself (Qt's ShortcutOverride), so Space, N and R typed
into a focused box would not run, step or reset. For keys that are not valid input there, this
filter applies what was typed, leaves the box and lets the window's shortcut act. Esc restores the
value and leaves; Return applies it and leaves. (:class:`GuardedSpinBox` does the same itself.)
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QValidator
from PySide6.QtWidgets import QAbstractSpinBox

WINDOW_KEYS = (Qt.Key.Key_Space, Qt.Key.Key_N, Qt.Key.Key_R)  # run/pause, step, reset


def is_window_key(box: QAbstractSpinBox, event: QKeyEvent) -> bool:
    """True for Space, N or R without modifiers, unless the key would be valid input in ``box``."""
    if event.key() not in WINDOW_KEYS or event.modifiers() != Qt.KeyboardModifier.NoModifier:
        return False
    if event.key() == Qt.Key.Key_Space:
        return True
    edit, char = box.lineEdit(), event.text()
    start = edit.selectionStart() if edit.hasSelectedText() else edit.cursorPosition()
    typed = edit.text()[:start] + char + edit.text()[start + len(edit.selectedText()) :]
    return box.validate(typed, start + len(char))[0] == QValidator.State.Invalid


class FieldKeys(QObject):
    """Event filter giving number boxes the window's shortcuts and Esc / Return."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Handle the shortcut keys, Esc and Return of a watched spin box."""
        if not isinstance(watched, QAbstractSpinBox):
            return False
        kind = event.type()
        if kind == QEvent.Type.ShortcutOverride and is_window_key(watched, event):
            watched.interpretText()  # apply what was typed, then the shortcut acts
            watched.clearFocus()
            event.ignore()
            return True
        if kind == QEvent.Type.KeyPress:
            key = event.key()
            if key == Qt.Key.Key_Escape:
                watched.lineEdit().setText(watched.textFromValue(watched.value()))
                watched.clearFocus()
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                watched.interpretText()
                watched.clearFocus()
                return True
            if is_window_key(watched, event):  # its shortcut is off: not text either
                event.ignore()
                return True
        return False


_FILTER: FieldKeys | None = None


def install_field_keys(*boxes: QAbstractSpinBox) -> None:
    """Give ``boxes`` the window's shortcuts and Esc / Return (one shared filter)."""
    global _FILTER
    if _FILTER is None:
        _FILTER = FieldKeys()
    for box in boxes:
        box.installEventFilter(_FILTER)
