"""The explorer's speed check on a real photo: the estimate of seconds per iteration, what it cost,
what an iteration really takes, and the advised downscale predicted against measured (issue 30).

    python benchmarks/speed_check.py [--size 1024] [--threads 1] [--variants fima,pg]

Writes the bundled colour photo (chelsea.png) resized to SIZE² as a PNG (as a user's photo is a
file: the check times a copy rebuilt from it), builds the deblurring task with its defaults, and
prints: the estimate (:func:`core.speed.measure_iteration_seconds`) and the seconds it took; one
lockstep iteration (k = 1, after the warm-up) of the variants timed directly; the advised factor
(:func:`core.speed.slow_run`) with its predicted seconds against one iteration timed at that size.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from core import build_task, iterate, load_image, save_image
from core.resources import resources_dir
from core.speed import measure_iteration_seconds, slow_run


def lockstep_seconds(setup, variants: list[str]) -> float:
    """Seconds of iteration k = 1 of every variant (k = 0 warms up), summed."""
    total = 0.0
    for variant in variants:
        steps = iterate(setup.problem, setup.module, setup.parameters, variant, 2, propose="always")
        next(steps)
        start = time.perf_counter()
        next(steps)
        total += time.perf_counter() - start
        steps.close()
    return total


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--variants", default="fima,pg")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    variants = args.variants.split(",")
    with tempfile.TemporaryDirectory() as folder:
        photo = Path(folder) / "photo.png"
        image = load_image(resources_dir() / "samples" / "chelsea.png")
        image = F.interpolate(image, size=(args.size, args.size), mode="bicubic")
        save_image(photo, image.clamp(0, 1))
        setup = build_task("deblur", str(photo))
        start = time.perf_counter()
        estimate = measure_iteration_seconds(setup, variants)
        took = time.perf_counter() - start
        print(f"{args.size}² colour deblur, {'+'.join(variants)}, {args.threads} thread(s)")
        print(f"estimate        {estimate:7.2f} s per iteration (measuring took {took:.2f} s)")
        measured = lockstep_seconds(setup, variants)
        print(f"measured        {measured:7.2f} s per iteration   estimate ÷ measured = "
              f"{estimate / measured:.2f}")  # fmt: skip
        slow = slow_run(setup, variants, 1, estimate)
        if slow is None or not slow.can_downscale():
            print("no downscale advised")
            return
        factor = slow.suggested
        small = build_task("deblur", str(photo), downscale=factor)
        at_factor = lockstep_seconds(small, variants)
        print(f"advised ÷ {factor}: predicted {slow.seconds_at(factor):.3f} s, measured "
              f"{at_factor:.3f} s ({1 / at_factor:.2f} it/s)")  # fmt: skip


if __name__ == "__main__":
    main()
