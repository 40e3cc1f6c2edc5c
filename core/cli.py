"""The ``fima`` command line: ``fima run`` (a task, one variant or a session's), ``fima tasks``
(what each task takes) and ``fima denoise``.

Bad input gives exit status 2 and ONE line on stderr; never a traceback (set FIMA_DEBUG=1 for one).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .arguments import EXIT_BAD_INPUT, OneLineParser, finite_number, positive_int
from .errors import first_line, one_line
from .fileio import WriteError
from .io import InputError


def _policy(text: str) -> str:
    """A proposal policy's text, checked (``always``, ``adaptive[:patience=R,max_gap=M]``)."""
    from .proposal import parse_policy

    try:
        return parse_policy(text).describe()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _variants(text: str) -> list:
    """``fima``, ``fima,pg`` or ``fima,fima:C=0.3``: runs (core/run_spec.py), distinct labels."""
    from .run_spec import parse_run_specs

    try:
        return parse_run_specs(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="torch threads on the CPU (default: the usable cores − 1, at least 1, as the explorer "
        "does, unless OMP_NUM_THREADS is set; on a busy machine more threads can be much slower)",
    )


def build_parser(task: str | None = None) -> argparse.ArgumentParser:
    """The ``fima`` argument parser; with ``task``, ``fima run --help`` is that task's."""
    from . import cli_help
    from .algorithm import VARIANTS
    from .params import PRESETS
    from .proposal import DEFAULT_POLICY, PATIENCE
    from .tasks import task_names

    parser = OneLineParser(
        prog="fima", description="FIMA (Liu et al., TPAMI 2019) from the command line"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    run = sub.add_parser(
        "run",
        help="run FIMA (or a variant) on a task and write trace + images",
        description=cli_help.run_description(task),
        epilog=cli_help.tasks_text(task, options=False),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "--task",
        choices=task_names(),
        help=f"the application (default {cli_help.DEFAULT_TASK})",
    )
    run.add_argument(
        "--image",
        help="input image: PNG, JPEG, TIFF, NPY or MAT (default: the task's bundled sample)",
    )
    cli_help.add_task_options(run, task, finite_number)
    run.add_argument("--module", help=cli_help.module_help(task))
    run.add_argument("--prior", help=cli_help.prior_help(task))
    run.add_argument(
        "--variant",
        type=_variants,
        metavar="|".join(VARIANTS),
        help=f"which iteration: {cli_help.VARIANT_HELP}; several comma-separated (fima,pg) run "
        "one after another into one trace.csv; VARIANT:key=value,... gives a run its own "
        "parameters (fima,fima:C=0.3 compares two settings; label column 'fima · C=0.3'); "
        "default fima (with --session: every run of the session)",
    )
    run.add_argument(
        "--propose",
        type=_policy,
        metavar="always|adaptive",
        help="when fima asks the module for a proposal: at every iteration (always) or, after "
        f"{PATIENCE} straight rejections, at growing intervals until one is accepted (adaptive); "
        f"a skipped proposal is the rejection branch, so the guarantee holds; default "
        f"{DEFAULT_POLICY} (with --session: the session's)",
    )
    run.add_argument(
        "--iters",
        type=positive_int,
        help=f"iterations per variant (default {cli_help.DEFAULT_ITERATIONS}; with --session: "
        "the session's)",
    )
    run.add_argument(
        "--preset",
        choices=tuple(PRESETS),
        help="starting parameters: guaranteed (the task's defaults, inside 2C < μ and γ < 1/L) or "
        "paper (C=0.08, μ=1e-3 as in the authors' code, outside the guarantee); default "
        "guaranteed",
    )
    for name in cli_help.PARAMETER_HELP:
        run.add_argument(
            f"--{name}", type=finite_number, metavar="X", help=cli_help.parameter_help(name, task)
        )
    run.add_argument(
        "--downscale",
        type=positive_int,
        metavar="F",
        help="area-average the image by this whole factor first (default 1: full size)",
    )
    run.add_argument(
        "--force", action="store_true", help="run even if the memory estimate exceeds free memory"
    )
    run.add_argument(
        "--device", choices=("cpu", "cuda"), help="where to compute (default: cuda when available)"
    )
    _add_threads(run)
    run.add_argument(
        "--session",
        metavar="FILE.toml",
        help="replay a session: its task, image, options, parameters, live changes and every "
        "variant (options given here override it)",
    )
    run.add_argument(
        "--quiet", action="store_true", help="no summary line on stdout (errors still on stderr)"
    )
    run.add_argument(
        "--save-maps",
        type=positive_int,
        nargs="?",
        const=0,
        metavar="N",
        help="also write the optimality-error maps |d| per pixel (NPY + PNG) into DIR/maps: the "
        "last one made, and with N every N-th iteration too (fima and unchecked only); default: "
        "none",
    )
    run.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")

    tasks = sub.add_parser("tasks", help="list the tasks, or one task's options and defaults")
    tasks.add_argument("name", nargs="?", choices=task_names(), help="the task to describe")

    den = sub.add_parser("denoise", help="denoise one image with a module")
    den.add_argument("--image", required=True, help="noisy image (.png, .npy, .tif, ...)")
    den.add_argument(
        "--sigma",
        required=True,
        type=finite_number,
        help="noise standard deviation on the 0-255 scale of the denoising literature (25 = "
        "25/255 ≈ 0.098 on the [0, 1] scale); below 1 gives a warning",
    )
    den.add_argument("--out", required=True, help="output file (.png, .npy, .tif)")
    den.add_argument(
        "--module",
        default="cnn",
        help="the denoiser: cnn (trained CNN), tv, wavelet, nlm, bm3d or FILE.pt (TorchScript); "
        "default cnn",
    )
    den.add_argument(
        "--device", choices=("cpu", "cuda"), help="where to compute (default: cuda when available)"
    )
    _add_threads(den)

    from .study.cli import add_study_parser

    add_study_parser(sub)
    return parser


def _command_run(args: argparse.Namespace) -> int:
    import torch
    from tqdm import tqdm

    from .algorithm import iterate
    from .cli_help import DEFAULT_ITERATIONS, DEFAULT_TASK, task_option_names
    from .outputs import MapSaver, write_run_outputs
    from .params import PRESETS
    from .proposal import DEFAULT_POLICY
    from .run_spec import RunSpec
    from .session import Session, load_session
    from .summary import run_summary
    from .tasks import build_task
    from .tasks.description import BUILD_OPTIONS
    from .threads import threads_text

    names = (*task_option_names(), *BUILD_OPTIONS)
    options = {name: getattr(args, name) for name in names if getattr(args, name) is not None}
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
        run_changes = session.run_changes
        specs = args.variant or session.run_specs()
        iterations = args.iters or session.iterations
        propose = args.propose or session.propose
    else:
        task, image = args.task or DEFAULT_TASK, args.image
        specs = args.variant or [RunSpec("fima")]
        iterations, base_params, changes = args.iters or DEFAULT_ITERATIONS, None, {}
        run_changes = {}
        propose = args.propose or DEFAULT_POLICY
    setup = build_task(task, image, **options)
    if args.lam is not None and setup.problem.prior.weight_from_step:
        print(
            "fima: warning: --lam does not apply to the gs-prox prior (λ = 1/γ, so that its prox is "
            "the denoiser D_σ); set its σ with --prior gs-prox:sigma=S",
            file=sys.stderr,
        )
    if not args.force:
        _check_memory(setup, len(specs), int(options.get("downscale") or 1))
    variants = list(dict.fromkeys(spec.variant for spec in specs))
    run_changes = {s.label: run_changes[s.label] for s in specs if s.label in run_changes}
    try:
        params = (base_params or setup.parameters).with_changes(**overrides)
        session = Session(
            setup.settings, params, changes, variants, iterations, propose, specs, run_changes
        )
        timelines = [session.run_timeline(spec) for spec in specs]
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    rows, records, results = [], {}, {}
    maps = MapSaver(args.out, args.save_maps) if args.save_maps is not None else None
    for spec, timeline in zip(specs, timelines, strict=True):  # each from x⁰, its own changes
        variant, label, name = spec.variant, spec.label, spec.file_label
        records[label] = []
        steps = iterate(
            setup.problem,
            setup.module,
            timeline,
            variant,
            max_iter=iterations,
            propose=propose,
            d_maps=maps is not None,
        )
        with tqdm(total=iterations, desc=f"{task}/{label}", unit="it", disable=None) as bar:
            for record in steps:
                record.label = label
                if records[label]:  # keep the tensors of the newest record only (memory)
                    previous = records[label][-1]
                    previous.x = previous.u = previous.u_tilde = previous.d_map = None
                if maps is not None:
                    maps.offer(name, record.k, record.d_map)
                rows.append(record.row())
                records[label].append(record)
                bar.set_postfix(psi=f"{record.objective:.4g}", psnr=f"{record.psnr:.2f}")
                bar.update(1)
        if maps is not None:
            maps.finish(name)
        last = records[label][-1] if records[label] else None
        results[name] = last.x if last is not None else setup.problem.x0
        if last is not None and last.diverged:
            print(f"fima: warning: {label} diverged at iteration {last.k}", file=sys.stderr)
    result = results if len(specs) > 1 else results[specs[0].file_label]
    write_run_outputs(args.out, setup.problem, rows, result, session)
    if not args.quiet:
        lipschitz = setup.problem.lipschitz
        where = threads_text(str(setup.problem.x0.device), torch.get_num_threads())
        print(run_summary(task, records, session.timeline(), lipschitz, args.out, where))
    return 0


def _check_memory(setup, variants: int, downscale: int = 1) -> None:
    """Refuse (exit 2) a run that would not fit in free memory, suggesting --downscale."""
    from .memory import memory_shortfall, size_text

    shortfall = memory_shortfall(setup, variants, downscale)
    if shortfall is None:
        return
    needed, free = size_text(shortfall.needed), size_text(shortfall.free)
    needs = f"this run needs about {needed} of {shortfall.memory} but only {free} is free"
    if shortfall.can_downscale():
        raise InputError(
            f"{needs}: add --downscale {shortfall.suggested} (or --force to try anyway)"
        )
    raise InputError(f"{needs}, even downscaled by {shortfall.current}: add --force to try anyway")


def _command_denoise(args: argparse.Namespace) -> int:
    import time

    import torch

    from .io import load_image, save_image
    from .modules import make_denoiser
    from .tasks.base import resolve_device
    from .threads import threads_text

    if not 0 <= args.sigma <= 255:
        raise InputError(f"--sigma is on the 0-255 scale, got {args.sigma}")
    if args.sigma < 1:
        hint = f" (for {args.sigma:g} on the [0, 1] scale give --sigma {255 * args.sigma:.3g})"
        print(
            f"fima: warning: --sigma {args.sigma:g} is taken on the 0-255 scale, i.e. almost no "
            f"noise{hint if args.sigma > 0 else ''}",
            file=sys.stderr,
        )
    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".npy", ".tif", ".tiff"):
        raise InputError(f"--out must end in .png, .npy or .tif, got {out.name}")
    start = time.perf_counter()
    device = resolve_device(args.device)
    image = load_image(args.image).to(device)
    try:
        denoiser = make_denoiser(args.module, device=device)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    save_image(out, denoiser(image, args.sigma / 255.0))
    seconds = time.perf_counter() - start
    height, width = image.shape[-2:]
    channels = "grey" if image.shape[1] == 1 else f"{image.shape[1]} channels"
    where = threads_text(str(device), torch.get_num_threads())
    print(
        f"fima denoise: {Path(args.image).name} {width}×{height} ({channels}), {args.module}, "
        f"σ {args.sigma:g}/255, in {seconds:.2f} s on {where}; written to {out}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``fima``; returns the exit status."""
    from .cli_help import task_in

    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(task_in(argv))
    args = parser.parse_args(argv)
    threads_before = _set_threads(args)
    try:
        if args.command == "run":
            return _command_run(args)
        if args.command == "tasks":
            from .cli_help import tasks_text

            print(tasks_text(args.name))
            return 0
        if args.command == "study":
            from .study.cli import study_command

            return study_command(args)
        return _command_denoise(args)
    except (InputError, WriteError) as exc:
        print(f"fima: error: {first_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("fima: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if os.environ.get("FIMA_DEBUG"):
            raise
        print(f"fima: internal error: {one_line(exc)}", file=sys.stderr)
        return 1
    finally:
        if threads_before is not None:  # main() called in-process leaves torch as it found it
            import torch

            torch.set_num_threads(threads_before)


def _set_threads(args: argparse.Namespace) -> int | None:
    """Choose torch's threads for ``run`` and ``denoise``; returns the number before (else None)."""
    if args.command not in ("run", "denoise"):
        return None
    import torch

    from .threads import choose_threads

    before = torch.get_num_threads()
    choose_threads(args.threads)
    return before


if __name__ == "__main__":
    sys.exit(main())
