"""Writing what the explorer shows: run outputs like ``fima run``, session files, screenshots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PySide6.QtWidgets import QWidget

from core import Parameters, Problem
from core.outputs import write_run_outputs
from core.session import Session, save_session


def make_session(
    settings: dict,
    parameters: Parameters,
    changes: dict[int, dict[str, float]],
    variants: list[str] | tuple[str, ...],
    iterations: int,
) -> Session:
    """A replayable session of the explorer's current problem and run."""
    return Session(
        dict(settings), parameters, dict(changes), list(variants), max(int(iterations), 1)
    )


def export_run(
    out_dir: str | Path,
    problem: Problem,
    rows: list[dict],
    result: np.ndarray | torch.Tensor,
    session: Session,
) -> list[Path]:
    """Write trace.csv, result.png/.npy, observation.png, ground_truth.png, session.toml."""
    return write_run_outputs(out_dir, problem, rows, result, session)


def write_session(path: str | Path, session: Session) -> None:
    """Save a session file (TOML)."""
    save_session(path, session)


def save_screenshot(widget: QWidget, path: str | Path) -> None:
    """Grab ``widget`` as it is drawn and save it (PNG, JPEG… by suffix); OSError on failure."""
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    if not widget.grab().save(str(path)):
        raise OSError(f"could not write the screenshot {path}")
