"""Train the noise-level-conditional CNN denoiser (core/unet.py) on a folder of images.

Random patches with flips/rot90, sigma uniform in [0, --sigma-max/255] per patch, Gaussian noise
in float (no clipping, no quantisation), L1 loss (L2 for the last part), Adam with linear warm-up
and cosine decay. Either the total number of steps is given (--steps, deterministic), or the
cosine is fitted to a wall-clock budget (--hours): its progress advances by the measured throughput
so that it ends on time on a shared, unevenly loaded machine. Checkpoints (model + optimizer + step + RNG) every --ckpt-minutes,
resumable with --resume; at every checkpoint the small inference file is exported to --export
and the Set12 PSNR at sigma 25 is logged.

Devices: ``--device cuda`` holds the training set on the GPU (patches drawn there in one gather),
runs the network channels-last, optionally under bf16 autocast (``--bf16``, training only; the
exported weights and every evaluation stay float32); ``--minutes`` is a wall-clock budget that ends
on time with a checkpoint and the exported file. Progress is logged every ``--log-seconds``.
``--hessian-weight`` adds Prox-PnP's penalty w·max(‖∇²g_σ(x)‖, 1 − ε) (power iterations on
Hessian-vector products, on a sub-batch) so that L_g < 1 is trained for; ``--widen K`` starts from
``--init``'s network with K× the channels (function-preserving).

Example:
    nohup nice -n 10 .venv/bin/python tools/train_denoiser.py --data ../shared/data/train400 \
        --val ../shared/data/set12 --checkpoint checkpoints/denoiser.ckpt \
        --export resources/weights/cnn.pt --hours 2 > checkpoints/train.log 2>&1 &
Re-export from a checkpoint without training:
    .venv/bin/python tools/train_denoiser.py --checkpoint checkpoints/denoiser.ckpt \
        --export resources/weights/cnn.pt --export-only
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from denoiser_training import (  # noqa: E402  (the tools folder is not a package)
    PatchSource,
    _unet,
    hessian_spectral_norm,
    widen,
)

_u = _unet()
LiteUNet = _u.LiteUNet
build_model, model_arch, save_weights, count_macs, potential_and_gradient = (
    _u.build_model,
    _u.model_arch,
    _u.save_weights,
    _u.count_macs,
    _u.potential_and_gradient,
)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


def load_gray_folder(folder: Path) -> list[torch.Tensor]:
    """Load every image in folder as a float32 (H, W) grayscale tensor in [0, 1]."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SystemExit(f"no images found in {folder}")
    images = []
    for f in files:
        a = np.asarray(iio.imread(f))
        if a.ndim == 3:
            a = a[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        scale = 65535.0 if a.dtype == np.uint16 else 255.0
        images.append(torch.from_numpy(np.asarray(a, dtype=np.float32) / scale))
    return images


def psnr(x: torch.Tensor, ref: torch.Tensor) -> float:
    """PSNR in dB for images on the [0, 1] scale (peak 1)."""
    mse = float(torch.mean((x.double() - ref.double()) ** 2))
    return 10.0 * math.log10(1.0 / mse) if mse > 0 else float("inf")


def noisy_copy(clean: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """clean + sigma * N(0, 1) with a fixed seed, in float (no clipping, no quantisation)."""
    g = torch.Generator().manual_seed(seed)
    return clean + sigma * torch.randn(clean.shape, generator=g)


def denoise(
    model: LiteUNet, noisy: torch.Tensor, sigma: torch.Tensor, gradient_step: bool, train: bool
) -> torch.Tensor:
    """N_σ(y), or the gradient-step denoiser D_σ(y) = y − ∇g_σ(y) with g_σ = ½‖y − N_σ(y)‖²."""
    if not gradient_step:
        return model(noisy, sigma)
    _, grad = potential_and_gradient(model, noisy, sigma, create_graph=train)
    return noisy - grad


def validate(
    model: LiteUNet, images: list[torch.Tensor], sigma: float, gradient_step: bool = False
) -> float:
    """Average PSNR of the model on images (H, W) at noise level sigma (seed = image index), in
    float32 on the model's device."""
    model.eval()
    vals = []
    m = model.multiple
    device = next(model.parameters()).device
    for i, img in enumerate(images):
        x = img[None, None]
        y = noisy_copy(x, sigma, seed=i)
        h, w = x.shape[-2:]
        yp = F.pad(y, (0, (-w) % m, 0, (-h) % m), mode="reflect").to(device)
        sig = torch.tensor([sigma], device=device)
        with torch.no_grad() if not gradient_step else torch.enable_grad():
            d = denoise(model, yp, sig, gradient_step, train=False)
        vals.append(psnr(d.detach().cpu()[..., :h, :w], x))
    model.train()
    return float(np.mean(vals))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", type=Path, help="folder of training images")
    ap.add_argument("--val", type=Path, help="folder of validation images (e.g. Set12)")
    ap.add_argument("--val-count", type=int, default=12, help="validation images used")
    ap.add_argument("--checkpoint", type=Path, required=True, help="checkpoint file")
    ap.add_argument("--resume", action="store_true", help="resume from --checkpoint")
    ap.add_argument("--export", type=Path, help="inference weight file written at checkpoints")
    ap.add_argument("--export-only", action="store_true", help="export --checkpoint and exit")
    ap.add_argument(
        "--gradient-step",
        action="store_true",
        help="train the gradient-step denoiser D = Id − ∇g, g = ½‖x − N(x)‖² (Hurault 2022)",
    )
    ap.add_argument("--activation", default="relu", help="relu, silu, elu or softplus")
    ap.add_argument("--init", type=Path, help="start from this inference weight file (e.g. cnn.pt)")
    ap.add_argument("--widen", type=int, default=1, help="K× the channels of --init's network")
    ap.add_argument("--channels", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--blocks", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--patch", type=int, default=80)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--sigma-max", type=float, default=55.0, help="max training sigma, 0-255 scale")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--lr-final", type=float, default=2e-6)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--l2-from", type=float, default=0.8, help="switch L1 -> L2 at this fraction")
    ap.add_argument("--steps", type=int, default=0, help="total steps (deterministic schedule)")
    ap.add_argument(
        "--hours",
        type=float,
        default=None,
        help="wall-clock budget: the cosine schedule adapts to the measured throughput so that\n"
        "it ends on time (default 2 h when --steps is not given)",
    )
    ap.add_argument("--minutes", type=float, default=None, help="the budget in minutes")
    ap.add_argument("--ckpt-minutes", type=float, default=1.0, help="checkpoint interval")
    ap.add_argument("--val-minutes", type=float, default=10.0, help="validation interval")
    ap.add_argument("--log-seconds", type=float, default=5.0, help="progress line interval")
    ap.add_argument(
        "--threads", type=int, default=0, help="torch threads; 0: 1 when the machine is busy"
    )
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast for the training steps")
    ap.add_argument(
        "--hessian-weight", type=float, default=0.0, help="Prox-PnP penalty weight (0: off)"
    )
    ap.add_argument("--hessian-eps", type=float, default=0.1, help="penalise ‖∇²g‖ above 1 − ε")
    ap.add_argument("--hessian-iters", type=int, default=5, help="power iterations per step")
    ap.add_argument("--hessian-batch", type=int, default=8, help="patches the penalty sees")
    ap.add_argument("--hessian-patch", type=int, default=64, help="their size (a centre crop)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.minutes is not None:
        args.hours = args.minutes / 60.0
    return args


def export(model: LiteUNet, path: Path, state: dict, val_psnr: float | None) -> None:
    """Write the inference weight file with training metadata."""
    hp = state["args"]
    info = {
        "steps": int(state["step"]),
        "total_steps": int(state["total"]),
        "data": str(hp.get("data_name", "train400")),
        "patch": int(hp["patch"]),
        "batch": int(hp["batch"]),
        "sigma_train_max_255": float(hp["sigma_max"]),
        "loss": "L1, then L2 from fraction " + str(hp["l2_from"]),
        "objective": "gradient-step" if hp.get("gradient_step") else "denoiser",
        "init": str(hp.get("init") or ""),
        "widen": int(hp.get("widen", 1)),
        "optimizer": f"Adam lr {hp['lr']} warm-up + cosine",
        "seed": int(hp["seed"]),
        "device": str(hp.get("device_used", "cpu")),
        "bf16": bool(hp.get("bf16", False)),
        "hessian_penalty": (
            f"{hp['hessian_weight']} * max(|H g|, 1 - {hp['hessian_eps']})"
            if hp.get("hessian_weight")
            else "none"
        ),
        "hessian_norm_recent": float(state.get("hessian_recent", -1.0)),
        "seconds": float(state.get("seconds", 0.0)),
        "val_set12_sigma25_psnr": float(val_psnr) if val_psnr is not None else -1.0,
        "exported": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    save_weights(model, path, info)


def pick_threads(requested: int, current: int) -> int:
    """Thread count: requested if > 0, else 1 when the machine is busy (load), all cores if idle."""
    if requested > 0:
        return requested
    cores = os.cpu_count() or 1
    try:
        load = float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return cores
    # our own `current` threads count in the load; other work makes intra-op threads stall
    return 1 if load - current > 0.5 else cores


def pick_device(name: str) -> torch.device:
    """The training device: ``auto`` is cuda when available; asking for a missing cuda fails."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda asked for, but no CUDA device is available")
    return torch.device(name)


def build_start_model(args: argparse.Namespace) -> LiteUNet:
    """The network training starts from: --init's weights (widened --widen×) or a new one."""
    if args.init is None:
        return LiteUNet(
            channels=tuple(args.channels), blocks=tuple(args.blocks), activation=args.activation
        )
    blob = torch.load(args.init, map_location="cpu", weights_only=True)
    arch = {**blob["meta"]["arch"], "activation": args.activation}
    model = build_model(arch)
    model.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
    print(f"initialised from {args.init} ({args.activation} activations)", flush=True)
    if args.widen > 1:
        model = widen(model, args.widen, seed=args.seed)
        print(f"widened {args.widen}× (function-preserving, 1e-3 jitter)", flush=True)
    return model


def training_loss(
    model: LiteUNet,
    clean: torch.Tensor,
    sig: torch.Tensor,
    noise_gen: torch.Generator,
    hp: dict,
    progress: float,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The step's loss (L1 or L2 on D_σ(x + σξ) − x, + the Hessian penalty) and ‖∇²g‖ seen."""
    noise = torch.randn(clean.shape, generator=noise_gen, device=clean.device)
    noisy = clean + sig.view(-1, 1, 1, 1) * noise
    if clean.is_cuda:
        noisy = noisy.contiguous(memory_format=torch.channels_last)
    with torch.autocast(clean.device.type, dtype=torch.bfloat16, enabled=bool(hp.get("bf16"))):
        out = denoise(model, noisy, sig, hp.get("gradient_step", False), train=True)
    out = out.float()
    loss = F.mse_loss(out, clean) if progress >= hp["l2_from"] else F.l1_loss(out, clean)
    norms = None
    if hp.get("hessian_weight", 0.0) > 0:
        n, p = min(hp["hessian_batch"], clean.shape[0]), min(hp["hessian_patch"], clean.shape[-1])
        o = (clean.shape[-1] - p) // 2
        box = (slice(0, n), slice(None), slice(o, o + p), slice(o, o + p))
        t = torch.rand(n, 1, 1, 1, generator=noise_gen, device=clean.device)
        point = clean[box] + t * (noisy[box] - clean[box])  # from clean to noisy
        norms = hessian_spectral_norm(model, point, sig[:n], hp["hessian_iters"])
        floor = 1.0 - hp["hessian_eps"]
        loss = loss + hp["hessian_weight"] * torch.clamp(norms, min=floor).mean()
    return loss, norms


def main(argv: list[str] | None = None) -> int:
    """Train (or resume, or export) the denoiser."""
    args = parse_args(argv)
    device = pick_device(args.device)
    threads = pick_threads(args.threads, 0)
    torch.set_num_threads(threads)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed patch shapes: pick the fastest kernels once
        print(f"device {torch.cuda.get_device_name(device)}", flush=True)

    if args.export_only:
        if args.export is None:
            raise SystemExit("--export-only needs --export PATH")
        ck = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        model = build_model(ck["arch"])
        model.load_state_dict(ck["model"])
        export(model, args.export, ck, ck.get("last_val"))
        print(f"exported step {ck['step']} to {args.export}")
        return 0

    if args.data is None:
        raise SystemExit("--data is required for training")
    source = PatchSource(load_gray_folder(args.data), args.patch, device)
    val_images = load_gray_folder(args.val)[: args.val_count] if args.val else []
    print(f"loaded {source.count} training images on {device}, {len(val_images)} validation images")

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    noise_gen = torch.Generator(device=device).manual_seed(args.seed + 1)
    model = build_start_model(args)
    step, history, last_val, progress, spent = 0, [], None, 0.0, 0.0
    total = args.steps
    hours = args.hours if args.hours is not None else (0.0 if total > 0 else 2.0)
    deadline = time.time() + hours * 3600.0 if total <= 0 else 0.0
    hp = {**vars(args), "data_name": args.data.name}
    hp = {k: (str(v) if isinstance(v, Path) else v) for k, v in hp.items()}
    opt_state = None

    if args.resume and args.checkpoint.is_file():
        ck = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        model = build_model(ck["arch"])
        model.load_state_dict(ck["model"])
        opt_state = ck["optimizer"]
        gen.set_state(ck["gen_state"])
        torch.set_rng_state(ck["torch_state"])
        if ck.get("noise_state") is not None and ck.get("noise_device") == device.type:
            noise_gen.set_state(ck["noise_state"])
        step, history, last_val = ck["step"], ck["history"], ck.get("last_val")
        hp = {**ck["args"], "bf16": args.bf16, "device": args.device}
        total, deadline, spent = ck["total"], ck.get("deadline", 0.0), ck.get("seconds", 0.0)
        w = hp["warmup"]
        progress = ck.get("progress", max(0.0, (step - w) / max(1, total - w)))
        if args.steps > 0:
            total, deadline = args.steps, 0.0
            print(f"schedule: {total} steps in all", flush=True)
        elif args.hours is not None:
            total, deadline = 0, time.time() + args.hours * 3600.0
            print(f"schedule: ends in {args.hours * 60:.1f} min (adaptive)", flush=True)
        print(f"resumed at step {step}, schedule progress {progress:.3f}", flush=True)
    elif args.resume:
        print(f"no checkpoint at {args.checkpoint}; starting fresh", flush=True)
    hp["device_used"] = str(device)
    hp.setdefault("widen", 1)
    for key in ("hessian_weight", "hessian_eps", "hessian_iters", "hessian_batch", "hessian_patch"):
        hp.setdefault(key, getattr(args, key))

    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"LiteUNet channels={model.channels} blocks={model.blocks} params={n_params} "
        f"GMAC@256^2={count_macs(model) / 1e9:.2f}",
        flush=True,
    )
    model = model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=hp["lr"])
    if opt_state is not None:
        opt.load_state_dict(opt_state)
    if total > 0:
        print(f"schedule: {total} steps (deterministic)", flush=True)
    else:
        end = time.strftime("%H:%M:%S", time.localtime(deadline))
        print(f"schedule: adaptive, cosine sized to end at {end}", flush=True)
    sigma_max = hp["sigma_max"] / 255.0
    recent = {"hessian": -1.0}
    t_start = time.time()

    def save(step_now: int, validate_now: bool) -> None:
        nonlocal last_val
        if val_images and validate_now:
            last_val = validate(model, val_images, 25.0 / 255.0, hp.get("gradient_step", False))
        state = {
            "arch": model_arch(model),
            "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "optimizer": opt.state_dict(),
            "step": step_now,
            "total": total,
            "deadline": deadline,
            "progress": progress,
            "gen_state": gen.get_state(),
            "noise_state": noise_gen.get_state(),
            "noise_device": device.type,
            "torch_state": torch.get_rng_state(),
            "history": history,
            "last_val": last_val,
            "hessian_recent": recent["hessian"],
            "seconds": spent + time.time() - t_start,
            "args": hp,
        }
        args.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.checkpoint.with_name(args.checkpoint.name + ".tmp")
        torch.save(state, tmp)
        tmp.replace(args.checkpoint)
        if args.export is not None:
            export(model, args.export, state, last_val)
        val_s = f"{last_val:.3f} dB" if last_val is not None else "n/a"
        print(
            f"[{time.strftime('%H:%M:%S')}] checkpoint step {step_now} progress {progress:.3f} "
            f"lr {opt.param_groups[0]['lr']:.2e} val Set12 sigma25 PSNR {val_s}",
            flush=True,
        )
        history.append({"step": step_now, "val": last_val, "time": time.time()})

    stop = {"flag": False}

    def on_signal(signum: int, frame: object) -> None:
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    model.train()
    t_last_ckpt = t_last_val = t_last_log = time.time()
    sec_per_step, t_prev, first = 0.0, time.time(), step
    loss_sum, loss_count = 0.0, 0
    while not stop["flag"]:
        if total > 0:
            if step >= total:
                break
            progress = max(0.0, (step - hp["warmup"]) / max(1, total - hp["warmup"]))
        elif step >= hp["warmup"] and sec_per_step > 0:
            remaining = (deadline - time.time()) / sec_per_step
            progress = 1.0 if remaining < 1.0 else progress + (1.0 - progress) / remaining
            if progress >= 1.0:
                break
        elif total <= 0 and time.time() >= deadline:
            break  # the budget ended inside the warm-up
        if step < hp["warmup"]:
            lr = hp["lr"] * (step + 1) / hp["warmup"]
        else:
            lr = hp["lr_final"] + 0.5 * (hp["lr"] - hp["lr_final"]) * (
                1.0 + math.cos(math.pi * min(progress, 1.0))
            )
        for group in opt.param_groups:
            group["lr"] = lr
        clean = source.sample(hp["batch"], gen)
        sig = (torch.rand(hp["batch"], generator=gen) * sigma_max).to(device)
        loss, norms = training_loss(model, clean, sig, noise_gen, hp, progress)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        now = time.time()
        dt, t_prev = now - t_prev, now
        sec_per_step = dt if sec_per_step == 0.0 else 0.98 * sec_per_step + 0.02 * dt
        loss_sum, loss_count = loss_sum + loss.detach(), loss_count + 1  # no device sync
        if step - first <= 3 or now - t_last_log >= args.log_seconds:
            run_loss, loss_sum, loss_count = float(loss_sum) / loss_count, 0.0, 0
            if norms is not None:
                recent["hessian"] = float(norms.detach().max())
            h_s = f" |H g| max {recent['hessian']:.3f}" if norms is not None else ""
            print(
                f"[{time.strftime('%H:%M:%S')}] step {step} loss {run_loss:.5f} lr {lr:.2e} "
                f"p {progress:.3f} {1.0 / max(sec_per_step, 1e-9):.1f} steps/s{h_s}",
                flush=True,
            )
            t_last_log = now
            if device.type == "cpu" and step % 100 == 0:
                new_threads = pick_threads(args.threads, threads)
                if new_threads != threads:
                    threads = new_threads
                    torch.set_num_threads(threads)
        if now - t_last_ckpt > args.ckpt_minutes * 60.0:
            due = now - t_last_val > args.val_minutes * 60.0
            save(step, validate_now=due)
            t_last_ckpt = time.time()
            t_last_val = t_last_ckpt if due else t_last_val
            t_prev = t_last_ckpt
    save(step, validate_now=True)
    print("stopped (checkpoint saved)" if stop["flag"] else "done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
