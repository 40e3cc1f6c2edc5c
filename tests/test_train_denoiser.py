"""The denoiser training (tools/): patches on a device, the Hessian penalty, widening, a tiny run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch

TOOLS = Path(__file__).resolve().parents[1] / "tools"
sys.path.insert(0, str(TOOLS))

from denoiser_training import (  # noqa: E402
    PatchSource,
    _unet,
    dihedral,
    hessian_spectral_norm,
    widen,
)

unet = _unet()


def tiny_net(seed: int = 0, channels=(8, 16), blocks=(1, 1)) -> torch.nn.Module:
    """A small smooth LiteUNet with random weights (float64 for exact checks)."""
    torch.manual_seed(seed)
    return unet.LiteUNet(channels=channels, blocks=blocks, activation="silu").double()


def test_widened_network_computes_the_same_function():
    net = tiny_net()
    wide = widen(net, 2, jitter=0.0).double()
    assert wide.channels == (16, 32)
    assert sum(p.numel() for p in wide.parameters()) > 3 * sum(p.numel() for p in net.parameters())
    x = torch.rand(2, 1, 16, 16, dtype=torch.float64)
    sigma = torch.tensor([0.05, 0.1], dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(wide(x, sigma), net(x, sigma), atol=1e-12)
        jittered = widen(net, 2, jitter=1e-3).double()
        gap = (jittered(x, sigma) - net(x, sigma)).abs().max()
    assert 0 < gap < 1e-2  # the copies differ, the function barely


def test_hessian_norm_is_the_largest_eigenvalue_of_the_hessian():
    net = tiny_net(1)
    x = torch.rand(1, 1, 8, 8, dtype=torch.float64)
    sigma = torch.tensor([0.1], dtype=torch.float64)

    def grad(z: torch.Tensor) -> torch.Tensor:
        return unet.potential_and_gradient(net, z, sigma)[1]

    # the Hessian column by column, by central differences of ∇g_σ
    eps, n = 1e-5, x.numel()
    cols = []
    for i in range(n):
        e = torch.zeros(n, dtype=torch.float64)
        e[i] = eps
        e = e.view_as(x)
        cols.append(((grad(x + e) - grad(x - e)) / (2 * eps)).flatten())
    hessian = torch.stack(cols, dim=1)
    assert torch.allclose(hessian, hessian.T, atol=1e-6)  # ∇²g_σ is symmetric
    largest = torch.linalg.eigvalsh(0.5 * (hessian + hessian.T)).abs().max()
    gen = torch.Generator().manual_seed(0)
    estimate = hessian_spectral_norm(net, x, sigma, iterations=300, create_graph=False, gen=gen)
    assert estimate.shape == (1,)
    assert float(estimate[0]) == pytest.approx(float(largest), rel=1e-3)
    few = hessian_spectral_norm(net, x, sigma, iterations=2, create_graph=False, gen=gen)
    assert float(few[0]) <= float(largest) * (1 + 1e-6)  # a power-iteration estimate is from below


def test_hessian_penalty_lowers_the_norm_it_penalises():
    net = tiny_net(2).float()
    x = torch.rand(2, 1, 16, 16)
    sigma = torch.tensor([0.05, 0.05])
    with torch.no_grad():  # make the Hessian large: scale the tail so that N_σ moves a lot
        net.tail.weight.mul_(20.0)
    before = hessian_spectral_norm(net, x, sigma, 20, create_graph=False).max()
    assert before > 1.0
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(30):
        norms = hessian_spectral_norm(net, x, sigma, 3)
        penalty = torch.clamp(norms, min=0.9).mean()
        opt.zero_grad()
        penalty.backward()
        opt.step()
    after = hessian_spectral_norm(net, x, sigma, 20, create_graph=False).max()
    assert after < 0.7 * before


def test_patches_are_augmented_crops_and_seeded():
    images = [torch.rand(20, 20) for _ in range(3)]
    source = PatchSource(images, 8)
    a = source.sample(16, torch.Generator().manual_seed(5))
    b = source.sample(16, torch.Generator().manual_seed(5))
    assert a.shape == (16, 1, 8, 8) and torch.equal(a, b)
    crops = {  # every 8×8 window of every image under every symmetry
        tuple(dihedral(im[t : t + 8, l : l + 8], s).flatten().tolist())
        for im in images
        for t in range(13)
        for l in range(13)
        for s in range(8)
    }
    assert all(tuple(p.flatten().tolist()) in crops for p in a[:, 0])
    mixed = PatchSource([torch.rand(20, 24), torch.rand(12, 30), torch.rand(5, 5)], 8)
    assert mixed.count == 2  # the 5×5 image is too small for a patch
    assert mixed.sample(4, torch.Generator().manual_seed(0)).shape == (4, 1, 8, 8)


def _train(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    data = tmp_path / "data"
    if not data.is_dir():
        data.mkdir()
        rng = np.random.default_rng(0)
        for i in range(4):
            img = (rng.random((40, 40)) * 255).astype(np.uint8)
            iio.imwrite(data / f"{i}.png", img)
    cmd = [
        sys.executable,
        str(TOOLS / "train_denoiser.py"),
        "--data",
        str(data),
        "--val",
        str(data),
        "--val-count",
        "1",
        "--checkpoint",
        str(tmp_path / "t.ckpt"),
        "--export",
        str(tmp_path / "t.pt"),
        "--gradient-step",
        "--activation",
        "silu",
        "--channels",
        "8",
        "16",
        "--blocks",
        "1",
        "1",
        "--patch",
        "16",
        "--batch",
        "2",
        "--warmup",
        "2",
        "--threads",
        "1",
        "--device",
        "cpu",
        *extra,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=240)


def test_a_tiny_cpu_run_checkpoints_exports_and_resumes(tmp_path: Path):
    first = _train(tmp_path, "--steps", "4", "--hessian-weight", "0.01", "--hessian-patch", "8")
    assert first.returncode == 0, first.stderr
    assert "|H g| max" in first.stdout and "done" in first.stdout
    ck = torch.load(tmp_path / "t.ckpt", map_location="cpu", weights_only=False)
    assert ck["step"] == 4
    model, meta = unet.load_network(tmp_path / "t.pt", "test")
    assert meta["training"]["steps"] == 4
    assert "max(|H g|" in meta["training"]["hessian_penalty"]
    assert meta["training"]["hessian_norm_recent"] > 0
    again = _train(tmp_path, "--resume", "--steps", "7")
    assert again.returncode == 0, again.stderr
    assert "resumed at step 4" in again.stdout
    assert torch.load(tmp_path / "t.ckpt", map_location="cpu", weights_only=False)["step"] == 7


def test_a_minutes_budget_ends_on_time_with_the_exported_file(tmp_path: Path):
    done = _train(tmp_path, "--minutes", "0.05", "--log-seconds", "1")
    assert done.returncode == 0, done.stderr
    assert "schedule: adaptive" in done.stdout
    assert (tmp_path / "t.pt").is_file()
    assert torch.load(tmp_path / "t.ckpt", map_location="cpu", weights_only=False)["step"] > 0


def test_asking_for_a_missing_gpu_is_one_clear_message(tmp_path: Path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    run = _train(tmp_path, "--steps", "1", "--device", "cuda")
    assert run.returncode != 0
    assert "no CUDA device is available" in run.stderr
    assert "Traceback" not in run.stderr
