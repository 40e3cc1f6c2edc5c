"""Make the README's study pictures from a finished study folder, with the project's own commands.

1. ``fima study plot DIR --x C --y mu --metric M --where variant=fima --out docs/images/study_M.png``
   for the final PSNR and the acceptance rate (2C = μ drawn).
2. A picture of the explorer's Study window on DIR (offscreen), C × μ, final PSNR of fima.

    .venv/bin/python tools/make_study_assets.py runs/study_set12 [--out docs/images]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from core.cli import main as fima  # noqa: E402


def plots(folder: Path, out: Path) -> None:
    """The two heatmaps the README shows, through ``fima study plot``."""
    for metric in ("psnr", "accept_rate"):
        target = out / f"study_{metric}.png"
        argv = ["study", "plot", str(folder), "--x", "C", "--y", "mu", "--metric", metric]
        argv += ["--where", "variant=fima", "--out", str(target)]
        if fima(argv) != 0:
            raise SystemExit(f"fima study plot failed for {metric}")
        print(f"wrote {target}")


def window_picture(folder: Path, target: Path) -> None:
    """The Study window on ``folder``, drawn offscreen and saved as PNG."""
    from PySide6.QtWidgets import QApplication

    from gui.study import StudyWindow

    app = QApplication.instance() or QApplication([])
    window = StudyWindow()
    if not window.open_study(folder):
        raise SystemExit(window.last_error or "cannot open the study")
    window.set_picks(x="C", y="mu", metric="psnr", variant="fima")
    window.resize(1100, 760)
    window.show()
    for _ in range(20):
        app.processEvents()
    if not window.grab().save(str(target)):
        raise SystemExit(f"cannot write {target}")
    window.close()
    print(f"wrote {target}")


def main(argv: list[str] | None = None) -> int:
    """Write docs/images/study_psnr.png, study_accept_rate.png and study_window.png."""
    parser = argparse.ArgumentParser(description="Make the README's study pictures")
    parser.add_argument("folder", type=Path, help="a finished study folder (with study.db)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    plots(args.folder, args.out)
    window_picture(args.folder, args.out / "study_window.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
