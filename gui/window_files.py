"""The explorer window's files: open anything, sessions in and out, export, screenshots, drops.

A mixin of :class:`gui.main_window.MainWindow` (``self`` is the window); kept apart so that the
window composes its concerns instead of holding them all.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
)
from PySide6.QtWidgets import (
    QDialog,
)

from core import InputError
from core.session import Session, load_session

from . import settings
from .dialogs.export_dialog import ExportDialog
from .export import (
    ExportContents,
    ExportOptions,
    export_files,
    make_session,
    save_screenshot,
    write_session,
)
from .run.solver_worker import to_display_array
from .state.module_choices import MODULE_SUFFIXES
from .state.problem_spec import ProblemSpec

APP_TITLE = "FIMA Explorer"


@contextlib.contextmanager
def wait_cursor() -> Iterator[None]:
    """Show a busy cursor while a slow thing (building a task, loading a module) happens."""
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()


class WindowFiles:
    """Opening files, sessions, export and screenshots of :class:`MainWindow`."""

    def open_file(self, path: str | Path) -> bool:
        """Open whatever ``path`` is: a session (.toml), a TorchScript module, or an image."""
        suffix = Path(path).suffix.lower()
        if suffix == ".toml":
            return self.load_session_file(path)
        if suffix in MODULE_SUFFIXES:
            return self.set_module(str(path))
        return self.open_image(path)

    # ---- sessions and exports -------------------------------------------------------------
    def load_session_file(
        self, path: str | Path, image: str | None = None, task: str | None = None
    ) -> bool:
        """Replay a session file: its problem, parameters, scheduled changes, variants, limit."""
        try:
            session = load_session(path)
        except InputError as exc:
            self.show_error(str(exc))
            return False
        return self.open_session(session, image, task)

    def open_session(
        self, session: Session, image: str | None = None, task: str | None = None
    ) -> bool:
        """Open ``session`` (a file's, or a study cell's): its problem, parameters, scheduled
        changes, variants and limit; ``image`` / ``task`` replace the session's."""
        spec = ProblemSpec(session.task["task"], session.task.get("image"), session.build_options())
        spec = spec.without_defaults()  # the session names module and prior even when defaults
        if task:
            spec = spec.with_task(task)
        if image:
            spec = spec.with_image(image)
        if not self.load_problem(spec, session.parameters, session.changes):
            return False
        self.solver_panel.set_variants(session.variants)
        self.solver_panel.set_limit(session.iterations)
        self._on_variants_changed(self.solver_panel.variants())
        return True

    def current_session(self) -> Session | None:
        """The session that replays the current run (or would start the next one)."""
        if self.setup is None:
            return None
        runner, timeline = self.runner, self.state.timeline
        if runner.run is not None and timeline is not None:
            iterations = max((runner.history.count(v) for v in runner.variants), default=0)
            return make_session(
                self.setup.settings,
                timeline.initial,
                timeline.changes,
                runner.variants,
                iterations or self.solver_panel.limit(),
            )
        return make_session(
            self.setup.settings,
            self.state.initial,
            self.state.scheduled,
            self.solver_panel.variants(),
            self.solver_panel.limit(),
        )

    def save_session_file(self, path: str | Path) -> bool:
        """Save the current session."""
        session = self.current_session()
        if session is None:
            self.show_error("Nothing to save: no problem is loaded")
            return False
        try:
            write_session(path, session)
        except OSError as exc:
            self.show_error(f"Cannot save the session: {exc}")
            return False
        settings.remember_folder(path)
        self.status.message(f"Session saved to {path}")
        return True

    def result_variant(self) -> str | None:
        """The variant whose result is exported: FIMA if it ran, else the first one that ran."""
        variants = self.runner.variants
        for variant in ("fima", *variants):
            if variant in self.runner.latest_x:
                return variant
        return variants[0] if variants else None

    def result_iterate(self) -> np.ndarray | None:
        """FIMA's latest iterate if it ran, else the first variant's, else x⁰."""
        if self.setup is None:
            return None
        variant = self.result_variant()
        if variant in self.runner.latest_x:
            return self.runner.latest_x[variant]
        return to_display_array(self.setup.problem.x0)

    def result_image(self) -> np.ndarray | None:
        """The result picture: :meth:`result_iterate`, rendered when the task renders its
        iterate (low-light: the enhanced picture from the illumination t)."""
        x = self.result_iterate()
        render = self.images.task_view().render
        return render(x) if render is not None and x is not None else x

    def export_to(self, out_dir: str | Path, options: ExportOptions | None = None) -> bool:
        """Write the export items into ``out_dir`` (default: all of them, as ``--export`` does)."""
        session = self.current_session()
        if session is None:
            self.show_error("Nothing to export: no problem is loaded")
            return False
        self.runner.refresh_now()
        self.plots.flush()
        problem = self.setup.problem
        observation = problem.observation_image
        order = self.runner.variants
        view = self.images.task_view()
        rendered = view.render is not None
        contents = ExportContents(
            rows=self.runner.history.all_rows(order),
            result=self.result_image(),
            observation=to_display_array(observation if observation is not None else problem.x0),
            truth=to_display_array(problem.ground_truth),
            session=session,
            iterates=self.scrubber.iterates,
            variant=self.result_variant(),
            save_plots=self.plots.save_image,
            variable=self.result_iterate() if rendered else None,
            reference=view.picture_truth if rendered else None,
            render=view.render,
        )
        options = options or ExportOptions(error_max=self.images.error_max.value())
        try:
            with wait_cursor():
                written = export_files(out_dir, contents, options)
        except (OSError, ValueError) as exc:
            self.show_error(f"Export failed: {exc}")
            return False
        settings.remember_folder(out_dir)
        self.status.message(f"Exported {len(written)} files to {out_dir}")
        return True

    @Slot()
    def open_export_dialog(self) -> None:
        """File → Export…: choose the folder and the items, then export."""
        if self.setup is None:
            self.show_error("Nothing to export: no problem is loaded")
            return
        dialog = ExportDialog(settings.last_folder(), self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        dialog.remember()
        if not dialog.folder():
            self.show_error("Choose a folder to export into")
            return
        self.export_to(dialog.folder(), dialog.options(self.images.error_max.value()))

    def save_screenshot(self, path: str | Path) -> bool:
        """Save a picture of the window as it is drawn."""
        self.runner.refresh_now()
        self.plots.flush()
        try:
            save_screenshot(self, path)
        except OSError as exc:
            self.show_error(str(exc))
            return False
        return True

    # ---- drag and drop --------------------------------------------------------------------
    @staticmethod
    def _dropped_path(event) -> str | None:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept a dragged local file."""
        if self._dropped_path(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        """Keep accepting a dragged local file."""
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        """Open a dropped image (or session / TorchScript file)."""
        path = self._dropped_path(event)
        if not path:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_file(path)
