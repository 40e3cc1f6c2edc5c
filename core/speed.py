"""Will a run be interactive? Seconds per iteration, measured cheaply before a run starts.

:func:`measure_iteration_seconds` times real iterations of a copy of the problem rebuilt with its
image area-averaged to about 128² pixels and scales up by the ratio of pixels (convolutions, FFTs
and network passes cost about linearly in the pixels); where a copy twice as large is cheap to time
(a GPU), the two are fitted as ``a + b·pixels`` so a fixed cost per iteration is not scaled up. On
a CPU with the learned prior it runs low for large images (1024² colour deblurring: about 20 s for
36-39 s; activations outgrow the caches) and is close at the sizes it advises. :func:`slow_run`
is the check a window makes: None when interactive, else the estimate and the downscale advised.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .algorithm import iterate
from .memory import MAX_DOWNSCALE
from .params import Parameters
from .run_label import variant_of
from .session import rebuild_options
from .tasks import TaskSetup, build_task

TARGET_SECONDS = 1.0  # an iteration a second: the slowest that still feels interactive
PROBE_PIXELS = 128 * 128  # the downscaled copy that is timed has at least this many pixels
MIN_SIDE = 32  # neither the timed copy nor the advised image goes below this on its shorter side
BUDGET_SECONDS = 2.0  # a larger copy is timed only while the measuring stays within this


def rebuild(setup: TaskSetup, downscale: int) -> TaskSetup | None:
    """``setup`` built again from its settings with the original image area-averaged by
    ``downscale``, or None where it cannot be (no settings, a missing file, a too-small image)."""
    settings = setup.settings
    if not settings.get("task") or not 1 <= downscale <= MAX_DOWNSCALE:
        return None
    options = rebuild_options(settings, drop=("downscale",))
    try:
        copy = build_task(settings["task"], settings.get("image"), downscale=downscale, **options)
    except (ValueError, TypeError, KeyError, OSError, RuntimeError):  # InputError is a ValueError
        return None
    same_kind = copy.problem.x0.shape[:-2] == setup.problem.x0.shape[:-2]
    return copy if same_kind and min(copy.problem.x0.shape[-2:]) >= 8 else None


def _step_seconds(setup: TaskSetup, variant: str, parameters: Parameters, timed: int) -> float:
    """Wall seconds of iteration ``timed`` of ``variant`` on ``setup`` (a diverged run: its last);
    from ``timed`` = 1 on, the lesser of iterations ``timed`` and ``timed`` + 1, so one hiccup of a
    busy machine (scaled up ~10× with the pixels) does not call a fast run slow."""
    options = {"propose": "always", "d_maps": True}  # as the explorer runs, proposing each time
    count = timed + (2 if timed >= 1 else 1)
    steps = iterate(setup.problem, setup.module, parameters, variant, count, **options)
    seconds: list[float] = []
    for _ in range(count):
        begin = time.perf_counter()
        record = next(steps, None)
        if setup.problem.device.type == "cuda":
            torch.cuda.synchronize(setup.problem.device)
        if record is None:
            break
        seconds.append(time.perf_counter() - begin)
    steps.close()
    return min(seconds[timed:] or seconds[-1:], default=0.0)  # a diverged run: its last


def _lockstep(
    setup: TaskSetup, runs: Counter[str], parameters: Parameters, timed: int = 1
) -> tuple[float, float]:
    """(seconds of iteration ``timed`` of all ``runs`` side by side, seconds spent timing it)."""
    start = time.perf_counter()
    total = sum(n * _step_seconds(setup, v, parameters, timed) for v, n in runs.items())
    return total, time.perf_counter() - start


def _extrapolate(points: list[tuple[int, float]], pixels: int) -> float:
    """Seconds at ``pixels`` from (pixels, seconds) timings: proportional from one point, the
    line ``a + b·pixels`` through the last two (never below the larger timing)."""
    p2, t2 = points[-1]
    if len(points) == 1 or pixels == p2:
        return t2 * pixels / p2
    p1, t1 = points[-2]
    slope = max((t2 - t1) / (p2 - p1), 0.0)
    return max(t2 + slope * (pixels - p2), t2 if pixels >= p2 else 0.0)


def _probe_factor(height: int, width: int, current: int) -> int:
    """The whole factor (on the built image) that leaves at least :data:`PROBE_PIXELS`."""
    factor = max(1, math.isqrt(height * width // PROBE_PIXELS))
    factor = min(factor, max(1, min(height, width) // MIN_SIDE))
    return max(1, min(factor, MAX_DOWNSCALE // current))


def measure_iteration_seconds(
    setup: TaskSetup, variants: Sequence[str], parameters: Parameters | None = None
) -> float:
    """Estimated wall seconds of ONE lockstep iteration of ``variants`` (labels such as ``fima ·
    C=0.3`` count as their variant) on ``setup``'s problem and device, at the current thread count.

    The lesser of iterations k = 1 and 2 (k = 0 includes the warm-up) of a fresh copy
    (:func:`rebuild`), area-averaged to about 128² pixels when larger and scaled up by the pixel
    ratio (the cost is about linear in the pixels). With no copy, the problem itself: one
    iteration, warm-up and all, when large."""
    runs = Counter(variant_of(label) for label in variants)
    if not runs:
        return 0.0
    parameters = parameters if parameters is not None else setup.parameters
    height, width = setup.problem.x0.shape[-2:]
    current = int(setup.settings.get("downscale") or 1)
    factor = _probe_factor(height, width, current)
    points: list[tuple[int, float]] = []
    spent = 0.0
    while True:
        probe = rebuild(setup, current * factor)
        if probe is None and not points:  # the problem itself; large: k = 0, warm-up and all
            return _lockstep(setup, runs, parameters, timed=int(factor == 1))[0]
        if probe is None:
            return _extrapolate(points, height * width)
        seconds, took = _lockstep(probe, runs, parameters)
        points.append((math.prod(probe.problem.x0.shape[-2:]), seconds))
        spent += took
        estimate, larger = _extrapolate(points, height * width), factor // 2
        cost = took * (factor / max(larger, 1)) ** 2  # of timing the copy twice as large
        if estimate <= TARGET_SECONDS or not larger or spent + cost > BUDGET_SECONDS:
            return estimate
        factor = larger


@dataclass(frozen=True)
class SlowRun:
    """A run slower than :data:`TARGET_SECONDS` an iteration: the estimate, the downscale now and
    the one advised (None: none that keeps the image usable), and what the image is."""

    seconds: float
    current: int
    suggested: int | None
    height: int = 0  # the built image's, and what the user sees of it
    width: int = 0
    channels: int = 1
    runs: int = 1
    device: str = "cpu"

    def can_downscale(self) -> bool:
        """True when a larger whole factor is predicted to make the run interactive."""
        return self.suggested is not None and self.suggested > self.current

    def seconds_at(self, factor: int) -> float:
        """Predicted seconds per iteration with the original image area-averaged by ``factor``."""
        return self.seconds * (self.current / factor) ** 2


def suggest_factor(seconds: float, current: int, shorter_side: int) -> int | None:
    """The smallest whole factor f (on the original image, whose shorter side is ``shorter_side``)
    with ``seconds × (current/f)² ≤ TARGET_SECONDS``; None above MAX_DOWNSCALE or under MIN_SIDE."""
    for factor in range(max(current, 1), MAX_DOWNSCALE + 1):
        if shorter_side // factor < MIN_SIDE:
            return None
        if seconds * (current / factor) ** 2 <= TARGET_SECONDS:
            return factor
    return None


def slow_run(
    setup: TaskSetup, variants: Sequence[str], downscale: int = 1, seconds: float | None = None
) -> SlowRun | None:
    """None when one lockstep iteration of ``variants`` takes at most :data:`TARGET_SECONDS`
    (``seconds``: that estimate already made, else measured now), else the :class:`SlowRun`;
    ``downscale`` is the factor ``setup`` was built with."""
    if seconds is None:
        seconds = measure_iteration_seconds(setup, variants)
    if seconds <= TARGET_SECONDS:
        return None
    height, width = setup.problem.x0.shape[-2:]
    shown = setup.problem.observation_image
    channels = int((shown if shown is not None else setup.problem.x0).shape[-3])
    suggested = suggest_factor(seconds, downscale, min(height, width) * downscale)
    device = str(setup.problem.device)
    return SlowRun(seconds, downscale, suggested, height, width, channels, len(variants), device)


def rate_text(seconds: float) -> str:
    """Iterations a second for ``seconds`` an iteration: ``0.048 it/s``, ``1.3 it/s``."""
    return f"{1 / seconds:.2g} it/s"


def slow_run_text(slow: SlowRun) -> str:
    """One line: about how long an iteration takes, on what image and where."""
    seconds = f"{slow.seconds:.0f}" if slow.seconds >= 10 else f"{slow.seconds:.2g}"
    runs = f" of the {slow.runs} runs" if slow.runs > 1 else ""
    kind = {1: "grayscale", 3: "colour"}.get(slow.channels, f"{slow.channels}-channel")
    scale = f" (÷ {slow.current})" if slow.current > 1 else ""
    where = "the CPU" if slow.device == "cpu" else slow.device
    return (
        f"About {seconds} s per iteration{runs} ({rate_text(slow.seconds)}) "
        f"on this {slow.width}×{slow.height} {kind} image{scale}, on {where}"
    )
