"""A long run in the explorer: memory stays under the iterate-history budget (+ a fixed overhead).

The real window (offscreen, shown, refreshing as usual) runs N iterations of a 512×512 deblurring
(levin:4 blur, 1 % noise, the TV module so no weights are needed) with the iterate history on.
Every iterate x^k of every variant goes into the history until the budget is reached; then older
ones are thinned evenly. Printed at the end:

* stored bytes (the history's own counter) against the budget, frames kept and the thinning stride;
* RSS when the problem is loaded, and the fixed overhead: RSS − history after a warm-up of a few
  iterations (torch's thread pool, FFT plans, the image panels' buffers … exist by then);
* RSS − history every 30 s over the run (min … max, and at the end): flat means the only thing
  that grows is the history, which the budget bounds;
* peak RSS during the run (sampled every 0.2 s), and peak − budget;
* iterations per second.

Large history frames live in their own memory mappings (gui.run.allocator) so that thinning gives memory
back; ``--frames malloc`` shows what happens without.

QSettings go to a temporary folder: the user's own settings are never touched.

    .venv/bin/python benchmarks/long_run.py [--iters 10000] [--size 512] [--budget-mb 512]
                                            [--variants fima,pg] [--module tv] [--threads N]
                                            [--frames mapped|malloc] [--max-minutes M]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import torch  # noqa: E402

from core.io import load_image, resources_dir, save_image  # noqa: E402

MB = 2**20
REPORT_EVERY_S = 30.0
WARM_UP = 10  # iterations


class PeakRss:
    """Samples this process's resident set size in a background thread and keeps the peak."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.process = psutil.Process()
        self.interval_s = interval_s
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def now(self) -> int:
        """Current RSS in bytes."""
        return self.process.memory_info().rss

    def start(self) -> None:
        """Begin sampling."""
        self.peak = self.now()
        self._thread.start()

    def stop(self) -> int:
        """Stop sampling; return the peak (bytes)."""
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())
        return self.peak

    def _sample(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.peak = max(self.peak, self.now())


def test_image(folder: Path, size: int) -> Path:
    """A size×size grayscale image: the bundled sample resampled."""
    sample = load_image(resources_dir() / "samples" / "house.png", grayscale=True)
    image = torch.nn.functional.interpolate(sample, size=(size, size), mode="bicubic")
    path = folder / f"long_run_{size}.png"
    save_image(path, image.clamp(0, 1))
    return path


def isolate_settings(folder: Path) -> None:
    """QSettings in ``folder`` (INI files), never the user's."""
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--budget-mb", type=int, default=512)
    parser.add_argument("--variants", default="fima,pg")
    parser.add_argument("--module", default="tv")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop early after this")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    parser.add_argument(
        "--frames",
        choices=("mapped", "malloc"),
        default="mapped",
        help="mapped: large history frames in their own mappings, as the explorer does",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    import gui.run.allocator

    gui.run.allocator.MAP_LARGE_FRAMES = args.frames == "mapped"

    from PySide6.QtCore import QTimer

    from gui.app import application, settle_garbage_collector
    from gui.main_window import MainWindow
    from gui.state.problem_spec import ProblemSpec

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        isolate_settings(folder)
        app = application()
        window = MainWindow()
        window.scripted = True
        window.set_history_budget_mb(args.budget_mb)
        spec = ProblemSpec(
            "deblur", str(test_image(folder, args.size)), {"module": args.module, "noise": 0.01}
        )
        if not window.load_problem(spec):
            return 2
        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
        window.solver_panel.set_variants(variants)
        window.solver_panel.set_limit(args.iters)
        window.show()
        app.processEvents()
        settle_garbage_collector()
        rss = PeakRss()
        baseline = rss.now()
        started = time.perf_counter()

        samples: list[tuple[int, int, int]] = []  # (k, RSS, history bytes)

        def report() -> None:
            iterates = window.scrubber.iterates
            elapsed = time.perf_counter() - started
            k, now, stored = window.history.count(variants[0]), rss.now(), iterates.stored_bytes
            samples.append((k, now, stored))
            print(
                f"  k = {k:6d}  {elapsed:7.0f} s  RSS {now / MB:7.0f} MB (peak {rss.peak / MB:.0f})"
                f"  history {stored / MB:6.1f} MB, stride {iterates.stride}"
                f"  RSS − history {(now - stored) / MB:6.0f} MB",
                flush=True,
            )

        ticker = QTimer()
        ticker.timeout.connect(report)
        ticker.start(int(REPORT_EVERY_S * 1000))
        warm: dict[str, int] = {}

        def note_warm_up() -> None:
            if not warm and window.run is not None:
                if window.run.worker.iterations >= min(WARM_UP, args.iters):
                    warm.update(rss=rss.now(), stored=window.scrubber.iterates.stored_bytes)

        watcher = QTimer()
        watcher.timeout.connect(note_warm_up)
        watcher.start(100)
        window.runLimitReached.connect(app.quit)
        window.runEnded.connect(app.quit)
        if args.max_minutes:
            QTimer.singleShot(int(args.max_minutes * 60_000), app.quit)
        print(
            f"{args.iters} iterations of a {args.size}² deblurring, variants {', '.join(variants)}, "
            f"module {args.module}, budget {args.budget_mb} MB, frames {args.frames}; "
            f"baseline RSS {baseline / MB:.0f} MB",
            flush=True,
        )
        rss.start()
        window.start_run()
        app.exec()
        elapsed = time.perf_counter() - started
        window.refresh_now()
        report()
        peak = rss.stop()
        ticker.stop()
        watcher.stop()
        note_warm_up()
        iterates = window.scrubber.iterates
        stored = iterates.stored_bytes
        kept = {v: len(iterates.iterations(v)) for v in variants}
        done = window.history.count(variants[0])
        window.close()

    budget = args.budget_mb * MB
    overheads = [r - h for _k, r, h in samples] or [peak - stored]
    fixed = warm.get("rss", baseline) - warm.get("stored", 0)
    print(f"iterations           {done} in {elapsed:.0f} s ({done / elapsed:.2f} it/s)")
    print(f"history budget       {budget / MB:.0f} MB")
    print(
        f"stored bytes         {stored / MB:.1f} MB ({stored} B), within budget: {stored <= budget}"
    )
    print(f"iterates kept        {kept}, stride {iterates.stride}")
    print(f"RSS at start         {baseline / MB:.0f} MB (problem loaded)")
    print(f"fixed overhead       {fixed / MB:.0f} MB (RSS − history after {WARM_UP} iterations)")
    print(
        f"RSS − history        {min(overheads) / MB:.0f} … {max(overheads) / MB:.0f} MB over the "
        f"run, {overheads[-1] / MB:.0f} MB at the end ({len(samples)} samples)"
    )
    print(f"peak RSS             {peak / MB:.0f} MB")
    print(f"peak − budget        {(peak - budget) / MB:.0f} MB (what is not the history, at most)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
