"""What limits CS-MRI on Brain_data1 with ``radial:20``: the model's own optimum vs the learned module.

    .venv/bin/python benchmarks/mri_bounds.py [--iters 50] [--noise 0.01] [--threads 1]

Inside FIMA's conditions (2C < μ) a proposal ũ passes the check only when ‖d‖ ≤ C‖ũ − x^k‖ with
d ∈ ∂Ψ(ũ) + μ(ũ − x^k), i.e. when ũ is an approximate proximal-point step of Ψ (relative error
C/μ < ½). FIMA's result is therefore bounded by Ψ's own critical points: for a convex Ψ it
converges to the minimiser, whatever the module. This script prints, in PSNR against the ground
truth (dB) and as the gain over zero filling:

* the zero-filled image x⁰ = Tᵀy;
* the TV-regularised model's minimiser for several λ (FISTA, 400 iterations, from the PnP estimate):
  the ceiling of any FIMA run inside the conditions with the task's default g = λ TV;
* Haar-ℓ1 and Haar-ℓ0 (the seed's wavelet ℓp model) after 300 proximal-gradient steps;
* the learned module alone: ``naive`` plug-and-play (the trained CNN + closed-form k-space step),
  its best iterate over ``--iters`` and its last one;
* ``fima`` with the defaults (inside the conditions) and with ``--preset paper`` (outside).
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from core.algorithm import run
from core.metrics import psnr
from core.params import PRESETS
from core.priors import TotalVariation
from core.tasks import build_task
from core.tasks.base import make_task_prior

BRAIN = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "mri" / "brain" / "Brain_data1.npy"
)


def fista_tv(problem, lam: float, start: torch.Tensor, iterations: int = 400) -> torch.Tensor:
    """argmin ½‖Tx − y‖² + λ TV(x) by FISTA (step 1/L = 1, TV prox by 50 FGP steps)."""
    tv = TotalVariation(lam, isotropic=True, iterations=50)
    x, z, t = start.clone(), start.clone(), 1.0
    for _ in range(iterations):
        x_new = tv.prox(z - problem.fidelity.gradient(z), 1.0)
        t_new = (1 + (1 + 4 * t * t) ** 0.5) / 2
        z = x_new + (t - 1) / t_new * (x_new - x)
        x, t = x_new, t_new
    return x


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not BRAIN.is_file():
        raise SystemExit(f"needs {BRAIN}")
    setup = build_task("mri", str(BRAIN), mask="radial:20", noise=args.noise)
    problem, truth = setup.problem, setup.problem.ground_truth
    base = psnr(problem.x0, truth)
    rows = [("zero-filled x⁰ = Tᵀy", base)]

    naive = run(problem, setup.module.inner, setup.parameters, "naive", iterations=args.iters)
    best = max(naive, key=lambda r: r.psnr)
    rows.append((f"naive PnP (CNN), best iterate (k = {best.k})", best.psnr))
    rows.append(("naive PnP (CNN), last iterate", naive[-1].psnr))
    for lam in (1e-3, 3e-3, 1e-2):
        rows.append((f"TV minimiser, λ = {lam:g}", psnr(fista_tv(problem, lam, best.x), truth)))
    for spec, lam in (("wavelet:p=1", 1e-3), ("wavelet:p=0", 3e-4)):
        haar = dataclasses.replace(setup.problem, prior=make_task_prior(spec, {}, lam))
        params = dataclasses.replace(setup.parameters, lam=lam)
        last = run(haar, None, params, "pg", iterations=300, compute_metrics=False)[-1]
        rows.append((f"Haar {spec.split(':')[1]}, λ = {lam:g}, 300 pg steps", psnr(last.x, truth)))
    for label, params in (
        ("fima, defaults (2C < μ)", setup.parameters),
        (
            "fima, --preset paper (2C > μ)",
            dataclasses.replace(setup.parameters, **PRESETS["paper"]),
        ),
    ):
        records = run(problem, setup.module, params, "fima", iterations=args.iters)
        accepted = sum(r.accepted for r in records)
        rows.append((f"{label}, {accepted}/{args.iters} accepted", records[-1].psnr))

    print(f"Brain_data1, radial:20, noise {args.noise:g}, {args.iters} iterations\n")
    print("| reconstruction | PSNR dB | gain over zero filling |")
    print("|---|---|---|")
    for label, value in rows:
        print(f"| {label} | {value:.2f} | {value - base:+.2f} |")


if __name__ == "__main__":
    main()
