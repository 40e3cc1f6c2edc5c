"""core.precision: the exact-float32 scope saves, applies and restores torch's settings, reentrant
and shared by threads; the learned priors and the build enter it by themselves."""

from __future__ import annotations

import threading

import pytest
import torch

from core import precision
from core.precision import exact_float32, is_exact, settings

from .helpers import small_gs_weights

USER_STATES = {
    "default": lambda: None,
    "tf32 on (legacy)": lambda: setattr(torch.backends.cudnn, "allow_tf32", True),
    "matmul high": lambda: torch.set_float32_matmul_precision("high"),
    "matmul medium": lambda: torch.set_float32_matmul_precision("medium"),
    "cudnn off (legacy)": lambda: setattr(torch.backends.cudnn, "allow_tf32", False),
    "cudnn autotuning": lambda: setattr(torch.backends.cudnn, "benchmark", True),
}
if hasattr(torch.backends.cudnn, "conv"):  # torch ≥ 2.9: per-backend settings
    USER_STATES["conv ieee (new API)"] = lambda: setattr(
        torch.backends.cudnn.conv, "fp32_precision", "ieee"
    )
    USER_STATES["oneDNN bf16 (new API)"] = lambda: setattr(
        torch.backends.mkldnn.matmul, "fp32_precision", "bf16"
    )


@pytest.fixture
def user_settings():
    """Whatever a test sets is undone afterwards (torch's settings are process-global)."""
    saved = settings()
    yield
    precision._apply(saved)
    assert settings() == saved


@pytest.mark.parametrize("state", sorted(USER_STATES))
def test_the_scope_is_exact_and_gives_the_users_settings_back(state, user_settings):
    USER_STATES[state]()
    before = settings()
    with exact_float32():
        assert is_exact()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        if before["legacy"] is not None:  # both APIs read sensibly inside
            assert not torch.backends.cudnn.allow_tf32
            assert not torch.backends.cuda.matmul.allow_tf32
            assert torch.get_float32_matmul_precision() == "highest"
    assert settings() == before


def test_nested_scopes_restore_once_at_the_outermost_exit(user_settings):
    torch.backends.cudnn.allow_tf32 = True
    with exact_float32():
        with exact_float32():
            assert precision.exact_depth() == 2
        assert is_exact() and precision.exact_depth() == 1
    assert torch.backends.cudnn.allow_tf32 and precision.exact_depth() == 0


def test_an_error_inside_still_restores(user_settings):
    torch.set_float32_matmul_precision("high")
    with pytest.raises(RuntimeError), exact_float32():
        raise RuntimeError("boom")
    assert torch.get_float32_matmul_precision() == "high"


def test_overlapping_scopes_of_two_threads_never_restore_half_way(user_settings):
    """A leaves while B is still inside: the settings stay exact until B leaves too."""
    torch.backends.cudnn.allow_tf32 = True
    a_inside, b_inside, a_left, b_may_leave = (threading.Event() for _ in range(4))
    seen: dict[str, bool] = {}

    def thread_a():
        with exact_float32():
            a_inside.set()
            b_inside.wait(5)
        a_left.set()

    def thread_b():
        a_inside.wait(5)
        with exact_float32():
            b_inside.set()
            a_left.wait(5)
            seen["exact after A left"] = is_exact()
            b_may_leave.wait(5)

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    a_left.wait(5)
    b_may_leave.set()
    for t in threads:
        t.join(5)
    assert seen == {"exact after A left": True}
    assert torch.backends.cudnn.allow_tf32 and precision.exact_depth() == 0


def test_the_learned_prior_evaluates_in_the_scope_whoever_calls(
    tmp_path, monkeypatch, user_settings
):
    """A refinement (outside the engine) evaluates the prior: that evaluation is exact too."""
    from core.learned_prior import GradientStepPrior

    prior = GradientStepPrior(weight=0.5, sigma=15 / 255, weights=small_gs_weights(tmp_path))
    seen = []
    residual = prior.network.predict_noise

    def spy(*args, **kwargs):
        seen.append(is_exact())
        out = residual(*args, **kwargs)
        if out.requires_grad:  # the backward pass (∇g_σ) runs later: its precision too
            out.register_hook(lambda grad: seen.append(is_exact()))
        return out

    monkeypatch.setattr(prior.network, "predict_noise", spy)
    torch.set_float32_matmul_precision("high")
    x = torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    assert prior.evaluate(x).gradient.shape == x.shape
    prior.value(x)
    prior.denoise(x)
    prior.lipschitz_points = [x]
    prior.lipschitz()
    assert seen and all(seen)
    assert torch.get_float32_matmul_precision() == "high" and not is_exact()
