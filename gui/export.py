"""Writing what the explorer shows: every export item, session files, screenshots.

An export writes the files ``fima run --out DIR`` writes (``trace.csv``, ``result.png``,
``result.npy``, ``observation.png``, ``ground_truth.png``, ``session.toml``: written by
:mod:`core.outputs`, so same names and contents) plus the explorer's extras: the result as 16-bit
PNG and float TIFF, the error map, the optimality-error map |d| (``d_map.npy``: |d| per pixel of
the exported variant's last map made, its norm that row's residual; ``d_map.png`` at the panel's
levels, 0 … its rounded-up 99.5th percentile), the trace as JSON, the plots as a PNG of a chosen
width, and an iterate movie (GIF; MP4 too when imageio-ffmpeg is installed) with the iteration
number burnt in. For a task whose iterate is not the picture (low-light: the illumination t) the
result, error map and movie are the rendered picture, ``variable.npy`` holds the iterate itself,
``ground_truth.png`` the clean picture the result is scored against and ``true_illumination.png``
the true iterate, as ``fima run`` writes them. Each file is written atomically (temporary file +
rename, :mod:`core.fileio`): an interrupted export or a full disk leaves complete files or none,
and earlier files of the same name intact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QWidget

from core import Parameters
from core.fileio import WriteError, atomic_path
from core.history import IterateHistory
from core.io import save_image
from core.movie import mp4_available, write_movie
from core.outputs import (
    write_d_map,
    write_observation,
    write_references,
    write_result,
    write_session_file,
    write_trace,
)
from core.proposal import DEFAULT_POLICY
from core.run_spec import parse_run_spec
from core.session import Session, save_session
from core.trace import write_trace_json

from .views.image_arrays import error_map
from .views.optimality_map import auto_top

# item key → (file names, label in the Export dialog)
ITEMS: dict[str, tuple[tuple[str, ...], str]] = {
    "result_png": (("result.png",), "Result, 8-bit PNG"),
    "result_png16": (("result_16bit.png",), "Result, 16-bit PNG"),
    "result_tiff": (("result.tif",), "Result, float TIFF"),
    "result_npy": (("result.npy",), "Result, float NPY (+ variable.npy when rendered)"),
    "observation": (("observation.png",), "Observation"),
    "ground_truth": (
        ("ground_truth.png",),
        "Ground truth (when known; + the true iterate when it is not the picture)",
    ),
    "error_map": (("error_map.png", "error_map.npy"), "Error map |x − truth| (PNG + NPY)"),
    "d_map": (("d_map.png", "d_map.npy"), "Optimality error map |d| (PNG + NPY)"),
    "trace_csv": (("trace.csv",), "Trace, CSV"),
    "trace_json": (("trace.json",), "Trace, JSON"),
    "plots": (("plots.png",), "Plots, PNG"),
    "movie": (("iterates.gif", "iterates.mp4"), "Iterate movie, GIF (+ MP4 with imageio-ffmpeg)"),
    "session": (("session.toml",), "Session file"),
}
ALL_ITEMS = tuple(ITEMS)
RUN_FILE_ITEMS = ("trace_csv", "result_png", "result_npy", "observation", "ground_truth", "session")


@dataclass
class ExportOptions:
    """What to write and how."""

    items: set[str] = field(default_factory=lambda: set(ALL_ITEMS))
    plot_width: int = 1600
    movie_frames: int = 40
    movie_fps: float = 10.0
    error_max: float = 0.2


@dataclass
class ExportContents:
    """What an export is made of, collected from the window."""

    rows: list[dict]
    result: np.ndarray
    observation: np.ndarray | None
    truth: np.ndarray | None
    session: Session
    iterates: IterateHistory | None = None
    variant: str | None = None
    save_plots: Callable[[Path, int], None] | None = None
    variable: np.ndarray | None = None  # the iterate ``result`` was rendered from (low-light's t)
    reference: np.ndarray | None = None  # what the error map compares ``result`` with (None: truth)
    render: Callable[[np.ndarray], np.ndarray] | None = None  # iterate → picture (movie frames)
    d_map: np.ndarray | None = None  # the exported variant's last |d| map (fima, unchecked)


def make_session(
    settings: dict,
    parameters: Parameters,
    changes: dict[int, dict[str, float]],
    variants: list[str] | tuple[str, ...],
    iterations: int,
    propose: str = DEFAULT_POLICY,
    run_changes: dict[str, dict[int, dict[str, float]]] | None = None,
) -> Session:
    """A replayable session of the explorer's current problem and run (and its proposal policy):
    ``variants`` are run labels (``fima``, ``fima · C=0.3``), ``run_changes`` one run's own changes
    by label."""
    runs = [parse_run_spec(label) for label in variants]
    own = {label: dict(c) for label, c in (run_changes or {}).items() if c}
    plain = not own and not any(spec.overrides for spec in runs)
    return Session(
        dict(settings),
        parameters,
        dict(changes),
        list(dict.fromkeys(spec.variant for spec in runs)),
        max(int(iterations), 1),
        propose,
        [] if plain else runs,
        own,
    )


def movie_items(
    iterates: IterateHistory, variant: str, max_frames: int
) -> list[tuple[int, np.ndarray]]:
    """Up to ``max_frames`` stored iterates of ``variant``, evenly spread, first and last kept."""
    ks = iterates.iterations(variant)
    if len(ks) > max_frames >= 2:
        picks = np.unique(np.round(np.linspace(0, len(ks) - 1, max_frames)).astype(int))
        ks = [ks[i] for i in picks]
    items = []
    for k in ks:
        frame = iterates.get(variant, k)
        if frame is not None and frame[0] == k:
            items.append((k, frame[1]))
    return items


def _save_error_map(out: Path, contents: ExportContents, error_max: float) -> list[Path]:
    reference = contents.reference if contents.reference is not None else contents.truth
    err = error_map(contents.result, reference)
    if err is None:
        return []
    png, npy = out / "error_map.png", out / "error_map.npy"
    save_image(png, np.clip(err / max(error_max, 1e-12), 0.0, 1.0))
    save_image(npy, err)
    return [png, npy]


def _save_movie(out: Path, contents: ExportContents, options: ExportOptions) -> list[Path]:
    if contents.iterates is None or contents.variant is None:
        return []
    items = movie_items(contents.iterates, contents.variant, options.movie_frames)
    if not items:
        return []
    if contents.render is not None:
        items = [(k, contents.render(x)) for k, x in items]
    written = [out / "iterates.gif"]
    write_movie(written[0], items, options.movie_fps)
    if mp4_available():
        written.append(out / "iterates.mp4")
        write_movie(written[-1], items, options.movie_fps)
    return written


def export_files(
    out_dir: str | Path, contents: ExportContents, options: ExportOptions | None = None
) -> list[Path]:
    """Write the chosen items into ``out_dir`` (created); return the paths written.

    Raises :class:`core.fileio.WriteError` (an OSError with a one-line message) when a file cannot
    be written; files written before stay complete, the failing one is not left behind.
    """
    options = options or ExportOptions()
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create the folder {out}: {exc.strerror or exc}") from exc
    chosen = options.items
    written: list[Path] = []

    def image(item: str, name: str, array: np.ndarray | None, bits: int = 8) -> None:
        if item in chosen and array is not None:
            save_image(out / name, array, bits=bits)
            written.append(out / name)

    if "trace_csv" in chosen:  # the fima run files, through core.outputs
        written.append(write_trace(out, contents.rows))
    kinds = [kind for kind in ("png", "npy") if f"result_{kind}" in chosen]
    if kinds and contents.result is not None:
        written += write_result(out, contents.result, contents.variable, kinds=kinds)
    if "observation" in chosen and contents.observation is not None:
        written.append(write_observation(out, contents.observation))
    if "ground_truth" in chosen:
        rendered = contents.reference is not None  # the truth is the iterate's, not the picture's
        truth, true_variable = (
            (contents.reference, contents.truth) if rendered else (contents.truth, None)
        )
        task = contents.session.task.get("task")
        written += write_references(out, task, truth, true_variable)
    if "session" in chosen:
        written.append(write_session_file(out, contents.session))
    image("result_png16", "result_16bit.png", contents.result, bits=16)
    image("result_tiff", "result.tif", contents.result)
    if "error_map" in chosen:
        written += _save_error_map(out, contents, options.error_max)
    if "d_map" in chosen and contents.d_map is not None:
        written += write_d_map(out / "d_map", contents.d_map, auto_top(contents.d_map))
    if "trace_json" in chosen:
        write_trace_json(out / "trace.json", contents.rows)
        written.append(out / "trace.json")
    if "plots" in chosen and contents.save_plots is not None:
        contents.save_plots(out / "plots.png", options.plot_width)
        written.append(out / "plots.png")
    if "movie" in chosen:
        written += _save_movie(out, contents, options)
    return written


def write_session(path: str | Path, session: Session) -> None:
    """Save a session file (TOML), atomically."""
    save_session(path, session)


def save_screenshot(widget: QWidget, path: str | Path) -> None:
    """Grab ``widget`` as it is drawn and save it (PNG, JPEG… by suffix), atomically."""
    path = Path(path)
    pixmap = widget.grab()
    with atomic_path(path) as tmp:
        if not pixmap.save(str(tmp), path.suffix.lstrip(".").upper() or "PNG"):
            raise WriteError(f"could not write the screenshot {path}")
