"""What a finished run leaves on disk (the ``fima run`` contract; the explorer's export writes its
run files through these functions too).

One variant (``fima run``): ``trace.csv``, ``result.png`` + ``result.npy``, ``observation.png``,
``ground_truth.png`` (when known), ``session.toml``.

Several variants (``fima run --session`` of a session that ran several): one ``trace.csv`` with the
rows of every variant, in the session's order; ``result.png``/``.npy`` hold the result of ``fima``
when it ran (else of the first variant), and ``result_<variant>.png``/``.npy`` that of each variant.
Runs with their own parameters (``--variant fima,fima:C=0.3``, :mod:`core.run_spec`) are named by
their file label instead: ``result_fima_C=0.3.png``, ``maps/d_fima_C=0.3_<k>.npy``.

Optimality-error maps (``fima run --save-maps [N]``): ``maps/d_<variant>_<k>.npy`` holds |d| per pixel
of trace row k (float32, H × W; its norm is that row's residual) and ``.png`` beside it the same map
scaled to its own maximum; written every N-th iteration (k = 0, N, 2N, …) and for the last map made
(a skipped or failed proposal makes none). Without N only the last map is written.

Tasks whose variable is not the picture a user wants (low-light: the illumination t) put a
``render`` callable in ``problem.info``; result.png/.npy then hold the rendered picture and
``variable.npy`` (``variable_<variant>.npy``) the iterate itself. ``ground_truth.png`` is always
what the result is scored against — for such a task the clean picture ``problem.info["clean"]`` —
and the true variable goes beside it as ``true_<name>.png`` (low-light: ``true_illumination.png``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from .io import map_to_array, save_image
from .session import Session, save_session
from .trace import write_trace_csv

Image = torch.Tensor | np.ndarray
RUN_FILES = ("trace.csv", "result.png", "result.npy", "observation.png", "ground_truth.png")
RESULT_KINDS = ("png", "npy")
MAPS_FOLDER = "maps"


def main_variant(variants: Sequence[str]) -> str | None:
    """The variant whose result is ``result.png``: ``fima`` when it ran, else the first one."""
    return "fima" if "fima" in variants else (variants[0] if variants else None)


def true_variable_name(task: str | None) -> str:
    """The file name of the true variable of a task whose iterate is not the picture."""
    from .tasks import describe_task

    try:
        name = describe_task(str(task)).views.variable_name
    except ValueError:  # not a known task
        name = ""
    return f"true_{name or 'variable'}.png"


def references(problem) -> tuple[Image | None, Image | None]:
    """(what the result is scored against, the true variable when it is not that picture)."""
    clean = problem.info.get("clean")
    if problem.info.get("render") is not None and clean is not None:
        return clean, problem.ground_truth
    return problem.ground_truth, None


def write_trace(out: Path, rows: list[dict]) -> Path:
    """``trace.csv``."""
    write_trace_csv(out / "trace.csv", rows)
    return out / "trace.csv"


def write_result(
    out: Path,
    picture: Image,
    variable: Image | None = None,
    variant: str | None = None,
    kinds: Sequence[str] = RESULT_KINDS,
) -> list[Path]:
    """``result.png``/``result.npy`` (+ ``variable.npy``); with ``variant``: ``result_<variant>.*``."""
    suffix = f"_{variant}" if variant else ""
    written = [out / f"result{suffix}.{kind}" for kind in RESULT_KINDS if kind in kinds]
    for path in written:
        save_image(path, picture)
    if variable is not None and "npy" in kinds:
        written.append(out / f"variable{suffix}.npy")
        save_image(written[-1], variable)
    return written


def write_observation(out: Path, observation: Image) -> Path:
    """``observation.png`` (for MRI the zero-filled image)."""
    save_image(out / "observation.png", observation)
    return out / "observation.png"


def write_references(
    out: Path, task: str | None, truth: Image | None, true_variable: Image | None = None
) -> list[Path]:
    """``ground_truth.png`` (what the result is scored against) and the true variable beside it."""
    written = []
    if truth is not None:
        written.append(out / "ground_truth.png")
        save_image(written[-1], truth)
    if true_variable is not None:
        written.append(out / true_variable_name(task))
        save_image(written[-1], true_variable)
    return written


def write_d_map(path: Path, d_map: Image, scale: float | None = None) -> list[Path]:
    """``path``.npy (|d| per pixel, float) and ``path``.png (|d| / ``scale``; None: its maximum)."""
    arr = map_to_array(d_map) if isinstance(d_map, torch.Tensor) else np.asarray(d_map, np.float32)
    top = float(np.nanmax(arr)) if scale is None and arr.size else (scale or 0.0)
    npy, png = path.with_suffix(".npy"), path.with_suffix(".png")
    save_image(npy, arr)
    save_image(png, arr / top if top > 0 else np.zeros_like(arr))
    return [npy, png]


class MapSaver:
    """``fima run --save-maps [N]``: the d maps of every N-th iteration and the last one made."""

    def __init__(self, out_dir: str | Path, every: int = 0) -> None:
        self.folder = Path(out_dir) / MAPS_FOLDER
        self.every = int(every)
        self.written: list[Path] = []
        self._last: dict[str, tuple[int, torch.Tensor, bool]] = {}  # variant → (k, map, written)

    def path(self, variant: str, k: int) -> Path:
        """Where row k's map goes (no suffix): ``maps/d_<variant>_<k>``."""
        return self.folder / f"d_{variant}_{k:04d}"

    def offer(self, variant: str, k: int, d_map: torch.Tensor | None) -> None:
        """Row k's map (None: no proposal judged): written now when k is a multiple of N."""
        if d_map is None:
            return
        due = self.every > 0 and k % self.every == 0
        if due:
            self._write(variant, k, d_map)
        self._last[variant] = (k, d_map, due)

    def finish(self, variant: str) -> None:
        """The run of ``variant`` ended: write its last map made, if not written already."""
        last = self._last.pop(variant, None)
        if last is not None and not last[2]:
            self._write(variant, last[0], last[1])

    def _write(self, variant: str, k: int, d_map: torch.Tensor) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.written += write_d_map(self.path(variant, k), d_map)


def write_session_file(out: Path, session: Session) -> Path:
    """``session.toml``."""
    save_session(out / "session.toml", session)
    return out / "session.toml"


def write_run_outputs(
    out_dir: str | Path,
    problem,
    rows: list[dict],
    result: torch.Tensor | Mapping[str, torch.Tensor],
    session: Session,
) -> list[Path]:
    """Write the run files into ``out_dir`` (created if needed); return the paths written.

    ``result`` is the last iterate, or a mapping variant → last iterate when several ran.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = dict(result) if isinstance(result, Mapping) else {None: result}
    render = problem.info.get("render")

    def picture_and_variable(x: torch.Tensor) -> tuple[Image, Image | None]:
        return (render(x), x) if render is not None else (x, None)

    written = [write_trace(out, rows)]
    main = main_variant([v for v in results if v is not None]) if None not in results else None
    written += write_result(out, *picture_and_variable(results[main]))
    if len(results) > 1:
        for variant, x in results.items():
            written += write_result(out, *picture_and_variable(x), variant=variant)
    written.append(write_observation(out, problem.observation_image))
    written += write_references(out, problem.task, *references(problem))
    written.append(write_session_file(out, session))
    return written
