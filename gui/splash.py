"""The start-up splash and the start-up report — Qt only: importing this module never imports torch.

``fima-explorer`` shows :class:`Splash` before it imports torch, the engine and the main window, so
something is on screen within a fraction of a second, and says what it is loading meanwhile.

With ``FIMA_REPORT_FIRST_PAINT=1`` the program prints, once each, on stderr::

    first paint after 0.12 s      (the splash, or the window when there is no splash, is painted)
    torch imported after 1.31 s   (the engine is loaded)
    ready after 2.05 s            (the window is painted with its problem loaded, controls enabled)

timed from the import of this module, the first thing ``gui.app`` does (``benchmarks/startup.py``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtGui import QFont, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QApplication, QDialog, QWidget

STARTED = time.perf_counter()  # the clock of the start-up report
REPORT_VARIABLE = "FIMA_REPORT_FIRST_PAINT"
FIRST_PAINT, TORCH_IMPORTED, READY = "first paint", "torch imported", "ready"
_reported: set[str] = set()

SIZE = (460, 150)
PAINT_WAIT_S = 1.0  # how long showing the splash waits for the window system to paint it


def reporting() -> bool:
    """Whether ``FIMA_REPORT_FIRST_PAINT`` asks for the start-up report."""
    return os.environ.get(REPORT_VARIABLE, "").strip() not in ("", "0")


def report(event: str) -> None:
    """Print ``<event> after X.XX s`` on stderr, the first time only, when the report is asked."""
    if event in _reported or not reporting():
        return
    _reported.add(event)
    print(f"{event} after {time.perf_counter() - STARTED:.2f} s", file=sys.stderr, flush=True)


class _FirstPaint(QObject):
    """Calls ``then`` just after ``widget`` is first painted, then stops watching."""

    def __init__(self, widget: QWidget, then: Callable[[], None]) -> None:
        super().__init__(widget)
        self.then = then
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """At the first paint event, call ``then`` once the paint is done (next turn of the loop)."""
        if event.type() == QEvent.Type.Paint:
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self.then)
        return False


def after_first_paint(widget: QWidget, then: Callable[[], None]) -> None:
    """Call ``then`` once ``widget`` has been painted for the first time (in the event loop)."""
    _FirstPaint(widget, then)


def display_available() -> bool:
    """Whether Qt can open a window here (else creating the QApplication would abort).

    On Linux without ``QT_QPA_PLATFORM``, a window needs ``DISPLAY`` or ``WAYLAND_DISPLAY``.
    """
    if os.environ.get("QT_QPA_PLATFORM") or not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class Splash(QWidget):
    """A small frameless window: the program's name, what it does, and what it is loading now."""

    def __init__(self, title: str, subtitle: str) -> None:
        flags = Qt.WindowType.SplashScreen | Qt.WindowType.FramelessWindowHint
        super().__init__(None, flags | Qt.WindowType.WindowStaysOnTopHint)
        self.title = title
        self.subtitle = subtitle
        self.message = ""
        self.painted = False
        self.closed = False
        self.setFixedSize(*SIZE)
        self.setWindowTitle(title)
        app = QApplication.instance()
        if app is not None:  # a dialog shown while loading (a question, an error) closes it
            app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        """Close the splash when a dialog is shown: it must not hide what asks the user."""
        if event.type() == QEvent.Type.Show and isinstance(watched, QDialog):
            self.finish()
        return False

    @classmethod
    def open(cls, title: str, subtitle: str, message: str) -> Splash:
        """Show a splash, centred on the screen, and return once it is painted (or after 1 s)."""
        splash = cls(title, subtitle)
        splash.message = message
        screen = QApplication.primaryScreen()
        if screen is not None:
            frame = splash.frameGeometry()
            frame.moveCenter(screen.availableGeometry().center())
            splash.move(frame.topLeft())
        splash.show()
        deadline = time.monotonic() + PAINT_WAIT_S
        while not splash.painted and time.monotonic() < deadline:
            QApplication.processEvents()  # a window system may expose the window asynchronously
            if not splash.painted:
                time.sleep(0.005)
        return splash

    def say(self, message: str) -> None:
        """Show ``message`` (what is loading now) at once, without running the event loop."""
        self.message = message
        if self.isVisible():
            self.repaint()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        """Name and subtitle above, the message below, in the application's colours."""
        palette = self.palette()
        painter = QPainter(self)
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Window))
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        inner = self.rect().adjusted(24, 18, -24, -18)
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        painter.setFont(font)
        top = QRect(inner.left(), inner.top(), inner.width(), inner.height() // 2)
        painter.drawText(
            top, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.title
        )
        painter.setFont(self.font())
        middle = QRect(inner.left(), top.bottom(), inner.width(), inner.height() // 4)
        painter.drawText(middle, Qt.AlignmentFlag.AlignLeft, self.subtitle)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        bottom = QRect(
            inner.left(), middle.bottom(), inner.width(), inner.bottom() - middle.bottom()
        )
        painter.drawText(
            bottom, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, self.message
        )
        painter.end()
        if not self.painted:
            self.painted = True
            report(FIRST_PAINT)

    def finish(self) -> None:
        """Close the splash; calling it again does nothing."""
        if not self.closed:
            self.closed = True
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
            self.close()
            self.deleteLater()
