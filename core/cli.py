"""The ``fima`` command line: ``fima run`` (one variant on one task) and ``fima denoise``.

Bad input gives exit status 2 and ONE line on stderr; never a traceback (set FIMA_DEBUG=1 for one).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from .fileio import WriteError
from .io import InputError

EXIT_BAD_INPUT = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse with one-line errors and exit status 2."""

    def error(self, message: str):
        """Print one line and exit 2."""
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def positive_int(text: str) -> int:
    """argparse type: a whole number ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The ``fima`` argument parser."""
    from .algorithm import VARIANTS
    from .params import PRESETS
    from .tasks import task_names

    parser = OneLineParser(
        prog="fima", description="FIMA (Liu et al., TPAMI 2019) from the command line"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    run = sub.add_parser("run", help="run one variant on a task and write trace + images")
    run.add_argument("--task", choices=task_names(), help="application (default: deblur)")
    run.add_argument("--image", help="input image (default: the task's bundled sample)")
    run.add_argument("--kernel", help="blur kernel: FILE, gauss:SIGMA or levin:1..8")
    run.add_argument("--mask", help="k-space mask: FILE or radial:PCT, ... (MRI)")
    run.add_argument("--noise", type=_finite, help="noise std on the [0, 1] scale (0.01 = 1 %%)")
    run.add_argument("--module", help="cnn, tv, wavelet, nlm, bm3d, none, or FILE.pt (TorchScript)")
    run.add_argument("--prior", help="wavelet[:p=1,levels=4], tv, box or none")
    run.add_argument(
        "--variant",
        choices=VARIANTS,
        help="default: fima (with --session: the session's first variant)",
    )
    run.add_argument("--iters", type=positive_int, help="iterations (default 50)")
    run.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        help="guaranteed (default: 2C < μ) or paper (C=0.08, μ=1e-3, outside the guarantee)",
    )
    for name in ("C", "mu", "gamma", "lam", "rho"):
        run.add_argument(f"--{name}", type=_finite, help=f"parameter {name}")
    run.add_argument("--seed", type=int, help="noise / mask seed (default 0)")
    run.add_argument("--downscale", type=positive_int, help="shrink the image by this factor first")
    run.add_argument(
        "--force", action="store_true", help="run even if the memory estimate exceeds free memory"
    )
    run.add_argument("--device", choices=("cpu", "cuda"), help="default: cuda when available")
    run.add_argument("--session", help="replay a session.toml (options given here override it)")
    run.add_argument("--out", required=True, help="output folder")

    den = sub.add_parser("denoise", help="denoise one image with a module")
    den.add_argument("--image", required=True, help="noisy image (.png, .npy, .tif, ...)")
    den.add_argument("--sigma", required=True, type=_finite, help="noise std on the 0-255 scale")
    den.add_argument("--out", required=True, help="output file (.png, .npy, .tif)")
    den.add_argument("--module", default="cnn", help="cnn, tv, wavelet, nlm, bm3d or FILE.pt")
    den.add_argument("--device", choices=("cpu", "cuda"))
    return parser


def _command_run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .algorithm import iterate
    from .outputs import write_run_outputs
    from .session import Session, load_session
    from .tasks import build_task

    options = {
        name: getattr(args, name)
        for name in ("kernel", "mask", "noise", "seed", "module", "prior", "device", "downscale")
        if getattr(args, name) is not None
    }
    from .params import PRESETS

    overrides = dict(PRESETS[args.preset]) if args.preset else {}
    for name in ("C", "mu", "gamma", "lam", "rho"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.session:
        session = load_session(args.session)
        task = args.task or session.task["task"]
        image = args.image or session.task.get("image")
        options = {**session.build_options(), **options}
        base_params, changes = session.parameters, session.changes
        variant = args.variant or session.variants[0]
        if not args.variant and len(session.variants) > 1:
            others = ", ".join(session.variants[1:])
            print(
                f"fima: replaying {variant}; the session also ran {others} (--variant)",
                file=sys.stderr,
            )
        iterations = args.iters or session.iterations
    else:
        task, image, variant = args.task or "deblur", args.image, args.variant or "fima"
        iterations, base_params, changes = args.iters or 50, None, {}
    setup = build_task(task, image, **options)
    if not args.force:
        _check_memory(setup, 1)
    try:
        params = (base_params or setup.parameters).with_changes(**overrides)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    session = Session(setup.settings, params, changes, [variant], iterations)
    timeline = session.timeline()
    rows, last = [], None
    records = iterate(setup.problem, setup.module, timeline, variant, max_iter=iterations)
    with tqdm(total=iterations, desc=f"{task}/{variant}", unit="it", disable=None) as bar:
        for record in records:
            rows.append(record.row())
            last = record
            bar.set_postfix(psi=f"{record.objective:.4g}", psnr=f"{record.psnr:.2f}")
            bar.update(1)
    result = last.x if last is not None else setup.problem.x0
    session.changes = timeline.changes
    write_run_outputs(args.out, setup.problem, rows, result, session)
    if last is not None and last.diverged:
        print(f"fima: warning: {variant} diverged at iteration {last.k}", file=sys.stderr)
    return 0


def _check_memory(setup, variants: int) -> None:
    """Refuse (exit 2) a run that would not fit in free memory, suggesting --downscale."""
    from .memory import fits, gib, suggest_downscale

    module = str(setup.settings.get("module", "cnn"))
    shape = tuple(setup.problem.x0.shape)
    ok, needed, free = fits(shape, variants, module)
    if not ok:
        factor = suggest_downscale(shape, variants, module)
        raise InputError(
            f"this run needs about {gib(needed)} but only {gib(free)} is free: "
            f"add --downscale {factor} (or --force to try anyway)"
        )


def _command_denoise(args: argparse.Namespace) -> int:
    from .io import load_image, save_image
    from .modules import make_denoiser
    from .tasks.base import resolve_device

    if not 0 <= args.sigma <= 255:
        raise InputError(f"--sigma is on the 0-255 scale, got {args.sigma}")
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy", ".tif", ".tiff"):
        raise InputError(f"--out must end in .png, .npy or .tif, got {out.name}")
    device = resolve_device(args.device)
    image = load_image(args.image).to(device)
    try:
        denoiser = make_denoiser(args.module, device=device)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    save_image(out, denoiser(image, args.sigma / 255.0))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fima``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _command_run(args)
        return _command_denoise(args)
    except (InputError, WriteError) as exc:
        print(f"fima: error: {exc}".splitlines()[0], file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("fima: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("FIMA_DEBUG"):
            raise
        print(f"fima: internal error: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
