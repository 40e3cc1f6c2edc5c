"""The device lane: Prop. 1 (Ψ non-increasing) on every device at a real size, the engine's exact
float32 scope, and CPU ≡ CUDA.

Every test here runs on the CPU and on CUDA (``device``: the cuda parameter skips, with its reason,
where there is none). On the CPU the monotonicity runs are small (128²); on CUDA they run at 1024²,
where TF32 made Ψ rise by 2·10⁻⁵ of its value before the engine scoped IEEE float32. Run the lane
alone (no PySide6, no imagecodecs needed) with::

    python -m pytest tests -m device_lane --ignore-glob='tests/test_gui_*' --ignore=tests/test_png.py
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core import precision
from core.algorithm import iterate, run
from core.io import load_image, resources_dir
from core.tasks import build_task

from .conftest import CUDA
from .helpers import FunctionModule, deblur_problem, params

pytestmark = pytest.mark.device_lane
REL = 1e-6  # Ψ may rise by float32 round-off only: 1e-6 of its value
ITERATIONS = 40
POLICIES = ("always", "adaptive")  # core/proposal.py: propose every iteration, or back off


def lane_size(device: str) -> int:
    """1024² on CUDA (the size TF32 broke), 128² on the CPU (the same code, affordable)."""
    return 1024 if device == "cuda" else 128


def sample(size: int) -> torch.Tensor:
    """The bundled house picture resampled to size × size."""
    image = load_image(resources_dir() / "samples" / "house.png", grayscale=True)
    return F.interpolate(image, size=(size, size), mode="bilinear", align_corners=False)


def assert_monotone(objectives: list[float]) -> None:
    """Ψ(x^{k+1}) ≤ Ψ(x^k) + 1e-6·|Ψ(x^k)| at every k (all finite)."""
    assert all(math.isfinite(v) for v in objectives)
    for k, (a, b) in enumerate(zip(objectives, objectives[1:], strict=False)):
        assert b <= a + REL * abs(a), f"Ψ rose at k={k + 1}: {a} -> {b} ({(b - a) / abs(a):.2e})"


@pytest.fixture
def user_settings():
    """The test's own torch settings are undone afterwards (they are process-global)."""
    saved = precision.settings()
    yield
    precision._apply(saved)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("task", ["deblur", "denoise"])
def test_psi_is_monotone_over_40_fima_iterations(task, policy, device):
    """The task's default Ψ (learned) and module (CNN, refined), fima, both proposal policies."""
    setup = build_task(task, sample(lane_size(device)), device=device)
    assert setup.problem.x0.device.type == device
    records = run(setup.problem, setup.module, setup.parameters, "fima", ITERATIONS, propose=policy)
    assert len(records) == ITERATIONS and not any(r.diverged for r in records)
    assert records[-1].x.device.type == device
    assert_monotone([r.objective for r in records])


def test_the_same_run_twice_gives_the_same_trace(device):
    """Same session, same device, same trace: the learned Ψ's backward passes are deterministic
    (cuDNN's deterministic algorithms in the exact scope; the prior's padding has no atomics)."""
    image = torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(1))  # 40: padded

    def trace():
        setup = build_task("deblur", image, module="none", kernel="gauss:1", device=device)
        records = run(setup.problem, setup.module, setup.parameters, "fima", 3, propose="always")
        rows = [{k: v for k, v in r.row().items() if k != "seconds"} for r in records]
        return rows, records[-1].x.cpu()

    (first, x1), (second, x2) = trace(), trace()
    assert first == second and torch.equal(x1, x2)


class SpyModule(FunctionModule):
    """A sensible module (the fidelity prox) that records whether it ran in the exact scope."""

    def __init__(self, seen: list):
        super().__init__(lambda x, k: x, "spy")
        self.seen = seen

    def __call__(self, x, k, params, problem):
        self.seen.append(("module", precision.is_exact(), torch.backends.cudnn.allow_tf32))
        return problem.fidelity.prox(x, params.rho)


def test_the_engine_evaluates_without_tf32_and_gives_the_users_settings_back(
    device, monkeypatch, user_settings
):
    """TF32 on (the user's choice): Ψ and ∇f are evaluated in IEEE float32, the module and the code
    between iterations see the user's settings, which are untouched after the run."""
    torch.backends.cudnn.allow_tf32 = True
    torch.set_float32_matmul_precision("high")
    user = precision.settings()
    problem = deblur_problem(device=device)
    seen: list[tuple] = []
    residual = problem.fidelity.residual

    def spy(x):
        seen.append(("Ψ", precision.is_exact(), torch.backends.cudnn.allow_tf32))
        return residual(x)

    monkeypatch.setattr(problem.fidelity, "residual", spy)
    between = []
    for _record in iterate(
        problem, SpyModule(seen), params(), "fima", max_iter=6, propose="always"
    ):
        between.append(precision.settings() == user and precision.exact_depth() == 0)
    evaluations = [s for s in seen if s[0] == "Ψ"]
    proposals = [s for s in seen if s[0] == "module"]
    assert evaluations and all(exact and not tf32 for _, exact, tf32 in evaluations)
    assert len(proposals) == 6 and all(not exact and tf32 for _, exact, tf32 in proposals)
    assert all(between)  # a suspended generator holds no setting
    assert precision.settings() == user
    assert torch.backends.cudnn.allow_tf32 and torch.get_float32_matmul_precision() == "high"


def test_the_learned_prior_and_the_build_run_without_tf32(device, monkeypatch, user_settings):
    """The learned Ψ's network passes (forward and ∇) are exact in the build (L_g) and the run."""
    torch.backends.cudnn.allow_tf32 = True
    user = precision.settings()
    setup = build_task("deblur", sample(48), module="none", device=device)
    network = setup.problem.prior.network
    seen: list[bool] = []
    forward = network.predict_noise

    def spy(*args, **kwargs):
        seen.append(precision.is_exact())
        out = forward(*args, **kwargs)
        if out.requires_grad:
            out.register_hook(lambda grad: seen.append(precision.is_exact()))
        return out

    monkeypatch.setattr(network, "predict_noise", spy)
    records = run(setup.problem, setup.module, setup.parameters, "fima", 3, propose="always")
    assert len(records) == 3 and seen and all(seen)
    assert precision.settings() == user


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
def test_the_exact_scope_computes_in_ieee_float32_on_cuda(user_settings):
    """On this GPU and torch: with TF32 allowed by the user, a convolution and a matrix product in
    the scope agree with float64 to float32 round-off."""
    torch.backends.cudnn.allow_tf32 = True
    torch.set_float32_matmul_precision("high")
    gen = torch.Generator().manual_seed(0)
    x, w = torch.randn(1, 64, 128, 128, generator=gen), torch.randn(64, 64, 3, 3, generator=gen)
    a, b = torch.randn(512, 512, generator=gen), torch.randn(512, 512, generator=gen)
    conv64 = F.conv2d(x.double(), w.double(), padding=1)
    mm64 = a.double() @ b.double()
    with precision.exact_float32():
        conv = F.conv2d(x.cuda(), w.cuda(), padding=1).double().cpu()
        mm = (a.cuda() @ b.cuda()).double().cpu()

    def error(t, ref):
        return float((t - ref).abs().max() / ref.abs().max())

    assert error(conv, conv64) < 1e-5 and error(mm, mm64) < 1e-5
    assert torch.backends.cudnn.allow_tf32 and torch.get_float32_matmul_precision() == "high"


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
def test_cpu_and_cuda_runs_give_the_same_result(tmp_path):
    """`fima run --task deblur`, 30 iterations (128²): final images within 1e-3, PSNR within 0.05 dB."""
    from core.cli import main
    from core.trace import read_trace_csv

    results, scores = {}, {}
    for device in ("cpu", "cuda"):
        out = tmp_path / device
        argv = ["run", "--task", "deblur", "--iters", "30", "--downscale", "2", "--quiet"]
        assert main([*argv, "--device", device, "--out", str(out)]) == 0
        results[device] = np.load(out / "result.npy")
        scores[device] = read_trace_csv(out / "trace.csv")[-1]["psnr"]
    assert np.abs(results["cpu"] - results["cuda"]).max() < 1e-3
    assert scores["cpu"] == pytest.approx(scores["cuda"], abs=0.05)
