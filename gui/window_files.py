"""The explorer window's files: open anything, sessions in and out, export, screenshots, drops.

:class:`WindowFiles` is a part the window composes (``window.files``): it is given the window it
serves as a :class:`FilesHost` — the state, the run, the views and the loading methods it uses —
and watches the window's drag-and-drop events through an event filter. Paths the file pickers
choose arrive in :meth:`WindowFiles.use_path`.

It also knows whether the run is saved: a run is *unsaved* while it has iterations made since it
was last exported or saved as a session; :meth:`WindowFiles.confirm_discard` asks (Save session… /
Discard / Cancel) before anything throws such a run away.
"""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Protocol

import numpy as np
from PySide6.QtCore import QEvent, QObject, Slot
from PySide6.QtWidgets import QDialog, QMessageBox

from core import InputError, Parameters, TaskSetup
from core.proposal import parse_policy
from core.session import Session, load_session

from . import settings
from .busy import wait_cursor
from .dialogs.export_dialog import ExportDialog
from .dialogs.file_dialogs import FileDialogs
from .display import to_display_array
from .export import (
    ExportContents,
    ExportOptions,
    export_files,
    make_session,
    save_screenshot,
    write_session,
)
from .run.controller import RunController
from .state import ExplorerState
from .state.module_choices import MODULE_SUFFIXES
from .state.problem_spec import ProblemSpec
from .views.images import ImagePanel
from .views.plots import PlotPanel
from .views.scrubber import Scrubber
from .views.solver_panel import SolverPanel
from .views.status import StatusPanel

CONFIRM_TITLE = "FIMA Explorer"


class FilesHost(Protocol):
    """What :class:`WindowFiles` uses of the window it serves (a QWidget besides)."""

    state: ExplorerState
    runner: RunController
    images: ImagePanel
    plots: PlotPanel
    scrubber: Scrubber
    solver_panel: SolverPanel
    status: StatusPanel
    dialogs: FileDialogs
    scripted: bool

    def load_problem(
        self,
        spec: ProblemSpec,
        parameters: Parameters | None = None,
        scheduled: dict[int, dict[str, float]] | None = None,
    ) -> bool: ...
    def open_image(self, path: str | Path) -> bool: ...
    def set_option(self, name: str, value: object) -> bool: ...
    def set_module(self, name: str) -> bool: ...
    def show_variants(self, variants: list[str]) -> None: ...
    def show_error(self, message: str) -> None: ...


class WindowFiles(QObject):
    """Opening files, sessions, export, screenshots and drops of the explorer window."""

    def __init__(self, window: FilesHost) -> None:
        super().__init__(window)
        self.window = window
        self._saved: tuple[weakref.ref, int] | None = None  # (run, its iterations) last saved

    @property
    def setup(self) -> TaskSetup | None:
        """The problem as built (the state's)."""
        return self.window.state.setup

    @Slot(str, str)
    def use_path(self, kind: str, path: str) -> bool:
        """Use a path a file picker chose for ``kind`` (see gui.dialogs.file_dialogs.PICKERS)."""
        w = self.window
        uses = {
            "image": w.open_image,
            "kernel": lambda p: w.set_option("kernel", p),
            "mask": lambda p: w.set_option("mask", p),
            "module": w.set_module,
            "session": self.load_session_file,
            "session_target": self.save_session_file,
            "screenshot": self.save_screenshot,
        }
        return uses[kind](path)

    def open_file(self, path: str | Path) -> bool:
        """Open whatever ``path`` is: a session (.toml), a TorchScript module, or an image."""
        suffix = Path(path).suffix.lower()
        if suffix == ".toml":
            return self.load_session_file(path)
        if suffix in MODULE_SUFFIXES:
            return self.window.set_module(str(path))
        return self.window.open_image(path)

    # ---- keeping the run -----------------------------------------------------------------
    def mark_saved(self) -> None:
        """The current run was just exported or saved as a session."""
        runner = self.window.runner
        if runner.run is not None:
            runner.refresh_now()
        self._saved = (weakref.ref(runner.run), runner.iterations) if runner.run else None

    def unsaved_iterations(self) -> tuple[int, int]:
        """(iterations of the current run, how many it had when last saved; 0: never)."""
        runner = self.window.runner
        if runner.run is None:
            return 0, 0
        runner.refresh_now()  # count what the worker has made, not what was drawn
        saved = 0
        if self._saved is not None and self._saved[0]() is runner.run:
            saved = self._saved[1]
        return runner.iterations, saved

    def confirm_discard(self, doing: str, at_least: int = 1) -> bool:
        """Ask before ``doing`` (e.g. "Changing the variants") discards an unsaved run of at
        least ``at_least`` iterations: Save session… (then go on), Discard, or Cancel (False).

        Scripted windows never ask. The question goes through ``QMessageBox.question`` (tests
        answer it there); any answer but Save, Cancel or No goes on."""
        iterations, saved = self.unsaved_iterations()
        if self.window.scripted or iterations <= saved or iterations < at_least:
            return True
        since = f", {iterations - saved} of them since it was last saved" if saved else ""
        text = (
            f"The run has {iterations} iterations{since}. {doing} discards them.\n\n"
            "Save the session first (it replays the run), discard the run, or cancel?"
        )
        buttons = QMessageBox.StandardButton
        answer = QMessageBox.question(
            self.window,
            CONFIRM_TITLE,
            text,
            buttons.Save | buttons.Discard | buttons.Cancel,
            buttons.Cancel,
        )
        if answer in (buttons.Cancel, buttons.No, buttons.Escape):
            return False
        if answer == buttons.Save:
            before = self._saved
            self.window.dialogs.choose("session_target")  # saving marks the run saved
            return self._saved is not before  # the picker cancelled or saving failed: stay
        return True

    # ---- sessions -------------------------------------------------------------------------
    def load_session_file(
        self, path: str | Path, image: str | None = None, task: str | None = None
    ) -> bool:
        """Replay a session file: its problem, parameters, scheduled changes, variants, limit."""
        try:
            session = load_session(path)
        except InputError as exc:
            self.window.show_error(str(exc))
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
        w = self.window
        if not w.load_problem(spec, session.parameters, session.changes):
            return False
        w.state.schedule_runs(session.run_changes)
        solver = w.state.solver  # the solver panel follows
        solver.runs = tuple(session.run_specs())
        solver.limit = session.iterations
        solver.policy = parse_policy(session.propose).describe()
        w.show_variants(solver.labels)
        return True

    def current_session(self) -> Session | None:
        """The session that replays the current run (or would start the next one), built from
        the explorer state alone."""
        if self.setup is None:
            return None
        state = self.window.state
        solver, progress = state.solver, state.progress
        if state.timeline is not None and progress.variants:
            counts = (progress.history.count(v) for v in progress.variants)
            return make_session(
                self.setup.settings,
                state.timeline.initial,
                state.timeline.changes,
                list(progress.variants),
                max(counts, default=0) or solver.limit,
                progress.policy,
                {label: t.own_changes for label, t in state.run_timelines.items()},
            )
        return make_session(
            self.setup.settings,
            state.initial,
            state.scheduled,
            solver.labels,
            solver.limit,
            solver.policy,
            state.scheduled_runs,
        )

    def save_session_file(self, path: str | Path) -> bool:
        """Save the current session."""
        session = self.current_session()
        if session is None:
            self.window.show_error("Nothing to save: no problem is loaded")
            return False
        try:
            write_session(path, session)
        except OSError as exc:
            self.window.show_error(f"Cannot save the session: {exc}")
            return False
        settings.remember_folder(path)
        self.mark_saved()
        self.window.status.message(f"Session saved to {path}")
        return True

    # ---- results and exports --------------------------------------------------------------
    def result_variant(self) -> str | None:
        """The variant whose result is exported: FIMA if it ran, else the first one that ran."""
        runner = self.window.runner
        for variant in ("fima", *runner.variants):
            if variant in runner.latest_x:
                return variant
        return runner.variants[0] if runner.variants else None

    def result_iterate(self) -> np.ndarray | None:
        """FIMA's latest iterate if it ran, else the first variant's, else x⁰."""
        if self.setup is None:
            return None
        variant, latest = self.result_variant(), self.window.runner.latest_x
        if variant in latest:
            return latest[variant]
        return to_display_array(self.setup.problem.x0)

    def result_image(self) -> np.ndarray | None:
        """The result picture: :meth:`result_iterate`, rendered when the task renders its
        iterate (low-light: the enhanced picture from the illumination t)."""
        x = self.result_iterate()
        render = self.window.images.task_view().render
        return render(x) if render is not None and x is not None else x

    def result_map(self) -> np.ndarray | None:
        """The |d| map last made by the exported variant (None: none made, or no check)."""
        frame = self.window.images.maps.latest(self.result_variant())
        return frame[1] if frame is not None else None

    def export_to(self, out_dir: str | Path, options: ExportOptions | None = None) -> bool:
        """Write the export items into ``out_dir`` (default: all of them, as ``--export`` does)."""
        session = self.current_session()
        if session is None:
            self.window.show_error("Nothing to export: no problem is loaded")
            return False
        w = self.window
        w.runner.refresh_now()
        w.plots.flush()
        problem = self.setup.problem
        observation = problem.observation_image
        view = w.images.task_view()
        rendered = view.render is not None
        contents = ExportContents(
            rows=w.runner.history.all_rows(w.runner.variants),
            result=self.result_image(),
            observation=to_display_array(observation if observation is not None else problem.x0),
            truth=to_display_array(problem.ground_truth),
            session=session,
            iterates=w.scrubber.iterates,
            variant=self.result_variant(),
            save_plots=w.plots.save_image,
            variable=self.result_iterate() if rendered else None,
            reference=view.picture_truth if rendered else None,
            render=view.render,
            d_map=self.result_map(),
        )
        options = options or ExportOptions(error_max=w.images.error_max.value())
        try:
            with wait_cursor():
                written = export_files(out_dir, contents, options)
        except (OSError, ValueError) as exc:
            w.show_error(f"Export failed: {exc}")
            return False
        settings.remember_folder(out_dir)
        settings.remember_export_folder(out_dir)
        self.mark_saved()
        w.status.message(f"Exported {len(written)} files to {out_dir}")
        return True

    @Slot()
    def open_export_dialog(self) -> None:
        """File → Export…: choose the folder and the items, then export."""
        if self.setup is None:
            self.window.show_error("Nothing to export: no problem is loaded")
            return
        task = str(self.setup.settings.get("task", "run"))
        dialog = ExportDialog(settings.default_export_folder(task), self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        dialog.remember()
        if not dialog.folder():
            self.window.show_error("Choose a folder to export into")
            return
        self.export_to(dialog.folder(), dialog.options(self.window.images.error_max.value()))

    def save_screenshot(self, path: str | Path) -> bool:
        """Save a picture of the window as it is drawn."""
        self.window.runner.refresh_now()
        self.window.plots.flush()
        try:
            save_screenshot(self.window, path)
        except OSError as exc:
            self.window.show_error(str(exc))
            return False
        return True

    # ---- drag and drop ----------------------------------------------------------------------
    def drop_event(self, event: QEvent) -> None:
        """The window's drags and drops: accept a dragged local file, open a dropped one.

        The window hands these three events over from its own handlers: an event filter on the
        window would call into Python for every event it gets (dozens per frame of a run), each
        time taking the GIL from the solver's thread."""
        path = dropped_path(event)
        if not path:
            event.ignore()
        elif event.type() != QEvent.Type.Drop:
            event.acceptProposedAction()
        else:
            event.acceptProposedAction()
            self.open_file(path)


def dropped_path(event) -> str | None:
    """The first local file a drag or drop event carries, or None."""
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            return url.toLocalFile()
    return None
