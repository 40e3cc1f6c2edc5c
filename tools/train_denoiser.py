"""Train the noise-level-conditional CNN denoiser (core/modules/unet.py) on a folder of images.

Random patches with flips/rot90, sigma uniform in [0, --sigma-max/255] per patch, Gaussian noise
in float (no clipping, no quantisation), L1 loss (L2 for the last part), Adam with linear warm-up
and cosine decay. The total number of steps is either given (--steps) or sized from the measured
throughput to fit --hours. Checkpoints (model + optimizer + step + RNG) every --ckpt-minutes,
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
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm


def _load_unet_module():
    """Import core/modules/unet.py by path (pure torch; independent of the core package)."""
    path = Path(__file__).resolve().parents[1] / "core" / "modules" / "unet.py"
    spec = importlib.util.spec_from_file_location("fima_unet", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fima_unet"] = mod
    spec.loader.exec_module(mod)
    return mod


_unet = _load_unet_module()
LiteUNet = _unet.LiteUNet
build_model, model_arch, save_weights, count_macs = (
    _unet.build_model,
    _unet.model_arch,
    _unet.save_weights,
    _unet.count_macs,
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


@torch.inference_mode()
def validate(model: LiteUNet, images: list[torch.Tensor], sigma: float) -> float:
    """Average PSNR of the model on images (H, W) at noise level sigma (seed = image index)."""
    model.eval()
    vals = []
    m = model.multiple
    for i, img in enumerate(images):
        x = img[None, None]
        y = noisy_copy(x, sigma, seed=i)
        h, w = x.shape[-2:]
        yp = F.pad(y, (0, (-w) % m, 0, (-h) % m), mode="reflect")
        d = model(yp, torch.tensor([sigma]))[..., :h, :w]
        vals.append(psnr(d, x))
    model.train()
    return float(np.mean(vals))


def lr_at(step: int, total: int, base: float, warmup: int, final: float) -> float:
    """Linear warm-up then cosine decay from base to final."""
    if step < warmup:
        return base * (step + 1) / warmup
    t = min(1.0, (step - warmup) / max(1, total - warmup))
    return final + 0.5 * (base - final) * (1.0 + math.cos(math.pi * t))


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
    ap.add_argument("--channels", type=int, nargs="+", default=[32, 64, 128])
    ap.add_argument("--blocks", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--patch", type=int, default=80)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--sigma-max", type=float, default=55.0, help="max training sigma, 0-255 scale")
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--lr-final", type=float, default=2e-6)
    ap.add_argument("--warmup", type=int, default=1000)
    ap.add_argument("--l2-from", type=float, default=0.8, help="switch L1 -> L2 at this fraction")
    ap.add_argument("--steps", type=int, default=0, help="total steps (0: size from --hours)")
    ap.add_argument("--hours", type=float, default=2.0, help="time budget used to size --steps")
    ap.add_argument("--ckpt-minutes", type=float, default=4.0)
    ap.add_argument("--threads", type=int, default=2)
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
        "optimizer": f"Adam lr {state['args']['lr']} warm-up + cosine",
        "seed": int(state["args"]["seed"]),
        "val_set12_sigma25_psnr": float(val_psnr) if val_psnr is not None else -1.0,
        "exported": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    save_weights(model, path, info)


def main(argv: list[str] | None = None) -> int:
    """Train (or resume, or export) the denoiser."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)

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
    model = LiteUNet(channels=tuple(args.channels), blocks=tuple(args.blocks))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step, total, history, last_val = 0, args.steps, [], None
    saved_args = {**vars(args), "data_name": args.data.name}
    saved_args = {k: (str(v) if isinstance(v, Path) else v) for k, v in saved_args.items()}

    if args.resume and args.checkpoint.is_file():
        ck = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        model = build_model(ck["arch"])
        model.load_state_dict(ck["model"])
        opt = torch.optim.Adam(model.parameters(), lr=ck["args"]["lr"])
        opt.load_state_dict(ck["optimizer"])
        gen.set_state(ck["gen_state"])
        torch.set_rng_state(ck["torch_state"])
        step, total, history = ck["step"], ck["total"], ck["history"]
        last_val = ck.get("last_val")
        saved_args = ck["args"]
        if args.steps > 0 and args.steps != total:
            total = args.steps
            saved_args["steps"] = args.steps
            print(f"total steps changed to {total} (cosine schedule re-sized)", flush=True)
        print(f"resumed at step {step} / {total}", flush=True)
    elif args.resume:
        print(f"no checkpoint at {args.checkpoint}; starting fresh", flush=True)

    hp = saved_args
    n_params = sum(p.numel() for p in model.parameters())
    print(
        f"LiteUNet channels={model.channels} blocks={model.blocks} params={n_params} "
        f"GMAC@256^2={count_macs(model) / 1e9:.2f}",
        flush=True,
    )
    sigma_max = hp["sigma_max"] / 255.0

    def save(step_now: int) -> None:
        nonlocal last_val
        if val_images:
            last_val = validate(model, val_images, 25.0 / 255.0)
        state = {
            "arch": model_arch(model),
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "step": step_now,
            "total": total,
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
            f"[{time.strftime('%H:%M:%S')}] checkpoint step {step_now}/{total} "
            f"val Set12 sigma25 PSNR {val_s}"
        )
        history.append({"step": step_now, "val": last_val, "time": time.time()})

    model.train()
    calib_from, calib_to, t_calib = 50, 250, 0.0
    if total <= 0:
        total = 10**9  # placeholder until throughput is measured
    bar = tqdm(total=total, initial=step, dynamic_ncols=True, mininterval=5.0)
    t_last_ckpt = time.time()
    t_start = time.time()
    run_loss = 0.0
    while step < total:
        if hp.get("steps", 0) <= 0 and total == 10**9 and step == calib_from:
            t_calib = time.time()
        if hp.get("steps", 0) <= 0 and total == 10**9 and step == calib_to:
            per_step = (time.time() - t_calib) / (calib_to - calib_from)
            budget = hp["hours"] * 3600.0 - (time.time() - t_start)
            total = step + int(budget / per_step)
            bar.total = total
            bar.refresh()
            tqdm.write(
                f"throughput {1 / per_step:.2f} steps/s = {hp['batch'] / per_step:.1f} patches/s "
                f"({hp['patch']}x{hp['patch']}); total steps set to {total}"
            )
        lr = lr_at(step, total if total != 10**9 else 10**6, hp["lr"], hp["warmup"], hp["lr_final"])
        for group in opt.param_groups:
            group["lr"] = lr
        clean = sample_batch(images, hp["batch"], hp["patch"], gen)
        sig = torch.rand(hp["batch"], generator=gen) * sigma_max
        noisy = clean + sig.view(-1, 1, 1, 1) * torch.randn(clean.shape, generator=gen)
        out = model(noisy, sig)
        if step >= hp["l2_from"] * total:
            loss = F.mse_loss(out, clean)
        else:
            loss = F.l1_loss(out, clean)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        run_loss = 0.98 * run_loss + 0.02 * float(loss)
        bar.update(1)
        if step % 100 == 0:
            bar.set_postfix(loss=f"{run_loss:.5f}", lr=f"{lr:.2e}")
        if time.time() - t_last_ckpt > args.ckpt_minutes * 60.0:
            save(step)
            t_last_ckpt = time.time()
    bar.close()
    save(step)
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
