"""Train the noise-level-conditional CNN denoiser (core/unet.py) on a folder of images.

Random patches with flips/rot90, sigma uniform in [0, --sigma-max/255] per patch, Gaussian noise
in float (no clipping, no quantisation), L1 loss (L2 for the last part), Adam with linear warm-up
and cosine decay. Either the total number of steps is given (--steps, deterministic), or the
cosine is fitted to a wall-clock budget (--hours): its progress advances by the measured throughput
so that it ends on time on a shared, unevenly loaded machine. Checkpoints (model + optimizer + step + RNG) every --ckpt-minutes,
resumable with --resume; at every checkpoint the small inference file is exported to --export
and the Set12 PSNR at sigma 25 is logged.

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
import importlib.util
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
from tqdm import tqdm


def _load_unet_module():
    """Import core/unet.py by path (pure torch; independent of the core package)."""
    path = Path(__file__).resolve().parents[1] / "core" / "unet.py"
    spec = importlib.util.spec_from_file_location("fima_unet", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fima_unet"] = mod
    spec.loader.exec_module(mod)
    return mod


_unet = _load_unet_module()
LiteUNet = _unet.LiteUNet
build_model, model_arch, save_weights, count_macs, potential_and_gradient = (
    _unet.build_model,
    _unet.model_arch,
    _unet.save_weights,
    _unet.count_macs,
    _unet.potential_and_gradient,
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


def sample_batch(
    images: list[torch.Tensor], batch: int, patch: int, gen: torch.Generator
) -> torch.Tensor:
    """Random patches (batch, 1, patch, patch) with random flips / rot90."""
    idx = torch.randint(len(images), (batch,), generator=gen).tolist()
    aug = torch.randint(8, (batch,), generator=gen).tolist()
    out = torch.empty(batch, 1, patch, patch)
    for i, (j, a) in enumerate(zip(idx, aug, strict=True)):
        img = images[j]
        h, w = img.shape
        top = int(torch.randint(h - patch + 1, (1,), generator=gen))
        left = int(torch.randint(w - patch + 1, (1,), generator=gen))
        p = img[top : top + patch, left : left + patch]
        p = torch.rot90(p, a % 4)
        if a >= 4:
            p = p.flip(-1)
        out[i, 0] = p
    return out


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
    """Average PSNR of the model on images (H, W) at noise level sigma (seed = image index)."""
    model.eval()
    vals = []
    m = model.multiple
    for i, img in enumerate(images):
        x = img[None, None]
        y = noisy_copy(x, sigma, seed=i)
        h, w = x.shape[-2:]
        yp = F.pad(y, (0, (-w) % m, 0, (-h) % m), mode="reflect")
        with torch.no_grad() if not gradient_step else torch.enable_grad():
            d = denoise(model, yp, torch.tensor([sigma]), gradient_step, train=False)
        vals.append(psnr(d.detach()[..., :h, :w], x))
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
    ap.add_argument("--ckpt-minutes", type=float, default=4.0)
    ap.add_argument(
        "--threads", type=int, default=0, help="torch threads; 0: 1 when the machine is busy"
    )
    ap.add_argument("--seed", type=int, default=0)
    return ap.parse_args(argv)


def export(model: LiteUNet, path: Path, state: dict, val_psnr: float | None) -> None:
    """Write the inference weight file with training metadata."""
    info = {
        "steps": int(state["step"]),
        "total_steps": int(state["total"]),
        "data": str(state["args"].get("data_name", "train400")),
        "patch": int(state["args"]["patch"]),
        "batch": int(state["args"]["batch"]),
        "sigma_train_max_255": float(state["args"]["sigma_max"]),
        "loss": "L1, then L2 from fraction " + str(state["args"]["l2_from"]),
        "objective": "gradient-step" if state["args"].get("gradient_step") else "denoiser",
        "init": str(state["args"].get("init") or ""),
        "optimizer": f"Adam lr {state['args']['lr']} warm-up + cosine",
        "seed": int(state["args"]["seed"]),
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


def main(argv: list[str] | None = None) -> int:
    """Train (or resume, or export) the denoiser."""
    args = parse_args(argv)
    threads = pick_threads(args.threads, 0)
    torch.set_num_threads(threads)

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
    images = [im for im in load_gray_folder(args.data) if min(im.shape) >= args.patch]
    val_images = load_gray_folder(args.val)[: args.val_count] if args.val else []
    print(f"loaded {len(images)} training images, {len(val_images)} validation images", flush=True)

    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    model = LiteUNet(
        channels=tuple(args.channels), blocks=tuple(args.blocks), activation=args.activation
    )
    if args.init is not None:
        blob = torch.load(args.init, map_location="cpu", weights_only=True)
        arch = {**blob["meta"]["arch"], "activation": args.activation}
        model = build_model(arch)
        model.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
        print(f"initialised from {args.init} ({args.activation} activations)", flush=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step, history, last_val, progress = 0, [], None, 0.0
    total = args.steps
    hours = args.hours if args.hours is not None else (0.0 if total > 0 else 2.0)
    deadline = time.time() + hours * 3600.0 if total <= 0 else 0.0
    hp = {**vars(args), "data_name": args.data.name}
    hp = {k: (str(v) if isinstance(v, Path) else v) for k, v in hp.items()}

    if args.resume and args.checkpoint.is_file():
        ck = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        model = build_model(ck["arch"])
        model.load_state_dict(ck["model"])
        opt = torch.optim.Adam(model.parameters(), lr=ck["args"]["lr"])
        opt.load_state_dict(ck["optimizer"])
        gen.set_state(ck["gen_state"])
        torch.set_rng_state(ck["torch_state"])
        step, history, last_val, hp = ck["step"], ck["history"], ck.get("last_val"), ck["args"]
        total, deadline = ck["total"], ck.get("deadline", 0.0)
        w = hp["warmup"]
        progress = ck.get("progress", max(0.0, (step - w) / max(1, total - w)))
        if args.steps > 0:
            total, deadline = args.steps, 0.0
            print(f"schedule: {total} steps in all", flush=True)
        elif args.hours is not None:
            total, deadline = 0, time.time() + args.hours * 3600.0
            print(f"schedule: ends in {args.hours} h (adaptive)", flush=True)
        print(f"resumed at step {step}, schedule progress {progress:.3f}", flush=True)
    elif args.resume:
        print(f"no checkpoint at {args.checkpoint}; starting fresh", flush=True)

    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"LiteUNet channels={model.channels} blocks={model.blocks} params={n_params} "
        f"GMAC@256^2={count_macs(model) / 1e9:.2f}",
        flush=True,
    )
    if total > 0:
        print(f"schedule: {total} steps (deterministic)", flush=True)
    else:
        end = time.strftime("%H:%M:%S", time.localtime(deadline))
        print(f"schedule: adaptive, cosine sized to end at {end}", flush=True)
    sigma_max = hp["sigma_max"] / 255.0

    def save(step_now: int) -> None:
        nonlocal last_val
        if val_images:
            last_val = validate(model, val_images, 25.0 / 255.0, hp.get("gradient_step", False))
        state = {
            "arch": model_arch(model),
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "step": step_now,
            "total": total,
            "deadline": deadline,
            "progress": progress,
            "gen_state": gen.get_state(),
            "torch_state": torch.get_rng_state(),
            "history": history,
            "last_val": last_val,
            "args": hp,
        }
        args.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        tmp = args.checkpoint.with_name(args.checkpoint.name + ".tmp")
        torch.save(state, tmp)
        tmp.replace(args.checkpoint)
        if args.export is not None:
            export(model, args.export, state, last_val)
        val_s = f"{last_val:.3f} dB" if last_val is not None else "n/a"
        tqdm.write(
            f"[{time.strftime('%H:%M:%S')}] checkpoint step {step_now} progress {progress:.3f} "
            f"lr {opt.param_groups[0]['lr']:.2e} val Set12 sigma25 PSNR {val_s}"
        )
        history.append({"step": step_now, "val": last_val, "time": time.time()})

    stop = {"flag": False}

    def on_signal(signum: int, frame: object) -> None:
        stop["flag"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    model.train()
    bar = tqdm(initial=step, dynamic_ncols=True, mininterval=10.0, unit="step")
    t_last_ckpt = time.time()
    sec_per_step, t_prev, run_loss = 0.0, time.time(), 0.0
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
        if step < hp["warmup"]:
            lr = hp["lr"] * (step + 1) / hp["warmup"]
        else:
            lr = hp["lr_final"] + 0.5 * (hp["lr"] - hp["lr_final"]) * (
                1.0 + math.cos(math.pi * min(progress, 1.0))
            )
        for group in opt.param_groups:
            group["lr"] = lr
        clean = sample_batch(images, hp["batch"], hp["patch"], gen)
        sig = torch.rand(hp["batch"], generator=gen) * sigma_max
        noisy = clean + sig.view(-1, 1, 1, 1) * torch.randn(clean.shape, generator=gen)
        out = denoise(model, noisy, sig, hp.get("gradient_step", False), train=True)
        if progress >= hp["l2_from"]:
            loss = F.mse_loss(out, clean)
        else:
            loss = F.l1_loss(out, clean)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        now = time.time()
        dt, t_prev = now - t_prev, now
        sec_per_step = dt if sec_per_step == 0.0 else 0.995 * sec_per_step + 0.005 * dt
        run_loss = 0.98 * run_loss + 0.02 * float(loss.detach())
        bar.update(1)
        if step % 100 == 0:
            new_threads = pick_threads(args.threads, threads)
            if new_threads != threads:
                threads = new_threads
                torch.set_num_threads(threads)
            bar.set_postfix(
                loss=f"{run_loss:.5f}", lr=f"{lr:.2e}", p=f"{progress:.3f}", thr=threads
            )
        if now - t_last_ckpt > args.ckpt_minutes * 60.0:
            save(step)
            t_last_ckpt = time.time()
            t_prev = t_last_ckpt
    bar.close()
    save(step)
    print("stopped (checkpoint saved)" if stop["flag"] else "done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
