"""The engine on a device: milliseconds per iteration, peak memory and Ψ's monotonicity per size.

    python benchmarks/gpu.py [--device cuda|cpu] [--sizes 256 512 1024 2048 4096]
        [--configs deblur-fima deblur-fima-always …] [--warmup 10] [--iters 30]
        [--cell-seconds S] [--budget-seconds S] [--tf32] [--json FILE]

One cell per image size × configuration: the bundled sample (house.png, grayscale) resized
bicubically to size², the task built on the device with its defaults (deblurring: Levin 4, 1 %
noise; denoising: 25/255), one variant run for ``--warmup`` iterations and then ``--iters`` timed
ones. Configurations (``--configs``, default all):

    deblur-fima          fima with the deblur task's defaults (learned gs prior, adaptive proposals)
    deblur-fima-always   the same, proposing at every iteration
    deblur-pg-gs         proximal gradient under the learned gs prior
    deblur-pg-wavelet    proximal gradient under the hand-made wavelet prior
    deblur-naive         the module alone, x^{k+1} = A(x^k)
    deblur-pg-gs-sym8    pg under g_σ averaged over the square's 8 symmetries (one batched pass)
    deblur-fima-sym8     fima under that averaged prior
    denoise-fima         fima with the denoise task's defaults (Prox-PnP gs-prox prior)

Measured per cell:
- ms/iter: on CUDA, CUDA events recorded around the timed iterations (the device synchronised before
  and after); on the CPU, time.perf_counter around them. Wall ms/iter (perf_counter) is in the JSON.
- memory: on CUDA the peak of torch.cuda.max_memory_allocated over the run (reset after the build)
  and its growth over what the built problem already held; on the CPU the growth of the resident
  peak (VmHWM, reset through /proc/self/clear_refs; '-' where that is not available). Beside them
  core.memory's estimate for the run (what the explorer and ``fima run`` check), and a cell is
  skipped, with the reason, when that check (core.memory.memory_shortfall) says it does not fit.
- Ψ's largest relative rise: max over k of (Ψ_{k+1} − Ψ_k)/|Ψ_k| over the records of the whole run
  (warm-up included; the records' ``objective``, Ψ(x^1), Ψ(x^2), …). Negative: Ψ decreased at every
  step (Prop. 1 holds for fima and pg); ``rises`` counts the steps where Ψ went up.

``--tf32`` turns torch's TF32 switches on before the runs (cuDNN convolutions and matmuls): the
engine's own evaluations run in exact float32 whatever they are, so Ψ should stay monotone. The
header prints torch's settings at start, for the run and after it. ``--cell-seconds`` caps a cell's
timed iterations to about that many seconds (at least 3, from the last warm-up iteration's time);
``--budget-seconds`` starts no new cell after that many seconds (and shortens the timed part of
the cell running then), and the table is printed all the same. A cell that fails prints one line
and the run goes on with the next. Metrics (PSNR/SSIM) are off, as headless.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import signal
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: the repo's core/ first
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from core.algorithm import iterate  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling modules below
from gpu_settings import device_description, enable_tf32, torch_settings  # noqa: E402
from gpu_table import _strict, progress, table  # noqa: E402

SIZES = (256, 512, 1024, 2048, 4096)
MIN_TIMED = 3  # the fewest timed iterations a cell makes when --cell/--budget-seconds cut it short
MIB = 2**20

# name: (task, variant, build options, fima's proposal policy; None: the engine's default)
CONFIGS: dict[str, tuple[str, str, dict, str | None]] = {
    "deblur-fima": ("deblur", "fima", {}, None),
    "deblur-fima-always": ("deblur", "fima", {}, "always"),
    "deblur-pg-gs": ("deblur", "pg", {"prior": "gs"}, None),
    "deblur-pg-wavelet": ("deblur", "pg", {"prior": "wavelet"}, None),
    "deblur-naive": ("deblur", "naive", {}, None),
    "deblur-pg-gs-sym8": ("deblur", "pg", {"prior": "gs:symmetries=8"}, None),
    "deblur-fima-sym8": ("deblur", "fima", {"prior": "gs:symmetries=8"}, None),
    "denoise-fima": ("denoise", "fima", {}, None),
}


# ------------------------------------------------------------------------------------------ images


def sample_image() -> torch.Tensor:
    """The bundled house.png in grayscale (1, 1, H, W) on the CPU; a smooth synthetic image where
    it cannot be read."""
    try:
        from core.io import load_image, resources_dir

        return load_image(resources_dir() / "samples" / "house.png", grayscale=True)
    except Exception as exc:  # noqa: BLE001
        print(f"# sample image unreadable ({type(exc).__name__}: {exc}); synthetic", flush=True)
        axis = torch.linspace(0, 1, 256)
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        image = 0.5 + 0.25 * torch.sin(12 * xx) * torch.cos(9 * yy) + 0.2 * (xx > 0.5).float()
        return image.clamp(0, 1)[None, None]


def sized(image: torch.Tensor, size: int) -> torch.Tensor:
    """``image`` resized bicubically to size × size, clamped to [0, 1]."""
    out = F.interpolate(image, size=(size, size), mode="bicubic", align_corners=False)
    return out.clamp(0, 1).contiguous()


# ------------------------------------------------------------------------------------------ memory


class HostPeak:
    """The resident peak's growth over a stretch of this process (Linux: VmHWM reset through
    /proc/self/clear_refs); None where it cannot be read."""

    def __init__(self) -> None:
        self.before: int | None = None

    @staticmethod
    def _kib(field: str) -> int | None:
        try:
            with open("/proc/self/status") as status:
                for line in status:
                    if line.startswith(field + ":"):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def start(self) -> None:
        """Reset the peak to the current resident size and remember it."""
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
        except OSError:
            self.before = None
            return
        self.before = self._kib("VmRSS")

    def growth(self) -> int | None:
        """Bytes the resident peak grew by since :meth:`start` (None: unknown)."""
        peak = self._kib("VmHWM")
        if self.before is None or peak is None:
            return None
        return max(peak - self.before, 0)


def _free_device_memory(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        try:
            torch.cuda.synchronize(device)
            torch.cuda.empty_cache()
        except Exception:  # noqa: BLE001 - a broken context shows in the next cell's line
            pass


# ------------------------------------------------------------------------------------------- cells


def max_relative_rise(objectives: list[float]) -> tuple[float, int]:
    """(max over k of (Ψ_{k+1} − Ψ_k)/|Ψ_k|, how many steps rose); NaN, 0 for fewer than 2 values."""
    rises = []
    for before, after in zip(objectives, objectives[1:], strict=False):
        if not (math.isfinite(before) and math.isfinite(after)):
            rises.append(math.inf if math.isfinite(before) else math.nan)
            continue
        rises.append((after - before) / max(abs(before), 1e-30))
    finite = [r for r in rises if not math.isnan(r)]
    if not finite:
        return math.nan, 0
    return max(finite), sum(1 for r in finite if r > 0)


class Clock:
    """Elapsed milliseconds of a stretch: CUDA events on a CUDA device (synchronised), else
    time.perf_counter; both give the wall time too."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.events = None
        if device.type == "cuda":
            self.events = (
                torch.cuda.Event(enable_timing=True),
                torch.cuda.Event(enable_timing=True),
            )

    def sync(self) -> None:
        """Wait for the device."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    def start(self) -> None:
        """Begin timing (after the device has finished what came before)."""
        self.sync()
        self.wall = time.perf_counter()
        if self.events is not None:
            self.events[0].record()

    def stop(self) -> tuple[float, float]:
        """(device ms, wall ms) since :meth:`start`; the device ms is the wall one on the CPU."""
        if self.events is not None:
            self.events[1].record()
        self.sync()
        wall = 1e3 * (time.perf_counter() - self.wall)
        if self.events is None:
            return wall, wall
        return float(self.events[0].elapsed_time(self.events[1])), wall


def build(config: str, image: torch.Tensor, device: torch.device):
    """The TaskSetup of ``config`` on ``image`` (CPU tensor) on ``device``."""
    from core.tasks import build_task

    task, _variant, options, _policy = CONFIGS[config]
    return build_task(task, image, device=str(device), seed=0, **options)


def run_cell(
    config: str,
    size: int,
    image: torch.Tensor,
    device: torch.device,
    args: argparse.Namespace,
    deadline: float | None,
) -> dict:
    """Measure one cell; a dict of its numbers (``status`` ok / skipped / error)."""
    task, variant, options, policy = CONFIGS[config]
    cell: dict = {
        "size": size,
        "config": config,
        "task": task,
        "variant": variant,
        "prior": options.get("prior", "default"),
        "propose": policy or ("default" if variant == "fima" else "-"),
        "status": "ok",
        "reason": "",
    }
    started = time.perf_counter()
    setup = None
    try:
        setup = build(config, sized(image, size), device)
        cell["prior"] = setup.settings.get("prior", cell["prior"])
        cell["module"] = setup.settings.get("module")
        cell["build_seconds"] = time.perf_counter() - started
        cell.update(_estimate(setup))
        if cell.get("shortfall"):
            cell["status"], cell["reason"] = "skipped", cell.pop("shortfall")
            return cell
        cell.update(_iterate(setup, variant, policy, device, args, deadline))
    except Exception as exc:  # noqa: BLE001 - one failed cell must not end the run
        cell["status"] = "error"
        cell["reason"] = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if args.traceback:
            traceback.print_exc()
    finally:
        del setup
        _free_device_memory(device)
        cell["cell_seconds"] = time.perf_counter() - started
    return cell


def _estimate(setup) -> dict:
    """core.memory's estimate for one variant of ``setup`` and the explorer's fit check."""
    try:
        from core.memory import estimate_run_bytes, free_bytes, memory_shortfall, shortfall_text
    except Exception as exc:  # noqa: BLE001 - psutil missing, say: measure without the check
        return {"estimate_bytes": None, "free_bytes": None, "estimate_error": str(exc)}
    shape = tuple(setup.problem.x0.shape)
    module = str(setup.settings.get("module") or "cnn")
    estimate = estimate_run_bytes(shape, 1, module, setup.problem.prior.memory_buffers)
    out = {"estimate_bytes": estimate, "free_bytes": free_bytes(setup.problem.x0.device)}
    shortfall = memory_shortfall(setup, 1)
    if shortfall is not None:
        out["shortfall"] = f"does not fit: {shortfall_text(shortfall)} (core.memory)"
    return out


def _iterate(setup, variant, policy, device, args, deadline) -> dict:
    """Warm up, time, and read memory and Ψ of one run."""
    cuda = device.type == "cuda"
    host = HostPeak()
    gc.collect()
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        baseline = torch.cuda.memory_allocated(device)
    else:
        host.start()
    total = args.warmup + args.iters
    steps = iterate(
        setup.problem,
        setup.module,
        setup.parameters,
        variant,
        total,
        compute_metrics=False,
        propose=policy,
    )
    clock = Clock(device)
    objectives: list[float] = []
    accepted = skipped = 0
    diverged = False
    last_warmup_ms = None
    for _ in range(args.warmup):
        clock.start()
        record = next(steps, None)
        if record is None:
            break
        last_warmup_ms = clock.stop()[1]
        objectives.append(float(record.objective))
        diverged = diverged or record.diverged
    timed = args.iters
    if last_warmup_ms is not None and last_warmup_ms > 0:
        if args.cell_seconds:
            timed = min(timed, max(MIN_TIMED, int(1e3 * args.cell_seconds / last_warmup_ms)))
        if deadline is not None:
            left = deadline - time.perf_counter()
            timed = min(timed, max(MIN_TIMED, int(1e3 * left / last_warmup_ms)))
    done = 0
    clock.start()
    for _ in range(timed if not diverged else 0):
        record = next(steps, None)
        if record is None:
            break
        done += 1
        objectives.append(float(record.objective))
        accepted += bool(record.accepted)
        skipped += bool(record.skipped)
        diverged = diverged or record.diverged
    device_ms, wall_ms = clock.stop()
    steps.close()
    out: dict = {
        "warmup": args.warmup,
        "iters": done,
        "ms_per_iter": device_ms / done if done else math.nan,
        "wall_ms_per_iter": wall_ms / done if done else math.nan,
        "accepted": accepted if variant == "fima" else None,
        "skipped": skipped if variant == "fima" else None,
        "diverged": diverged,
        "objective_first": objectives[0] if objectives else math.nan,
        "objective_last": objectives[-1] if objectives else math.nan,
    }
    out["max_rise"], out["rises"] = max_relative_rise(objectives)
    if cuda:
        peak = torch.cuda.max_memory_allocated(device)
        out.update(peak_bytes=peak, baseline_bytes=baseline, growth_bytes=peak - baseline)
    else:
        out.update(peak_bytes=None, baseline_bytes=None, growth_bytes=host.growth())
    if diverged:
        out["reason"] = "diverged"
    elif done < timed:
        out["reason"] = f"stopped after {done} timed iterations"
    return out


# -------------------------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--warmup", type=int, default=10, help="untimed iterations first")
    parser.add_argument("--iters", type=int, default=30, help="timed iterations per cell")
    parser.add_argument(
        "--cell-seconds", type=float, default=None, help="cap a cell's timed part (≥ 3 iterations)"
    )
    parser.add_argument(
        "--budget-seconds", type=float, default=None, help="start no new cell after this long"
    )
    parser.add_argument("--tf32", action="store_true", help="turn torch's TF32 switches on first")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--json", type=Path, default=None, help="also write the cells as JSON")
    parser.add_argument("--traceback", action="store_true", help="print a failed cell's traceback")
    args = parser.parse_args(argv)
    if args.warmup < 1 or args.iters < 1:
        parser.error("--warmup and --iters must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the cells, print progress, the table and (``--json``) write them."""
    t0 = time.perf_counter()
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    name = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        print(f"--device {name}: CUDA is not available here", file=sys.stderr)
        return 2
    device = torch.device(name)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    header: dict[str, object] = device_description(device)
    header["settings_at_start"] = torch_settings()
    if args.tf32 and device.type == "cuda":
        header["tf32_problems"] = enable_tf32()
    elif args.tf32:  # torch's "high" matmul precision makes oneDNN emulate TF32: 100× slower here
        header["tf32_problems"] = ["--tf32 ignored on the CPU"]
    header["settings_for_run"] = torch_settings()
    header["tf32_flag"] = args.tf32
    header["warmup"], header["iters"] = args.warmup, args.iters
    print(f"# {json.dumps({k: v for k, v in header.items() if not k.startswith('settings')})}")
    print(f"# torch settings at start: {json.dumps(header['settings_at_start'])}")
    if args.tf32:
        print(f"# after --tf32:            {json.dumps(header['settings_for_run'])}")
    sys.stdout.flush()

    image = sample_image()
    deadline = None if args.budget_seconds is None else t0 + args.budget_seconds
    cells: list[dict] = []
    stopped = ""
    previous = signal.signal(signal.SIGTERM, _interrupt)  # `timeout` still gets the table
    try:
        for size in args.sizes:
            for config in args.configs:
                if stopped or (deadline is not None and time.perf_counter() >= deadline):
                    reason = stopped or "budget spent"
                    cells.append(
                        {"size": size, "config": config, "status": "not run", "reason": reason}
                    )
                    continue
                try:
                    cell = run_cell(config, size, image, device, args, deadline)
                except (Interrupted, KeyboardInterrupt) as exc:
                    stopped = f"interrupted ({type(exc).__name__})"
                    cell = {"size": size, "config": config, "status": "not run", "reason": stopped}
                cells.append(cell)
                print(progress(cell, time.perf_counter() - t0), flush=True)
                _write_json(args.json, header, cells)  # as it goes: a killed run keeps its cells
    except (Interrupted, KeyboardInterrupt) as exc:  # between cells: the table of those done
        print(f"# interrupted ({type(exc).__name__})", flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous)

    header["settings_at_end"] = torch_settings()
    header["seconds"] = time.perf_counter() - t0
    print()
    print(table(cells, device))
    print(f"\n# torch settings at end:   {json.dumps(header['settings_at_end'])}")
    print(f"# {header['seconds']:.1f} s in all", flush=True)
    return 0 if _write_json(args.json, header, cells) else 1


class Interrupted(BaseException):
    """SIGTERM arrived (``timeout``): stop measuring, print what there is (not an ``Exception``,
    so a cell's own error handling lets it through)."""


def _interrupt(signum, frame) -> None:
    raise Interrupted(f"signal {signum}")


def _write_json(path: Path | None, header: dict, cells: list[dict]) -> bool:
    """Write header and cells to ``path`` (None: nothing); False when it could not be written."""
    if path is None:
        return True
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_strict({"header": header, "cells": cells}), indent=1))
    except OSError as exc:
        print(f"# could not write {path}: {exc}", file=sys.stderr)
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
