"""The busy cursor shown while something slow happens in the GUI thread."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication


@contextlib.contextmanager
def wait_cursor() -> Iterator[None]:
    """Show a busy cursor while a slow thing (building a task, loading a module) happens."""
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()
