"""A number box that refuses bad typed values with a message instead of clamping them silently.

Anything that reads as a number can be typed (``nan``, ``inf``, ``-3``, ``1e9``); on commit a
``checker`` decides: a valid value is taken as typed (with full precision, also outside the slider's
range), an invalid one is refused — the box keeps its previous value and ``refused`` carries a
one-line reason (emitted from the event loop, never inside the spin box's own key handling).

A box bound to a model gets a ``commit`` as well: a typed value the checker passes is handed to it
(the model validates and takes it, or says why not), and the model's own limits replace the box's
range check. The model then shows the value with :meth:`GuardedSpinBox.show_value`, so the box
emits no ``valueChanged`` for what it has just committed.

Keys: the window's Space / N / R shortcuts (run/pause, step, reset) act in the box too, as they are
not numbers (N is typed only where it goes on to ``nan`` or ``inf``): the box first applies what was
typed and leaves. Esc restores the value and leaves the box; Return applies the value and leaves.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QDoubleSpinBox, QWidget

from .field_keys import is_window_key

Checker = Callable[[float], str | None]  # value → why it is refused, or None
Commit = Callable[[float], str | None]  # value → taken by the model (None), or why it was not
WORDS = ("nan", "inf", "infinity", "+inf", "-inf", "+infinity", "-infinity")
DECIMALS = 15  # Qt rounds values to this many decimals; the display uses significant digits
DISPLAY_DIGITS = 4  # significant digits shown (the value itself keeps its full precision)


def _is_partial_number(text: str) -> bool:
    """True for the beginnings of a number while typing: ``-``, ``1e``, ``2.5e-``, ``na`` …"""
    t = text.strip().lower()
    if t in ("", "+", "-", ".", "+.", "-."):
        return True
    if any(word.startswith(t) for word in WORDS):
        return True
    if t.endswith(("e", "e-", "e+")):
        try:
            float(t.rstrip("e-+") or "0")
        except ValueError:
            return False
        return True
    return False


def display_number(value: float) -> str:
    """``value`` to DISPLAY_DIGITS significant digits, g-style: ``0.1922``, ``0.04806``, ``1e-05``."""
    return f"{float(value):.{DISPLAY_DIGITS}g}"


class GuardedSpinBox(QDoubleSpinBox):
    """QDoubleSpinBox taking any typed number, validated by ``checker`` (None → accepted)."""

    refused = Signal(str)

    def __init__(
        self,
        checker: Checker,
        minimum: float,
        maximum: float,
        whole: bool = False,
        label: str = "value",
        parent: QWidget | None = None,
        commit: Commit | None = None,
    ) -> None:
        super().__init__(parent)
        self._checker = checker
        self._commit = commit
        self._whole = whole
        self.label = label
        self._pending_refusal: str | None = None
        self.setDecimals(0 if whole else DECIMALS)
        self.setRange(minimum, maximum)
        self.setKeyboardTracking(False)
        self.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        if whole:
            self.setSingleStep(1.0)

    # ---- QDoubleSpinBox overrides ---------------------------------------------------------
    def validate(self, text: str, pos: int) -> object:
        """Acceptable for any number (good or bad: the checker judges on commit)."""
        stripped = text.strip()
        try:
            float(stripped)
        except ValueError:
            state = (
                QValidator.State.Intermediate
                if _is_partial_number(stripped)
                else QValidator.State.Invalid
            )
            return state, text, pos
        return QValidator.State.Acceptable, text, pos

    def fixup(self, text: str) -> str:
        """An unfinished entry goes back to the current value."""
        return self.textFromValue(self.value())

    def textFromValue(self, value: float) -> str:
        """Significant digits (DISPLAY_DIGITS), never the locale's fixed decimals."""
        return str(int(round(value))) if self._whole else display_number(value)

    def valueFromText(self, text: str) -> float:
        """The typed number if the checker accepts it, else the current value (and a message)."""
        if text.strip() == self.textFromValue(self.value()):
            return self.value()  # the untouched display: keep the exact value, not its rounding
        try:
            value = float(text.strip())
        except ValueError:
            return self.value()
        problem = self.problem(value)
        if problem is None and self._commit is not None:
            problem = self._commit(value)
        if problem is not None:
            self.refuse(problem)
            return self.value()
        return value

    def show_value(self, value: float) -> None:
        """Show ``value`` without emitting ``valueChanged``; a box already holding it (to its
        decimals) is left alone, so a number being typed in keeps its text."""
        held = round(value) if self._whole else float(f"{value:.{self.decimals()}f}")
        if self.value() in (value, held):
            return
        self.blockSignals(True)
        self.setValue(value)
        self.blockSignals(False)

    # ---- keys -----------------------------------------------------------------------------
    def event(self, event: QEvent) -> bool:
        """Let the window's Space / N / R shortcuts act when they would not be typed here."""
        if event.type() == QEvent.Type.ShortcutOverride and self._is_window_key(event):
            self.interpretText()  # apply what was typed, then the shortcut acts
            self.clearFocus()
            event.ignore()  # not overridden: the window's shortcut fires
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc restores the value and leaves the box; Return applies it and leaves."""
        key = event.key()
        if key == Qt.Key.Key_Escape:
            self.lineEdit().setText(self.textFromValue(self.value()))
            self.clearFocus()
            event.accept()
            return
        if self._is_window_key(event):  # its shortcut is off (nothing loaded): not text either
            event.ignore()
            return
        super().keyPressEvent(event)
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.clearFocus()

    def _is_window_key(self, event: QKeyEvent) -> bool:
        """True for Space, N or R without modifiers, unless the key goes on to a number here."""
        return is_window_key(self, event)

    # ---- checks ---------------------------------------------------------------------------
    def problem(self, value: float) -> str | None:
        """Why ``value`` cannot be used here, or None."""
        if not math.isfinite(value):
            return f"{self.label} = {value} refused: not a finite number"
        if self._whole and value != int(value):
            return f"{self.label} = {value:g} refused: not a whole number"
        problem = self._checker(value)
        in_range = self.minimum() <= value <= self.maximum()
        if problem is None and self._commit is None and not in_range:  # else: the model's limits
            low, high = self.minimum(), self.maximum()
            problem = f"{self.label} = {value:g} refused: outside {low:g} … {high:g}"
        return problem

    def refuse(self, message: str) -> None:
        """Emit ``refused`` with ``message`` from the event loop (the last of several wins)."""
        if self._pending_refusal is None:
            QTimer.singleShot(0, self._emit_refusal)
        self._pending_refusal = message

    def _emit_refusal(self) -> None:
        message, self._pending_refusal = self._pending_refusal, None
        if message:
            self.refused.emit(message)
