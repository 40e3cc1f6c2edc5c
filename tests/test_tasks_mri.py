"""The mri task: masked Fourier operator, k-space masks, the build, FIMA's monotonicity, improvement."""

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.algorithm import run
from core.io import InputError, load_image, resources_dir
from core.metrics import psnr
from core.operators import MaskedFourier, power_iteration
from core.tasks import build_task
from core.tasks.masks import GENERATORS, is_dc_centred, load_mask, make_mask

from .helpers import random_module

SHARED_MASKS = Path(__file__).resolve().parents[2] / "shared" / "data" / "mri" / "masks"
REL = 1e-6


def assert_monotone(records):
    objectives = [r.objective for r in records]
    for k, (a, b) in enumerate(zip(objectives, objectives[1:], strict=False)):
        assert b <= a + REL * abs(a), f"Ψ rose at k={k + 1}: {a} -> {b}"


def small_brain(n: int = 64) -> torch.Tensor:
    image = load_image(resources_dir() / "samples" / "brain.png", grayscale=True)
    return F.adaptive_avg_pool2d(image, n)


@pytest.mark.parametrize("shape", [(16, 20), (15, 17)])
def test_masked_fourier_adjoint_solve_and_norm(shape):
    rng = np.random.default_rng(0)
    mask = rng.random(shape) < 0.3  # not conjugate-symmetric on purpose
    mask[shape[0] // 2, shape[1] // 2] = True
    op = MaskedFourier(mask)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn((1, 1, *shape), generator=gen)
    y = torch.complex(torch.randn((1, 1, *shape), generator=gen), torch.randn((1, 1, *shape)))
    lhs = float((op.forward(x).conj() * y).sum().real)
    assert lhs == pytest.approx(float((x * op.adjoint(y)).sum()), rel=1e-4, abs=1e-4)
    assert torch.allclose(op.gram(x), op.adjoint(op.forward(x)), atol=1e-5)
    solved = op.solve_normal(x, 0.3)
    assert torch.allclose(op.gram(solved) + 0.3 * solved, x, atol=1e-5)
    assert op.norm_sq() == pytest.approx(1.0)
    assert power_iteration(op.gram, (1, 1, *shape), 200) == pytest.approx(1.0, abs=1e-3)
    assert op.sampling_rate() == pytest.approx(mask.mean())


@pytest.mark.parametrize("pattern", sorted(GENERATORS))
@pytest.mark.parametrize("percent", [10, 25])
def test_mask_generators_hit_the_rate_with_a_seed(pattern, percent):
    mask, info = make_mask(f"{pattern}:{percent}", (64, 64), seed=3)
    assert mask.dtype == bool and mask.shape == (64, 64)
    assert info["sampling_rate"] == pytest.approx(percent / 100, abs=0.025)
    assert mask[32, 32], "DC (the centre) is sampled"
    assert is_dc_centred(mask)
    again, _ = make_mask(f"{pattern}:{percent}", (64, 64), seed=3)
    assert np.array_equal(mask, again)


def test_mask_files_both_conventions_and_errors(tmp_path):
    centred, _ = make_mask("gauss2d:20", (32, 32), seed=0)
    np.save(tmp_path / "centred.npy", centred.astype(np.uint8))
    np.save(tmp_path / "corner.npy", np.fft.ifftshift(centred).astype(np.float64))
    for name in ("centred.npy", "corner.npy"):
        mask, info = make_mask(str(tmp_path / name), (32, 32))
        assert np.array_equal(mask, centred), name
    assert make_mask(str(tmp_path / "corner.npy"), (32, 32))[1]["convention"] == "corner"
    forced, info = make_mask(f"corner:{tmp_path / 'centred.npy'}", (32, 32))
    assert info["convention"] == "corner" and not np.array_equal(forced, centred)
    with pytest.raises(InputError, match="image is"):
        make_mask(str(tmp_path / "centred.npy"), (16, 16))
    for bad in ("radail:20", "radial:abc", "radial:0", "radial:150", str(tmp_path / "no.npy")):
        with pytest.raises(InputError):
            make_mask(bad, (32, 32))


def test_shared_dc_centred_mask_loads_as_it_is(device):
    path = SHARED_MASKS / "Radial_20.npy"
    if not path.is_file():
        pytest.skip("../shared/data/mri/masks is not available")
    raw = np.load(path)
    mask, convention = load_mask(path, raw.shape)
    assert convention == "centred"
    assert np.array_equal(mask, raw > 0)
    setup = build_task("mri", small_brain(256), mask=str(path), module="tv", device=device)
    assert setup.problem.info["sampling_rate"] == pytest.approx(raw.mean())


def test_build_from_the_sample(device):
    setup = build_task("mri", module="tv", device=device)
    problem = setup.problem
    mask = problem.info["mask"]
    assert isinstance(mask, np.ndarray) and mask.dtype == bool
    assert mask.shape == tuple(problem.x0.shape[-2:]) == (256, 256)
    assert problem.info["sampling_rate"] == pytest.approx(0.2, abs=0.01)
    assert torch.equal(problem.observation_image, problem.x0)
    assert problem.x0.dtype == torch.float32 and not problem.x0.is_complex()
    assert problem.lipschitz == pytest.approx(1.0)
    assert setup.parameters.conditions_hold(problem.lipschitz)
    assert setup.settings["mask"] == "radial:20" and "sampling_rate" not in setup.settings


@pytest.mark.parametrize("noise_model", ["gaussian", "rician"])
def test_fima_is_monotone_and_improves_on_the_zero_filled_image(noise_model, device):
    setup = build_task(
        "mri", small_brain(), mask="radial:30", module="tv", noise_model=noise_model, device=device
    )
    problem = setup.problem
    records = run(problem, setup.module, setup.parameters, "fima", iterations=15)
    assert_monotone(records)
    assert any(r.accepted for r in records)
    assert records[-1].psnr > psnr(problem.x0, problem.ground_truth) + 1.0
    noisy = run(problem, random_module(), setup.parameters, "fima", iterations=15)
    assert_monotone(noisy)


def test_bad_options_are_refused():
    with pytest.raises(InputError, match="noise_model"):
        build_task("mri", small_brain(), noise_model="poisson", module="tv", device="cpu")
    with pytest.raises(InputError):
        build_task("mri", small_brain(), mask="spiral:20", module="tv", device="cpu")
