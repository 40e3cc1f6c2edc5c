"""Pause latency against the longest network pass, on a large colour photo (issue 30).

    python benchmarks/pause_latency.py [--size 1024] [--pauses 4] [--threads 1] [--module cnn]

Deblurs the bundled colour photo (chelsea.png, resized to SIZE², Levin 4, 1 % noise, the task's
defaults: module cnn, prior gs) with fima, as the explorer's worker does: ``iterate`` with an
interrupt event. Every checkpoint (core/interrupt.py: before the proposal, every s / ∇s
evaluation and every prox) is timestamped, so the gaps between them are the passes. The
benchmark sets the event at a random moment inside an iteration, ``--pauses`` times, and
measures the time until ``iterate`` yields its Abandoned marker — what a user waits between
pressing Pause and the run standing still. Target: every latency ≤ the longest pass (before
this, a pause waited for the rest of the iteration: up to the whole iteration).

Prints one line per pause (latency, the pass it fell in, the iteration's time) and a summary:
latency ÷ longest pass and latency ÷ iteration, the ratios the issue asks for.
"""

from __future__ import annotations

import argparse
import random
import threading
import time

import torch
import torch.nn.functional as F

from core.algorithm import iterate
from core.interrupt import Abandoned
from core.io import load_image, resources_dir
from core.tasks import build_task


class StampedEvent(threading.Event):
    """A threading.Event that timestamps every time the engine looks at it (each checkpoint)."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[float] = []

    def is_set(self) -> bool:
        """Record the checkpoint's time, then answer."""
        self.stamps.append(time.perf_counter())
        return super().is_set()


def photo_problem(size: int, module: str):
    """The colour sample resized to size², deblurred with the task's defaults."""
    image = load_image(resources_dir() / "samples" / "chelsea.png")
    image = F.interpolate(image, size=(size, size), mode="bicubic", align_corners=False)
    return build_task("deblur", image.clamp(0, 1), kernel="levin:4", noise=0.01, module=module)


def main() -> None:
    """Measure and print the pause latencies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--pauses", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--module", default="cnn")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = random.Random(args.seed)
    setup = photo_problem(args.size, args.module)
    event = StampedEvent()
    generator = iterate(
        setup.problem, setup.module, setup.parameters, "fima", propose="always", interrupt=event
    )
    next(generator)  # a first iteration warms the caches up
    event.stamps.clear()
    start = time.perf_counter()
    second = next(generator)  # one whole iteration: its passes and its time
    iteration_s = time.perf_counter() - start
    stamps = [start, *event.stamps, start + iteration_s]
    passes = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    longest = max(passes)
    prior = setup.problem.prior.name if hasattr(setup.problem.prior, "name") else "prior"
    print(
        f"{args.size}² colour, {args.module} + {prior}, {args.threads} thread(s): iteration "
        f"k = {second.k} {iteration_s:.2f} s, {len(passes)} passes between checkpoints: "
        + ", ".join(f"{p:.2f}" for p in passes)
        + " s"
    )
    latencies = []
    for n in range(args.pauses):
        event.clear()
        event.stamps.clear()
        delay = rng.uniform(0.05, 0.6) * iteration_s
        timer = threading.Timer(delay, event.set)
        began = time.perf_counter()
        timer.start()
        item = next(generator)
        ended = time.perf_counter()
        timer.join()
        if not isinstance(item, Abandoned):  # the iteration ended before the pause fell
            print(f"pause {n + 1}: fell after the iteration ({ended - began:.2f} s), not counted")
            continue
        latency = ended - (began + delay)
        latencies.append(latency)
        print(
            f"pause {n + 1}: at {delay:.2f} s into the iteration, stood still {latency:.2f} s later"
        )
    if latencies:
        worst = max(latencies)
        print(
            f"worst latency {worst:.2f} s = {worst / longest:.2f} × the longest pass "
            f"({longest:.2f} s) = {worst / iteration_s:.2f} × the iteration ({iteration_s:.2f} s); "
            "target ≤ 1 pass"
        )


if __name__ == "__main__":
    main()
