"""``fima-explorer``: the explorer window, interactive or scripted.

    fima-explorer [IMAGE] [--task T] [--session FILE] [--run] [--quit-after N] [--export DIR]
                  [--screenshot PNG]

``--run --quit-after N --export DIR`` runs N iterations of the selected variants in the real window,
writes everything File → Export… writes (the ``fima run`` files — trace.csv, result.png/.npy,
observation.png, ground_truth.png, session.toml — plus result_16bit.png, result.tif, error_map.png/.npy,
trace.json, plots.png and the iterate movie iterates.gif / .mp4), and exits 0. ``--screenshot PNG`` saves a picture of the window
after the run (or at start without ``--run``) and exits. Scripted runs (``--quit-after`` or
``--screenshot``) report bad input as one line on stderr with exit status 2, an engine error with 1.
"""

from __future__ import annotations

import argparse
import gc
import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from . import splash as startup
from .garbage_collection import collect_in_gui_thread

# Nothing above imports torch (``core`` does): the splash is painted before it is loaded.
APP_NAME = "FIMA Explorer"
ORGANIZATION = "fima-explorer"
SUBTITLE = "Watch learning-based iterations converge, with FIMA's guarantee"
EXIT_BAD_INPUT = 2  # = core.arguments.EXIT_BAD_INPUT (not imported: it would load torch)
HELP_FLAGS = ("-h", "--help")


def build_parser() -> argparse.ArgumentParser:
    """The ``fima-explorer`` argument parser (imports ``core``, hence torch)."""
    from core import task_names
    from core.cli import OneLineParser, positive_int

    parser = OneLineParser(
        prog="fima-explorer",
        description="Watch FIMA (Liu et al., TPAMI 2019) and its variants converge",
    )
    parser.add_argument("image", nargs="?", help="image to open (default: the bundled sample)")
    parser.add_argument("--task", choices=task_names(), help="application (default: deblur)")
    parser.add_argument("--session", help="replay a session.toml")
    parser.add_argument(
        "--downscale", type=positive_int, metavar="F", help="area-average the image by F first"
    )
    parser.add_argument("--run", action="store_true", help="start running at once")
    parser.add_argument(
        "--quit-after", type=positive_int, metavar="N", help="run N iterations, then quit"
    )
    parser.add_argument(
        "--export",
        metavar="DIR",
        help="write the run into DIR: the `fima run` files, plots.png, iterates.gif and more",
    )
    parser.add_argument("--screenshot", metavar="PNG", help="save a picture of the window, quit")
    return parser


def application() -> QApplication:
    """The QApplication (created if needed) with the names QSettings uses."""
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "fima-explorer"])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANIZATION)
    return app


def settle_garbage_collector() -> None:
    """Collect once, exempt everything alive from future collections (``gc.freeze``), and from
    now on collect in the GUI thread only (:mod:`gui.garbage_collection`).

    The window, Qt wrappers, torch and numpy leave ~10⁵ long-lived objects; without the freeze,
    Python's full collections scan them all and can stall the event loop (and the solver thread)
    for ~50–100 ms. Objects created later are collected as usual, but never by a worker thread:
    Qt objects destroyed there deadlock the application.
    """
    gc.collect()
    gc.freeze()
    collect_in_gui_thread(application())


def _initial_load(window, args: argparse.Namespace) -> bool:
    """Load what the command line asks for; interactively fall back to the sample on failure."""
    from .state.problem_spec import ProblemSpec

    options = {"downscale": args.downscale} if args.downscale else {}
    if args.session:
        ok = window.files.load_session_file(args.session, image=args.image, task=args.task)
    else:
        ok = window.open_image(args.image, ProblemSpec(args.task or "deblur", None, options))
    if not ok and not window.scripted:
        window.load_problem(ProblemSpec(args.task or "deblur"))
    return ok


def leave_a_core_for_the_window() -> None:
    """Run torch on cores − 1 threads (unless OMP_NUM_THREADS says otherwise).

    On a small machine, OpenMP threads that wait for a core busy with the GUI thread slow the
    solver down 10-20× (measured on 2 cores: the denoiser went from 43 ms to 960 ms). The same
    choice as ``fima run`` and ``fima denoise`` (:func:`core.threads.choose_threads`); importing
    ``core`` has already made OpenMP's idle threads wait passively.
    """
    from core.threads import choose_threads

    choose_threads()


def open_splash(argv: list[str]) -> startup.Splash | None:
    """Show the start-up splash before torch loads (not for ``--help``, nor without a display)."""
    if any(a in HELP_FLAGS for a in argv) or not startup.display_available():
        return None
    application()
    return startup.Splash.open(APP_NAME, SUBTITLE, "Loading the engine (PyTorch)…")


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fima-explorer``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    splash = open_splash(argv)
    try:
        return _main(argv, splash)
    finally:
        if splash is not None:
            splash.finish()


def _main(argv: list[str], splash: startup.Splash | None) -> int:
    """Parse, load the engine and the window (saying so on the splash), run the event loop."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed in one line
        return int(exc.code or 0)
    startup.report(startup.TORCH_IMPORTED)
    if args.session and args.downscale:
        print(
            "fima-explorer: --downscale applies to an image; a session keeps its own",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    leave_a_core_for_the_window()
    app = application()
    if splash is not None:
        splash.say("Opening the window…")
    from .main_window import MainWindow
    from .scripted import ScriptedDriver

    window = MainWindow()
    window.scripted = args.quit_after is not None or args.screenshot is not None
    try:
        if splash is not None:
            splash.say("Loading the problem and its prior…")
        if not _initial_load(window, args) and window.scripted:
            return EXIT_BAD_INPUT
        startup.after_first_paint(window, _ready)
        window.show()
        if splash is not None:
            splash.finish()
        settle_garbage_collector()
        driver = ScriptedDriver(window, args.run, args.quit_after, args.export, args.screenshot)
        QTimer.singleShot(0, driver.start)
        return app.exec()
    finally:
        window.close()
        window.deleteLater()


def _ready() -> None:
    """The window has been painted with its problem loaded (the first paint too, if no splash):
    now the engine process starts (its imports would have slowed the window's own by 1.4 s)."""
    startup.report(startup.FIRST_PAINT)
    startup.report(startup.READY)
    from .run.engine_process import warm_up

    warm_up()


if __name__ == "__main__":
    sys.exit(main())
