"""What a finished run leaves on disk (the ``fima run`` contract, also used by the explorer):
trace.csv, result.png + result.npy, observation.png, ground_truth.png (when known), session.toml.

Tasks whose variable is not the picture a user wants (low-light: the illumination t) put a
``render`` callable in ``problem.info``; result.png/.npy then hold the rendered picture and
``variable.npy`` the iterate itself."""

from __future__ import annotations

from pathlib import Path

from .io import save_image
from .session import Session, save_session
from .trace import write_trace_csv


def write_run_outputs(
    out_dir: str | Path, problem, rows: list[dict], result, session: Session
) -> list[Path]:
    """Write the run files into ``out_dir`` (created if needed); return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "trace.csv", out / "result.png", out / "result.npy", out / "observation.png"]
    write_trace_csv(written[0], rows)
    render = problem.info.get("render")
    if render is not None:
        written.append(out / "variable.npy")
        save_image(written[-1], result)
        result = render(result)
    save_image(written[1], result)
    save_image(written[2], result)
    save_image(written[3], problem.observation_image)
    if problem.ground_truth is not None:
        written.append(out / "ground_truth.png")
        save_image(written[-1], problem.ground_truth)
    written.append(out / "session.toml")
    save_session(written[-1], session)
    return written
