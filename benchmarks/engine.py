"""Engine overhead and the learned prior's cost: iterations against the kernels they run.

    python benchmarks/engine.py [--module cnn|tv] [--prior gs|wavelet] [--iters 20]
        [--sizes 256 512] [--threads 1] [--propose adaptive|always] [--maps] [--floor]

Two tables, deblurring (Levin 4, 1 % noise) of the bundled sample resized to each size:

1. fima's iteration against the sum of its kernels, timed INSIDE the same run: the module call
   (with its refinement), every evaluation of the smooth part s and every gradient ∇s (a network
   forward and a backward pass with the learned prior; one T and one Tᵀ with a hand-made one),
   every prox of h. A kernel called inside another (the refinement's gradients inside the module)
   counts once. What is left — the check's arithmetic, bookkeeping, copies — is the engine's own
   overhead. Target: iteration / kernels ≤ 1.2. With ``--maps``, two more columns: fima's
   iteration with the optimality-error maps off and on (``iterate(..., d_maps=True)``, each map
   brought to a numpy array as the explorer and ``fima run --save-maps`` do), measured PAIRED —
   two runs of the same problem in one process, their iterations alternated — so the machine's
   drift cancels; target: on / off ≤ 1.10.
2. One pg iteration with the prior (default gs) against one with the hand-made wavelet prior, the
   issue's yardstick for the learned prior's cost.
3. The learned prior's floor (``--floor``): the network's forward pass alone and one ∇g_σ (forward
   and backward) in float32, and the same ∇g_σ under bfloat16 autocast with its relative error —
   how far a cheaper arithmetic could take table 2 with this network.

Times are CPU seconds of this process (process_time): with one torch thread they are what an idle
machine's wall time would be, whatever else runs here. Metrics (PSNR/SSIM) are off, as headless.
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import contextmanager

import torch
import torch.nn.functional as F

from core.algorithm import iterate
from core.io import load_image, map_to_array, resources_dir
from core.learned_prior import GradientStepPrior, LearnedEvaluation
from core.splitting import ResidualEvaluation
from core.tasks import build_task, default_module_name


class KernelClock:
    """CPU seconds spent in the outermost kernel calls (nested ones count once)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._depth = 0

    @contextmanager
    def kernel(self):
        """Time one kernel call unless another kernel is already being timed."""
        self._depth += 1
        start = time.process_time()
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0:
                self.seconds += time.process_time() - start

    def wrap(self, fn):
        """``fn`` timed as a kernel."""

        def timed(*args, **kwargs):
            with self.kernel():
                return fn(*args, **kwargs)

        return timed


def _problem(size: int, module: str, prior: str):
    image = load_image(resources_dir() / "samples" / "house.png", grayscale=True)
    image = F.interpolate(image, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    return build_task(
        "deblur", image, kernel="levin:4", noise=0.01, module=module, prior=prior, device="cpu"
    )


def measure(
    size: int,
    module: str,
    iters: int,
    prior: str,
    propose: str,
    variant: str = "fima",
    d_maps: bool = False,
):
    """(mean CPU s per iteration, mean CPU s of its kernels, accepted, skipped) over ``iters``;
    with ``d_maps`` each record's |d| map is made and copied to numpy inside the timed iteration."""
    setup = _problem(size, module, prior)
    problem, split = setup.problem, setup.problem.splitting
    clock = KernelClock()
    split.smooth.evaluate = clock.wrap(split.smooth.evaluate)
    split.proximal.prox_with_value = clock.wrap(split.proximal.prox_with_value)
    gradients = {cls: cls.gradient for cls in (LearnedEvaluation, ResidualEvaluation)}
    try:
        for cls, prop in gradients.items():
            cls.gradient = property(clock.wrap(prop.fget))
        mod = clock.wrap(setup.module)
        steps = iterate(
            problem,
            mod,
            setup.parameters,
            variant,
            iters + 2,
            compute_metrics=False,
            propose=propose,
            d_maps=d_maps,
        )
        totals, kernels, accepted, skipped = [], [], 0, 0
        for k in range(iters + 2):
            before, start = clock.seconds, time.process_time()
            record = next(steps)
            if record.d_map is not None:
                map_to_array(record.d_map)
            if k >= 2:  # two warm-up iterations
                totals.append(time.process_time() - start)
                kernels.append(clock.seconds - before)
                accepted += record.accepted
                skipped += record.skipped
    finally:
        for cls, prop in gradients.items():
            cls.gradient = prop
    return statistics.mean(totals), statistics.mean(kernels), accepted, skipped


def measure_maps(size: int, module: str, iters: int, prior: str, propose: str):
    """(CPU s per fima iteration with maps off, with maps on): two runs alternated, paired."""
    setup = _problem(size, module, prior)
    runs = {
        on: iterate(
            setup.problem,
            setup.module,
            setup.parameters,
            "fima",
            iters + 2,
            compute_metrics=False,
            propose=propose,
            d_maps=on,
        )
        for on in (False, True)
    }
    seconds = {False: [], True: []}
    for k in range(iters + 2):
        for on in (False, True) if k % 2 else (True, False):  # neither always goes first
            start = time.process_time()
            record = next(runs[on])
            if record.d_map is not None:
                map_to_array(record.d_map)
            if k >= 2:
                seconds[on].append(time.process_time() - start)
    return statistics.mean(seconds[False]), statistics.mean(seconds[True])


def _cpu_ms(fn, repeats: int = 5) -> float:
    fn()  # warm-up: allocator, oneDNN primitives
    start = time.process_time()
    for _ in range(repeats):
        fn()
    return 1e3 * (time.process_time() - start) / repeats


def network_floor(size: int) -> tuple[float, float, float, float]:
    """(forward ms, ∇g_σ ms in float32, ∇g_σ ms in bfloat16 autocast, its relative error)."""
    from core.unet import potential_and_gradient

    model = GradientStepPrior(1.0).network  # the shipped N_σ, as the prior runs it (channels-last)
    x = torch.rand(1, 1, size, size, generator=torch.Generator().manual_seed(0))
    x = x.contiguous(memory_format=torch.channels_last)
    sigma = torch.full((1,), 15 / 255)

    def forward() -> None:
        with torch.inference_mode():
            model.predict_noise(x, sigma)

    def bfloat16() -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return potential_and_gradient(model, x, sigma)[1].float()

    exact = potential_and_gradient(model, x, sigma)[1]
    error = float((bfloat16() - exact).norm() / exact.norm())
    fp32 = _cpu_ms(lambda: potential_and_gradient(model, x, sigma))
    return _cpu_ms(forward), fp32, _cpu_ms(bfloat16), error


def main() -> None:
    """Print the two tables of measured ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default=default_module_name())
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--prior", default="gs", help="gs (learned, default) or wavelet, tv, …")
    parser.add_argument("--propose", default="always", help="fima's proposal policy (table 1)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--floor", action="store_true", help="also print table 3")
    parser.add_argument(
        "--maps", action="store_true", help="table 1 also with the optimality-error maps on"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, module {args.module}, "
        f"prior {args.prior}, proposals {args.propose}; CPU ms per iteration"
    )
    maps_header = f" {'off ms':>8} {'on ms':>8} {'on/off':>7}" if args.maps else ""
    print(
        f"{'size':>6} {'fima ms':>9} {'kernels ms':>11} {'ratio':>6} {'accepted':>9}{maps_header}"
    )
    for size in args.sizes:
        it, kernels, accepted, _ = measure(size, args.module, args.iters, args.prior, args.propose)
        maps = ""
        if args.maps:
            off, on = measure_maps(size, args.module, args.iters, args.prior, args.propose)
            maps = f" {1e3 * off:>8.1f} {1e3 * on:>8.1f} {on / off:>7.3f}"
        print(
            f"{size:>6} {1e3 * it:>9.1f} {1e3 * kernels:>11.1f} {it / kernels:>6.2f} {accepted:>9}"
            f"{maps}"
        )
    print(f"\n{'size':>6} {'pg ' + args.prior + ' ms':>11} {'pg wavelet ms':>14} {'ratio':>6}")
    for size in args.sizes:
        learned = measure(size, args.module, args.iters, args.prior, "always", "pg")[0]
        wavelet = measure(size, args.module, args.iters, "wavelet", "always", "pg")[0]
        print(f"{size:>6} {1e3 * learned:>11.1f} {1e3 * wavelet:>14.1f} {learned / wavelet:>6.2f}")
    if not args.floor:
        return
    print(
        f"\n{'size':>6} {'forward ms':>11} {'∇g fp32 ms':>11} {'∇g bf16 ms':>11} {'bf16 error':>11}"
    )
    for size in args.sizes:
        forward, fp32, bf16, error = network_floor(size)
        print(f"{size:>6} {forward:>11.1f} {fp32:>11.1f} {bf16:>11.1f} {error:>11.1e}")


if __name__ == "__main__":
    main()
