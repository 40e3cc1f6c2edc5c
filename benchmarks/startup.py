"""Start-up time of the explorer: from launching ``fima-explorer`` to its first painted frame (issue 30).

    python benchmarks/startup.py [--runs 3] [--busy] [-- EXTRA ARGS FOR fima-explorer]

Launches ``fima-explorer`` (the console script beside this Python, else ``python -m gui``) RUNS
times, offscreen (``QT_QPA_PLATFORM=offscreen``), with fresh settings, on the bundled deblurring
sample, with ``--screenshot`` so that it quits by itself once the window is up. The program is
asked for its start-up report (``FIMA_REPORT_FIRST_PAINT=1``, see :mod:`gui.splash`): it prints
``first paint after …``, ``torch imported after …`` and ``ready after …`` on stderr as they
happen. This script timestamps each line as it arrives, from the moment it launched the process —
so the times include the interpreter's start — and prints, per event, the min and median of the
runs and the median's ratio to the 3 s target. Target: first paint ≤ 3 s.

With ``--busy`` a 2-thread torch process multiplies matrices beside it all along (a busy laptop).

The first run after the page cache was emptied (after a reboot) is the slow one a user sees
(torch's libraries are read from disk); later runs show the warm figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ("first paint", "torch imported", "ready")
TARGET_S = 3.0
TIMEOUT_S = 300.0


def command() -> list[str]:
    """``fima-explorer`` beside this interpreter, else ``python -m gui``."""
    script = Path(sys.executable).with_name("fima-explorer")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "gui"]


def one_start(extra: list[str]) -> dict[str, float]:
    """Launch the explorer once; the seconds from launch to each reported event."""
    with tempfile.TemporaryDirectory(prefix="fima-startup-") as folder:
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "FIMA_REPORT_FIRST_PAINT": "1",
            "XDG_CONFIG_HOME": folder,  # fresh settings: no layout or recent files carried over
        }
        argv = [*command(), *extra, "--screenshot", str(Path(folder) / "window.png")]
        seen: dict[str, float] = {}
        other: list[str] = []
        launched = time.perf_counter()
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        assert process.stderr is not None
        for line in process.stderr:  # lines arrive as the program prints them
            now = time.perf_counter() - launched
            event = next((e for e in EVENTS if line.startswith(f"{e} after ")), None)
            if event is None:
                other.append(line.rstrip())
            else:
                seen.setdefault(event, now)
            if now > TIMEOUT_S:
                process.kill()
                break
        code = process.wait()
    if code != 0:
        raise SystemExit(f"fima-explorer exited with {code}: {' | '.join(other[-3:])}")
    return seen


BUSY = (
    "import torch; torch.set_num_threads(2); a = torch.rand(1024, 1024)\n"
    "while True: a = (a @ a).clamp_(0, 1)"
)


def busy_process() -> subprocess.Popen:
    """A 2-thread torch process that keeps both cores busy until killed."""
    return subprocess.Popen([sys.executable, "-c", BUSY], stdout=subprocess.DEVNULL)


def main() -> None:
    """Measure the start-up RUNS times and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="launches (default 3)")
    parser.add_argument("--busy", action="store_true", help="a 2-thread torch load beside it")
    parser.add_argument("extra", nargs="*", help="arguments for fima-explorer (after --)")
    args = parser.parse_args()
    if shutil.which(command()[0]) is None and not Path(command()[0]).is_file():
        raise SystemExit(f"cannot run {command()[0]}")
    print(f"$ {' '.join(Path(c).name for c in command())} {' '.join(args.extra)} (offscreen)")
    runs = []
    load = busy_process() if args.busy else None
    try:
        if load is not None:
            print("beside a 2-thread torch process that multiplies matrices", flush=True)
            time.sleep(3.0)  # let it start
        for i in range(args.runs):
            times = one_start(args.extra)
            runs.append(times)
            shown = ", ".join(f"{e} {times[e]:.2f} s" for e in EVENTS if e in times)
            print(f"run {i + 1}: {shown}", flush=True)
    finally:
        if load is not None:
            load.kill()
    print(f"over {args.runs} runs (from launching the process):")
    for event in EVENTS:
        values = [r[event] for r in runs if event in r]
        if not values:
            print(f"  {event:15} not reported")
            continue
        median = statistics.median(values)
        print(
            f"  {event:15} min {min(values):5.2f} s   median {median:5.2f} s"
            f"   = {median / TARGET_S:.2f} × the {TARGET_S:.0f} s target"
        )


if __name__ == "__main__":
    main()
