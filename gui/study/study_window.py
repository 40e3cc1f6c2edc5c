"""The Study window: one metric of a study over two axes as a heatmap, live while the study runs.

The heatmap is :func:`core.study.plot.heatmap_data` drawn with a pyqtgraph ImageItem in cell-index
coordinates (numeric axes sorted, tick labels the values), a colour bar, and the line 2C = μ when the
axes are C and μ (placed on log-spaced axes geometrically, as ``fima study plot`` does). The other
axes are fixed by a picker each or averaged. A study started here runs in a :class:`StudyRunner`;
the window re-reads the store on its progress, at most :data:`RELOADS_PER_S` times a second.
Double-clicking a cell emits :attr:`StudyWindow.cellOpened` with the Session that replays it.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.study import METRICS, StudyStore, load_spec
from core.study.backends import default_workers
from core.study.plot import ACCEPTANCE_VARIANT, Heatmap, _label, axis_values, heatmap_data
from core.study.replay import cell_session, pixel_cells

from ..dialogs.folder_dialog import choose_folder
from .failures import failure_text
from .heatmap_view import HeatmapView, describe_pixel
from .study_runner import StudyRunner

RELOADS_PER_S = 2.0
AVERAGE = "average"


class StudyWindow(QMainWindow):
    """A study's heatmap with axis, metric and where pickers, run controls and a hover readout."""

    cellOpened = Signal(object)  # the core.session.Session replaying a double-clicked cell
    studyFinished = Signal(str)  # a run started here ended: the message the window shows

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Study")
        self.resize(900, 700)
        self.last_error: str | None = None
        self.last_message = ""
        self.reload_times: list[float] = []
        self.folder: Path | None = None
        self.heat: Heatmap | None = None
        self._store: StudyStore | None = None
        self._runner: StudyRunner | None = None
        self._axes: dict[str, list] = {}
        self._where: dict[str, QComboBox] = {}
        self._updating = False
        self._last = {"x": "", "y": ""}
        self._variant_for_metric = False  # the variant picker was set by the metric, not the user
        self._reload_timer = QTimer(self, singleShot=True)
        self._reload_timer.timeout.connect(self.reload)
        self._build()

    # ---- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        menu = self.menuBar().addMenu("&File")
        menu.addAction("&Open study…", self.choose_study)
        menu.addAction("&New study…", self.choose_spec)
        menu.addSeparator()
        menu.addAction("&Close", self.close)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        run_row = QHBoxLayout()
        self.workers = QSpinBox(minimum=0, maximum=max(256, default_workers()))
        self.workers.setValue(default_workers())
        self.workers.setSpecialValueText("serial")
        self.workers.setToolTip("Worker processes for the cells (serial: in this window's process)")
        self.resume_button = QPushButton("Resume", clicked=self.resume, enabled=False)
        self.cancel_button = QPushButton("Cancel", clicked=self.cancel, enabled=False)
        self.progress = QProgressBar(textVisible=True)
        for widget in (QLabel("Workers"), self.workers, self.resume_button, self.cancel_button):
            run_row.addWidget(widget)
        run_row.addWidget(self.progress, 1)
        layout.addLayout(run_row)
        pick_row = QHBoxLayout()
        self.x_combo, self.y_combo, self.metric_combo = QComboBox(), QComboBox(), QComboBox()
        self.metric_combo.addItems(METRICS)
        for label, combo in (
            ("x", self.x_combo),
            ("y", self.y_combo),
            ("metric", self.metric_combo),
        ):
            pick_row.addWidget(QLabel(label))
            pick_row.addWidget(combo)
        self.x_combo.currentTextChanged.connect(self._x_changed)
        self.y_combo.currentTextChanged.connect(self._y_changed)
        self.metric_combo.currentTextChanged.connect(self._metric_changed)
        self.where_row = QHBoxLayout()
        pick_row.addLayout(self.where_row)
        pick_row.addStretch(1)
        layout.addLayout(pick_row)
        self.heatmap = HeatmapView()
        self.heatmap.hovered.connect(self._hovered)
        self.heatmap.doubleClicked.connect(self.open_pixel)
        layout.addWidget(self.heatmap, 1)
        self.readout = QLabel(" ")
        self.summary = QLabel("No study open: File → Open study or New study")
        layout.addWidget(self.readout)
        layout.addWidget(self.summary)
        self.setCentralWidget(central)

    # ---- public API --------------------------------------------------------------------------
    def error_dialog(self, message: str) -> None:
        """Show one line in a critical message box (and keep it in ``last_error``)."""
        self.last_error = message
        self.statusBar().showMessage(message)
        QMessageBox.critical(self, "Study", message)

    def open_study(self, folder: str | Path) -> bool:
        """Show the study in ``folder`` (a DIR with study.db); False with an error dialog if not."""
        if self.is_running():
            self.error_dialog("A study is running here: cancel it before opening another")
            return False
        try:
            store = StudyStore.read(folder)
            axes = axis_values(store)
        except Exception as exc:  # a damaged database too: one line, the window stays usable
            self.error_dialog(failure_text(exc, f"Cannot open the study in {folder}"))
            return False
        if self._store is not None:
            self._store.close()
        self._store, self.folder, self._axes = store, Path(folder), axes
        self.setWindowTitle(f"Study — {self.folder.name} ({store.meta('task') or '?'})")
        self._set_axis_pickers()
        self.reload()
        self.statusBar().showMessage(f"Opened {self.folder}")
        return True

    def new_study(
        self, spec_path: str | Path, out_dir: str | Path, workers: int | None = None
    ) -> bool:
        """Start (or resume) the spec into ``out_dir`` with ``workers`` processes (0: serial)."""
        if self.is_running():
            self.error_dialog("A study is running here: cancel it before starting another")
            return False
        try:
            spec = load_spec(spec_path)
            StudyStore.open(out_dir, spec).close()  # refuses a folder holding another study
        except Exception as exc:
            self.error_dialog(failure_text(exc, "Cannot start the study"))
            return False
        if not self.open_study(out_dir):
            return False
        return self._start(spec, self.workers.value() if workers is None else int(workers))

    def resume(self) -> bool:
        """Run the open study's pending cells (as ``fima study run`` would resume it)."""
        if self._store is None or self.is_running():
            return False
        try:
            spec = self._store.spec()
        except Exception as exc:
            self.error_dialog(failure_text(exc, "Cannot resume the study"))
            return False
        return self._start(spec, self.workers.value())

    def cancel(self) -> None:
        """Stop the running study after the cell in progress (its other cells stay pending)."""
        if self._runner is not None and not self._runner.cancelled:
            self._runner.cancel()
            self.cancel_button.setEnabled(False)
            self.statusBar().showMessage("Cancelling after the cell in progress…")

    def is_running(self) -> bool:
        """True while a study started here has not ended (and the window not yet told)."""
        return self._runner is not None

    # ---- running -----------------------------------------------------------------------------
    def _start(self, spec, workers: int) -> bool:
        self._runner = StudyRunner(spec, self.folder, workers, parent=None)
        self._runner.progress.connect(self._on_progress)
        self._runner.finished.connect(self._on_finished)
        self._set_running(True)
        where = "serially in this process" if workers <= 0 else f"on {workers} worker(s)"
        self.statusBar().showMessage(f"Running the study {where}…")
        self._runner.start()
        return True

    def _set_running(self, running: bool) -> None:
        self.cancel_button.setEnabled(running)
        self.workers.setEnabled(not running)
        self._update_resume()

    def _update_resume(self) -> None:
        counts = self._store.counts() if self._store is not None else {}
        left = counts.get("pending", 0) + counts.get("running", 0)
        self.resume_button.setEnabled(bool(left) and self._runner is None)

    @Slot()
    def _on_progress(self) -> None:
        if self._runner is None:
            return
        self._runner.take_progress()
        if self._reload_timer.isActive():
            return
        since = time.monotonic() - (self.reload_times[-1] if self.reload_times else 0.0)
        wait_ms = int(max(0.0, 1.0 / RELOADS_PER_S - since) * 1000)
        if wait_ms == 0:
            self.reload()
        else:
            self._reload_timer.start(wait_ms)

    @Slot()
    def _on_finished(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        runner.join()
        self._reload_timer.stop()
        self._set_running(False)
        self.reload()
        report, error = runner.report, runner.error
        if error is not None:
            message = f"The study stopped: {error}"
        elif report is not None:
            left = self._store.counts()["pending"] if self._store is not None else 0
            word = "cancelled" if report.cancelled else "finished"
            message = (
                f"Study {word}: {report.done} done, {report.failed} failed in "
                f"{report.seconds:.1f} s" + (f"; {left} cell(s) left (Resume)" if left else "")
            )
        else:
            message = "The study ended"
        self.last_message = message
        self.statusBar().showMessage(message)
        if error is not None:
            self.error_dialog(error)
        self.studyFinished.emit(message)

    def closeEvent(self, event) -> None:
        """Cancel a running study and wait for its cell in progress; close the store."""
        if self._runner is not None:
            self._runner.cancel()
            self._runner.join()
            self._runner = None
        if self._store is not None:
            self._store.close()
            self._store = None
        super().closeEvent(event)

    # ---- pickers -----------------------------------------------------------------------------
    def _set_axis_pickers(self) -> None:
        names = list(self._axes)
        grid = [n for n in names if n not in ("image", "variant")]
        many = [n for n in names if len(self._axes[n]) > 1]
        x = grid[0] if grid else names[0]
        rest = [n for n in (grid[1:] + many + names) if n != x]
        self._updating = True
        for combo, value in ((self.x_combo, x), (self.y_combo, rest[0] if rest else x)):
            combo.clear()
            combo.addItems(names)
            combo.setCurrentText(value)
        self._updating = False
        self._set_where_pickers()

    def _set_where_pickers(self) -> None:
        previous = {n: c.currentData() for n, c in self._where.items()}
        while self.where_row.count():
            widget = self.where_row.takeAt(0).widget()
            if widget is not None:  # gone at once, not at the next event loop turn
                widget.hide()
                widget.setParent(None)
                widget.deleteLater()
        self._where = {}
        x, y = self.x_combo.currentText(), self.y_combo.currentText()
        for name, values in self._axes.items():
            if name in (x, y) or len(values) < 2:
                continue
            combo = QComboBox()
            combo.addItem(AVERAGE, None)
            for value in values:
                combo.addItem(_label(value, name), value)
            if previous.get(name) is not None:
                combo.setCurrentIndex(max(0, combo.findData(previous[name])))
            elif name == "variant" and self.metric_combo.currentText() == "accept_rate":
                fima = combo.findData(ACCEPTANCE_VARIANT)
                combo.setCurrentIndex(max(0, fima))
                self._variant_for_metric = fima >= 0
            if name == "variant":
                combo.currentIndexChanged.connect(self._variant_picked)
            else:
                combo.currentIndexChanged.connect(self._picks_changed)
            self.where_row.addWidget(QLabel(name))
            self.where_row.addWidget(combo)
            self._where[name] = combo

    def set_picks(
        self, x: str | None = None, y: str | None = None, metric: str | None = None, **where
    ) -> None:
        """Choose axes, metric and fixed values (``where``: axis → value, None to average)."""
        self._updating = True
        for combo, value in ((self.x_combo, x), (self.y_combo, y), (self.metric_combo, metric)):
            if value is not None:
                combo.setCurrentText(value)
        self._updating = False
        self._set_where_pickers()
        for name, value in where.items():
            combo = self._where[name]
            combo.setCurrentIndex(0 if value is None else max(0, combo.findData(value)))
        self.reload()

    @Slot(str)
    def _x_changed(self, text: str) -> None:
        self._axis_picked("x", text, self.y_combo, "y")

    @Slot(str)
    def _y_changed(self, text: str) -> None:
        self._axis_picked("y", text, self.x_combo, "x")

    def _axis_picked(self, key: str, text: str, other: QComboBox, other_key: str) -> None:
        """Record the pick; picking the other axis's name swaps the two."""
        previous, self._last[key] = self._last[key], text
        if not self._updating and text and other.currentText() == text and previous:
            self._updating = True
            other.setCurrentText(previous)
            self._last[other_key] = previous
            self._updating = False
        self._axes_changed()

    def _axes_changed(self) -> None:
        if not self._updating:
            self._set_where_pickers()
            self.reload()

    @Slot()
    def _picks_changed(self, *_args) -> None:
        if not self._updating:
            self.reload()

    @Slot()
    def _variant_picked(self, *_args) -> None:
        if not self._updating:
            self._variant_for_metric = False  # the user's pick: kept when the metric changes
        self._picks_changed()

    @Slot(str)
    def _metric_changed(self, metric: str) -> None:
        """accept_rate: the variant picker goes from average to fima (and back when it leaves).

        The acceptance rate is fima's (pg makes no proposal, unchecked takes all): an average over
        variants would halve it.
        """
        combo = self._where.get("variant")
        if combo is not None:
            updating, self._updating = self._updating, True
            fima = combo.findData(ACCEPTANCE_VARIANT)
            if metric == "accept_rate" and combo.currentData() is None and fima >= 0:
                combo.setCurrentIndex(fima)
                self._variant_for_metric = True
            elif metric != "accept_rate" and self._variant_for_metric:
                if combo.currentData() == ACCEPTANCE_VARIANT:
                    combo.setCurrentIndex(0)  # back to average
                self._variant_for_metric = False
            self._updating = updating
        self._picks_changed()

    def picks(self) -> tuple[str, str, str, dict]:
        """The current x axis, y axis, metric and fixed values (axis → value)."""
        where = {n: c.currentData() for n, c in self._where.items() if c.currentData() is not None}
        return (
            self.x_combo.currentText(),
            self.y_combo.currentText(),
            self.metric_combo.currentText(),
            where,
        )

    # ---- drawing -----------------------------------------------------------------------------
    @Slot()
    def reload(self) -> None:
        """Re-read the store and redraw the heatmap, the summary line and the progress bar."""
        if self._store is None:
            return
        self.reload_times.append(time.monotonic())
        x, y, metric, where = self.picks()
        try:
            heat = heatmap_data(self._store, x, y, metric, where)
            counts = self._store.counts()
        except Exception as exc:  # the database went away or is damaged, too
            self.statusBar().showMessage(failure_text(exc, "Cannot read the study"))
            return
        self.heat = heat
        self.heatmap.draw(heat)
        total = sum(counts.values())
        finished = counts["done"] + counts["failed"]
        parts = [f"{counts['done']} done", f"{counts['failed']} failed"]
        parts += [f"{counts['pending']} pending"]
        if counts["running"]:
            parts.append(f"{counts['running']} running")
        text = " · ".join(parts) + f" of {total} cells"
        if heat.averaged:
            text += " — mean over " + ", ".join(heat.averaged)
        if "variant" in heat.where and "variant" not in where:  # core.study.plot.acceptance_where
            text += f" — {metric} of {heat.where['variant']}'s cells only"
        self.summary.setText(text)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(finished)
        self.progress.setFormat(f"%v / {total} cells")
        self._update_resume()

    # ---- hover and double-click --------------------------------------------------------------
    @Slot(int, int)
    def _hovered(self, i: int, j: int) -> None:
        self.readout.setText(describe_pixel(self.heat, i, j) if i >= 0 and self.heat else " ")

    def open_pixel(self, i: int, j: int) -> bool:
        """Emit ``cellOpened`` with the session of the first done cell of ``heat.values[i, j]``."""
        if self._store is None or self.heat is None:
            return False
        try:
            cells = pixel_cells(self._store, self.heat, i, j)
            if not cells:
                self.statusBar().showMessage(f"{describe_pixel(self.heat, i, j)}: nothing to open")
                return False
            session = cell_session(self.folder, cells[0]["id"])
        except Exception as exc:
            self.error_dialog(failure_text(exc, "Cannot open the cell"))
            return False
        note = f" (the first of the {len(cells)} cells averaged here)" if len(cells) > 1 else ""
        self.statusBar().showMessage(f"Opened cell #{cells[0]['id']}{note}")
        self.cellOpened.emit(session)
        return True

    # ---- file dialogs ------------------------------------------------------------------------
    @Slot()
    def choose_study(self) -> None:
        """Ask for a study folder and open it."""
        folder = QFileDialog.getExistingDirectory(self, "Open study (a folder with study.db)")
        if folder:
            self.open_study(folder)

    @Slot()
    def choose_spec(self) -> None:
        """Ask for a spec and an output folder and start the study."""
        spec, _ = QFileDialog.getOpenFileName(self, "New study: spec", "", "Spec (*.toml)")
        if not spec:
            return
        out = choose_folder(self, "New study: folder (a new one is made)", Path(spec).parent)
        if out:
            self.new_study(spec, out)
