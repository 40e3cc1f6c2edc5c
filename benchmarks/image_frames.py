"""GUI-thread cost of one image frame, by image side: what keeping up with a GPU engine costs the window.

    python benchmarks/image_frames.py [--sides 256,512,1024,2048] [--frames 40]

A GPU runs fima at 1024² about 80 times a second (issue 29); the window then draws the newest
images about 24 times a second, in its GUI thread. This script gives the real image panel
(:class:`gui.views.images.ImagePanel`, 1200×800, offscreen) a stream of fresh random images the
size of the problem, as the worker hands them over, and times the GUI thread's CPU per frame
(``time.thread_time``):

* fima: four panels change at every frame — x^k, the proposal, the error map |x^k − truth| and
  the optimality-error map |d| (its levels from a percentile, ‖d‖² for the readout);
* pg: two — x^k and the error map.

Each frame is timed twice: the panels' update alone ("set"), and with the repaint of the panel
("set + paint": the conversion to 8 bits and Qt's scaled draw). A large image zoomed out is made
and drawn from every step-th pixel, step being the image pixels one screen pixel of its view shows
(:mod:`gui.views.panel_pictures`; printed). Printed per side and variant: milliseconds per frame, the share of one core that 24 frames a second take, and how many
frames a second the window's refresh budget (:mod:`gui.refresh_budget`: 20 % of a core on a machine
with two cores or fewer, 30 % on a larger one) lets through at that cost, up to 24.
Target: at 1024², fima's frames fit ≥ 20 a second into the two-core budget.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

TARGET_SIDE, TARGET_RATE = 1024, 20.0
PANELS = {"fima": ("x", "u", "u_tilde", "d"), "pg": ("x",)}


def frames(side: int, variant: str, count: int = 4) -> list[dict]:
    """``count`` updates of ``variant`` with fresh side² images in each of its arrays."""
    rng = np.random.default_rng(side)
    return [
        {variant: {name: rng.random((side, side), dtype=np.float32) for name in PANELS[variant]}}
        for _ in range(count)
    ]


def frame_cost(side: int, variant: str, count: int, paint: bool) -> tuple[float, int]:
    """GUI-thread CPU seconds per image frame of ``variant`` at side² (with the repaint or not),
    and the step the x panel's picture was sampled with."""
    from gui.app import application
    from gui.views.images import ImagePanel

    app = application()
    panel = ImagePanel()
    panel.resize(1200, 800)
    panel.show()
    truth = np.random.default_rng(0).random((side, side), dtype=np.float32)
    panel.set_problem(truth, truth, truth)
    panel.set_variants([variant])
    app.processEvents()
    updates = frames(side, variant)
    start = time.thread_time()
    for i in range(count):
        panel.update_images(updates[i % len(updates)], i + 1)
        if paint:
            panel.repaint()
            app.processEvents()
    seconds = (time.thread_time() - start) / count
    step = panel.drawn_step("x")
    panel.close()
    panel.deleteLater()
    app.processEvents()
    return seconds, step


def main(argv: list[str] | None = None) -> int:
    """Print the cost per frame by side and variant; exit 0 (targets are printed, not enforced)."""
    from gui.refresh_budget import FEW_CORES_FRACTION, FRAME_RATE, MANY_CORES_FRACTION

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", default="256,512,1024,2048")
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args(argv)
    sides = [int(s) for s in args.sides.split(",") if s.strip()]
    met: bool | None = None  # None: the target's side was not measured
    print(
        f"{'side':>6} {'variant':>7} {'set':>9} {'set+paint':>10} {'24/s takes':>11} "
        f"{'frames/s in budget (≤ 2 cores, more)':>37} {'step':>5}"
    )
    for side in sides:
        count = max(args.frames // 2, args.frames * 256 // max(side, 256))
        for variant in PANELS:
            set_only, _ = frame_cost(side, variant, count, paint=False)
            whole, step = frame_cost(side, variant, count, paint=True)
            share = whole * FRAME_RATE
            few, many = (
                min(FRAME_RATE, f / whole) for f in (FEW_CORES_FRACTION, MANY_CORES_FRACTION)
            )
            print(
                f"{side:>5}² {variant:>7} {set_only * 1e3:>6.2f} ms {whole * 1e3:>7.2f} ms "
                f"{100 * share:>9.1f} % {few:>27.1f}, {many:>4.1f} {step:>8}"
            )
            if side == TARGET_SIDE and variant == "fima":
                met = few >= TARGET_RATE
    print(
        f"target: at {TARGET_SIDE}², fima's frames fit ≥ {TARGET_RATE:.0f} a second into the "
        f"budget of a two-core machine: "
        + {True: "met", False: "NOT met", None: "not measured"}[met]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
